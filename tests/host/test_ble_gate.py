"""`bzgate ble gate` on the simulated air: a host scanning as a gate writes a board's records,
chained with its own key, straight into the database (as collect stores a board's)."""

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

from blekit import at_gate, ble_json, invoke, phone_ids, phones_air
from scenariokit import DK

from bzcore import idexpand, recordread
from bzgate.keys import KeyStore

BZGATE = str(Path(sys.executable).parent / "bzgate")


def stored(db):
    with sqlite3.connect(db) as conn:
        raws = [bytes(r[0]) for r in conn.execute(
            "SELECT raw FROM records WHERE board_id = 'ble:front' ORDER BY seq")]
        sightings = conn.execute("SELECT hex(id), platform, source, count FROM sightings "
                                 "WHERE board_id = 'ble:front' ORDER BY seq").fetchall()
        events = [r[0] for r in conn.execute("SELECT name FROM events ORDER BY seq")]
    return raws, sightings, events


def booted(db):
    """Whether the gate has journaled its boot: not while the file is there without its tables."""
    try:
        return db.exists() and "boot" in stored(db)[2]
    except sqlite3.OperationalError:  # the schema's transaction not yet committed
        return False


def test_android_and_iphone_visits_become_verified_records(tmp_path, monkeypatch):
    keys = tmp_path / "keys.json"
    monkeypatch.setenv("BZGATE_KEYS", str(keys))
    db = tmp_path / "bzgate.db"
    with phones_air(tmp_path, [at_gate("an", "android"), at_gate("io", "ios")]) as air:
        first = ble_json(["gate", "--gate-id", "front", "--db", str(db), "--seconds", "4"], air)
        ids = phone_ids(air)
        second = ble_json(["gate", "--gate-id", "front", "--db", str(db), "--seconds", "2"], air)
    raws, sightings, events = stored(db)
    key = KeyStore(keys).get("ble:front")
    assert key is not None and len(key) == 32
    assert recordread.verify_chain(key, raws) == (len(raws), None)  # one chain across both runs
    assert len(raws) == second["next_seq"] and first["next_seq"] < second["next_seq"]
    assert events == ["key-created", "boot", "boot"]
    assert {(i, p, s) for i, p, s, _ in sightings} == {
        (ids["an"], "android", "adv"), (ids["io"], "ios", "gatt")}
    assert all(n >= 2 for *_, n in sightings)
    assert first["reads"] >= 1 and first["read_failures"] == 0


def test_a_failed_read_is_not_retried_and_the_visit_is_kept(tmp_path, monkeypatch):
    monkeypatch.setenv("BZGATE_KEYS", str(tmp_path / "keys.json"))
    db = tmp_path / "bzgate.db"
    with phones_air(tmp_path, [at_gate("io", "ios")], faults={"gatt_fail_share": 1.0}) as air:
        summary = ble_json(["gate", "--gate-id", "front", "--db", str(db), "--seconds", "3"], air)
    assert summary["reads"] == 0 and summary["read_failures"] == 1
    _, sightings, _ = stored(db)
    assert [(i, p, s) for i, p, s, _ in sightings] == [("", "ios", "adv")]  # hex(NULL): no ID


def test_ctrl_c_stores_the_visits_under_way(tmp_path):
    db = tmp_path / "bzgate.db"
    with phones_air(tmp_path, [at_gate("an", "android")]) as air:
        env = dict(os.environ, BZSIM_AIR=air.address, BZGATE_KEYS=str(tmp_path / "keys.json"))
        process = subprocess.Popen(
            [BZGATE, "ble", "gate", "--gate-id", "front", "--db",
             str(db), "--json"], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            text=True)
        try:
            deadline = time.monotonic() + 30
            # Running, and it has heard the phone enough for a visit (two adverts make one).
            while not booted(db) or sum(
                    board["heard"] for board in air.boards()) < 10:
                assert process.poll() is None and time.monotonic() < deadline
                time.sleep(0.2)
            process.send_signal(signal.SIGINT)
            out, err = process.communicate(timeout=20)
        finally:
            process.kill()
        an = phone_ids(air)["an"]
    assert process.returncode == 0, err
    assert json.loads(out)["stored"]["sightings"] == 1
    assert [(i, s) for i, _, s, _ in stored(db)[1]] == [(an, "adv")]


def test_trace_finds_a_phone_the_host_gate_recorded(tmp_path, monkeypatch):
    """The records are a gate's like any other: trace --f0 finds the phone whose key is
    published, under each ID the gate recorded (two when the run spans a 15-minute slot's end).
    The scenario runs on this computer's clock, which stamps the records."""
    monkeypatch.setenv("BZGATE_KEYS", str(tmp_path / "keys.json"))
    to_day_end = 86400 - time.time() % 86400
    if to_day_end < 60:  # the F0 case below publishes one day's key
        time.sleep(to_day_end + 1)
    start = int(time.time())
    day = start - start % 86400
    db = tmp_path / "bzgate.db"
    text = datetime.fromtimestamp(start, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    with phones_air(tmp_path, [at_gate("an", "android")], start=text) as air:
        ble_json(["gate", "--gate-id", "front", "--db", str(db), "--seconds", "3"], air)
    f0 = tmp_path / "f0.json"
    f0.write_text(json.dumps({"data": [{"daily_key": DK.hex(), "time_start": day, "max": 96,
                                        "time_end": day + 86400}]}))
    code, out, err = invoke(["trace", "--f0", str(f0), "--db", str(db), "--json"])
    assert code == 0, err
    recorded = [i for i, _, _, _ in stored(db)[1]]
    assert recorded and set(recorded) <= {i.hex().upper() for i in idexpand.day_ids(DK, 96)}
    assert sorted((m["id"], m["gate_id"]) for m in json.loads(out)["matches"]) == sorted(
        (i, "front") for i in recorded)
