"""bzgate trace: F0 keys found at the right gate and time, absent phones not, slot edges with and
without tolerance, the exposure window, the JSON shape and the audit row."""

import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from services import DB_KINDS, new_database
from tracekit import (DAY, F0_KEY, NEXT_DAY_SLOT0_ID, SLOT2_FROM, SLOT2_ID, SLOT2_TO, f0_json,
                      notification, sighting, sightings_db)

from bzcore import idexpand, ids
from bzgate import store
from bzgate.trace import matching as trace
from bzgate.cli import main
from bzgate.trace.f0 import F0Record

CASES = json.loads((Path(__file__).resolve().parents[1] / "cases" / "f0.json").read_text())
OTHER = bytes.fromhex("0102030405060708090A0B0C")  # a phone not in the F0 list
ABSENT_KEY = "FF" * 32  # an F0 whose phone never came by


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, ["trace", *args])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result.exit_code, result.stdout, result.stderr


def trace_json(db: Path, f0: dict | str, tmp_path: Path, *options: str) -> dict:
    f0_file = tmp_path / "f0.json"
    f0_file.write_text(f0 if isinstance(f0, str) else json.dumps(f0))
    code, out, err = run("--f0", str(f0_file), "--db", str(db), "--json", *options)
    assert code == 0, err
    return json.loads(out)


@pytest.mark.parametrize("case", CASES["cases"], ids=[c["name"] for c in CASES["cases"]])
def test_the_expansion_gives_the_cores_ids_and_windows(case):
    record = F0Record(bytes.fromhex(CASES["daily_key"]), idexpand.f0_seconds(case["time_start"]),
                      case["max"], idexpand.f0_seconds(case["time_end"]))
    wanted = trace.wanted_ids(trace.record_days(record))
    got = {(wanted.ids[12 * n:12 * n + 12], *wanted.window(n)) for n in range(len(wanted))}
    core = list(idexpand.expand_f0(*record))
    assert len(wanted) == len(core) == case["windows"]
    assert got == set(core)


def test_the_pick_strides_are_the_cores_pick():
    offsets = list(range(32))
    assert offsets[trace.PICK[0]] + offsets[trace.PICK[1]] == list(ids._PICK)


@pytest.fixture(scope="module", params=DB_KINDS)
def gate_db(request, tmp_path_factory, service):
    """The F0 phone at the front gate in slot 2 and just after midnight the next day; another
    phone beside it, one at the back gate at the same time, one at another site's front gate,
    one at the front much later. In an SQLite file and in a PostgreSQL database."""
    with new_database(request.param, tmp_path_factory.mktemp("trace"), service) as target:
        yield _gates(target)


def _gates(target):
    return sightings_db(target, [
        sighting(SLOT2_ID, "front", SLOT2_FROM + 300, SLOT2_FROM + 420, rssi=-48),
        sighting(NEXT_DAY_SLOT0_ID, "front", DAY + 86400 + 10, DAY + 86400 + 40, site="HQ"),
        sighting(OTHER, "front", SLOT2_FROM + 400, SLOT2_FROM + 500),
        sighting(None, "front", SLOT2_FROM + 350),  # an iPhone the gate could not read
        sighting(bytes(12), "back", SLOT2_FROM + 300),
        sighting(bytes([7]) * 12, "front", SLOT2_FROM + 300, site="Branch"),  # another building
        sighting(bytes(range(12)), "front", SLOT2_FROM + 420 + 16 * 60),
        sighting(SLOT2_ID, "front", SLOT2_FROM + 600, clock_valid=0),
    ])


def test_the_f0_phone_is_found_at_its_gate_and_time_with_the_others_there(gate_db, tmp_path):
    out = trace_json(gate_db, f0_json(), tmp_path)
    assert out["matches"] == [
        {"id": SLOT2_ID.hex().upper(), "gate_id": "front", "site": "HQ",
         "first_seen": SLOT2_FROM + 300, "last_seen": SLOT2_FROM + 420, "max_rssi": -48},
        {"id": NEXT_DAY_SLOT0_ID.hex().upper(), "gate_id": "front", "site": "HQ",
         "first_seen": DAY + 86400 + 10, "last_seen": DAY + 86400 + 40, "max_rssi": -55}]
    assert out["exposed"] == [
        {"id": None, "gate_id": "front", "site": "HQ", "first_seen": SLOT2_FROM + 350,
         "last_seen": SLOT2_FROM + 350},
        {"id": OTHER.hex().upper(), "gate_id": "front", "site": "HQ",
         "first_seen": SLOT2_FROM + 400, "last_seen": SLOT2_FROM + 500}]


def test_ids_probed_in_batches_give_the_same_result(gate_db, tmp_path, monkeypatch):
    # The absent phone's days come a week later: an ID given the wrong batch's windows is missed.
    f0 = {"data": f0_json(ABSENT_KEY, DAY + 7 * 86400, DAY + 9 * 86400 - 1)["data"]
          + f0_json()["data"]}
    together = trace_json(gate_db, f0, tmp_path)
    monkeypatch.setattr(trace, "batches", lambda records: ([record] for record in records))
    assert trace_json(gate_db, f0, tmp_path) == together
    assert len(together["matches"]) == 2


def test_batches_keep_the_days_in_order_the_first_a_quarter_of_the_others():
    days = [trace.Day(bytes([n]) * 32, DAY, 900, 96) for n in range(20)]
    got = list(trace.batches(days, size=8 * 96))
    assert [len(batch) for batch in got] == [2, 8, 8, 2]
    assert [day for batch in got for day in batch] == days


def test_a_phone_that_never_came_by_matches_nothing(gate_db, tmp_path):
    assert trace_json(gate_db, f0_json(ABSENT_KEY), tmp_path) == {"matches": [], "exposed": []}


def test_the_id_outside_the_records_days_is_not_matched(gate_db, tmp_path):
    one_day = trace_json(gate_db, f0_json(time_end=DAY + 86400 - 1), tmp_path)
    assert [m["id"] for m in one_day["matches"]] == [SLOT2_ID.hex().upper()]


def test_a_wider_window_takes_in_the_later_device(gate_db, tmp_path):
    later = bytes(range(12)).hex().upper()
    assert later not in [e["id"] for e in trace_json(gate_db, f0_json(), tmp_path)["exposed"]]
    wide = trace_json(gate_db, f0_json(), tmp_path, "--window", "17")
    assert later in [e["id"] for e in wide["exposed"]]


@pytest.fixture(scope="module", params=DB_KINDS)
def edge_db(request, tmp_path_factory, service):
    """The slot-2 ID seen for an instant at each gate, one gate per distance from its window."""
    with new_database(request.param, tmp_path_factory.mktemp("edges"), service) as target:
        yield _edges(target)


def _edges(target):
    at = {"end": SLOT2_TO, "end+30": SLOT2_TO + 30, "end+180": SLOT2_TO + 180,
          "end+181": SLOT2_TO + 181, "start-1": SLOT2_FROM - 1, "start-180": SLOT2_FROM - 180,
          "start-181": SLOT2_FROM - 181, "start": SLOT2_FROM}
    return sightings_db(target,
                        [sighting(SLOT2_ID, gate, t) for gate, t in at.items()])


def matched_gates(db: Path, tmp_path: Path, *options: str) -> set[str]:
    out = trace_json(db, f0_json(time_end=DAY + 86400 - 1), tmp_path, *options)
    return {m["gate_id"] for m in out["matches"]}


def test_exact_is_the_apps_inclusive_slot_window(edge_db, tmp_path):
    assert matched_gates(edge_db, tmp_path, "--exact") == {"start", "end"}


def test_the_default_tolerance_widens_the_window_by_180_s(edge_db, tmp_path):
    assert matched_gates(edge_db, tmp_path) == {"start", "end", "end+30", "end+180", "start-1",
                                                "start-180"}
    assert matched_gates(edge_db, tmp_path, "--tolerance", "30") == {"start", "end", "end+30",
                                                                      "start-1"}


def test_times_in_ms_and_the_notification_give_the_same_result(gate_db, tmp_path):
    plain = trace_json(gate_db, f0_json(), tmp_path)
    in_ms = f0_json(time_start=DAY * 1000, time_end=(DAY + 2 * 86400 - 1) * 1000)
    assert trace_json(gate_db, in_ms, tmp_path) == plain
    assert trace_json(gate_db, notification(f0_json()), tmp_path) == plain
    assert trace_json(gate_db, json.dumps(json.dumps(f0_json())), tmp_path) == plain


def test_the_table_names_the_matches_and_the_left_out_sightings(gate_db, tmp_path):
    (tmp_path / "f0.json").write_text(json.dumps(f0_json()))
    code, out, _ = run("--f0", str(tmp_path / "f0.json"), "--db", str(gate_db))
    assert code == 0
    assert "1 F0 record(s), 192 IDs, slot windows widened by 180 s; 2 match(es), 2 exposed" in out
    assert "1 sighting(s) of these IDs left out: the gate's clock was not set" in out
    assert f"{SLOT2_ID.hex().upper()}  front" in out
    assert "2020-09-18 07:35:00" in out  # first seen on Vietnam's clock
    assert "(iPhone, not read)" in out


def test_output_to_a_file_and_the_audit_row(gate_db, tmp_path):
    (tmp_path / "f0.json").write_text(json.dumps(f0_json()))
    before = store.open_store(gate_db).execute("SELECT max(rowid) FROM audit").fetchone()[0] or 0
    code, out, err = run("--f0", str(tmp_path / "f0.json"), "--db", str(gate_db), "--json",
                         "-o", str(tmp_path / "out.json"))
    assert code == 0 and out == ""
    assert "written to" in err
    assert len(json.loads((tmp_path / "out.json").read_text())["matches"]) == 2
    rows = store.open_store(gate_db).execute(
        "SELECT action, detail FROM audit WHERE rowid > ?", (before,)).fetchall()
    assert [action for action, _ in rows] == ["trace"]
    detail = json.loads(rows[0][1])
    assert detail["matches"] == 2 and detail["exposed"] == 2 and detail["clock_invalid"] == 1
    assert detail["ids"] == 192 and detail["tolerance_s"] == 180 and not detail["exact"]
    assert detail["matched_ids"] == sorted([SLOT2_ID.hex().upper(),
                                            NEXT_DAY_SLOT0_ID.hex().upper()])


def test_exact_and_tolerance_together_are_refused(gate_db, tmp_path):
    (tmp_path / "f0.json").write_text(json.dumps(f0_json()))
    code, _, err = run("--f0", str(tmp_path / "f0.json"), "--db", str(gate_db), "--exact",
                       "--tolerance", "60")
    assert code == 2 and "not both" in err


def test_a_missing_database_is_not_created(tmp_path):
    (tmp_path / "f0.json").write_text(json.dumps(f0_json()))
    code, _, err = run("--f0", str(tmp_path / "f0.json"), "--db", str(tmp_path / "none.db"))
    assert code == 2 and "no database at" in err
    assert not (tmp_path / "none.db").exists()


def test_f0_key_in_the_spec_is_the_kits_key():
    assert ids.id_at(bytes.fromhex(F0_KEY), SLOT2_FROM, 96) == SLOT2_ID
