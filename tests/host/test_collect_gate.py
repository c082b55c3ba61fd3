"""`bzgate collect` against a virtual gate whose journal was written with a known key: the
database ends up equal to the journal, after a re-run, a kill mid-transfer and garbage on the
link; a tampered journal (a flipped byte, a dropped record, two swapped, an old segment
replayed, records forged without the key) is refused with nothing of the bad span trusted and
its bytes kept as evidence; a rolled-back or cut journal and a missing key are refused clearly."""

import json
import os
import pty
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import pytest
from click.testing import CliRunner
from collectkit import SEGMENT, db_records, journal_bytes, segment_path, start_journal_gate
from gatekit import stop_gate, wait_until
from journalkit import flash_records

from bzcore import record
from bzgate import store
from bzgate.cli import main
from bzgate.collect.board import EXIT_REFUSED, collect
from bzgate.link.serial import GateLink
from bzgate.keys import KeyStore

RECORDS = 500
BASE = 3 * SEGMENT  # tamper tests start from a database holding seqs 0..BASE-1
BIN = Path(sys.executable).parent


@pytest.fixture(scope="module")
def journal_gate():
    # A short folder: with pytest's long temporary paths the virtual board currently runs
    # out of heap while importing the firmware.
    where = Path(tempfile.mkdtemp(prefix="bzc"))
    board, keys = start_journal_gate(where, RECORDS)
    # The BOOT event after the journal's records: on flash at the first flush (within 5 s).
    assert wait_until(lambda: len(flash_records(board.flash)) > RECORDS, timeout=30), \
        "the gate's BOOT event never reached flash"
    yield board, keys
    stop_gate(board)
    shutil.rmtree(where)


def run_collect(board, keys: KeyStore, db: Path, *extra: str):
    return CliRunner().invoke(main, ["collect", "--port", board.serial, "--db", str(db),
                                     "--keys", str(keys.path), *extra])


def table_seqs(db: Path | str) -> dict:
    with store.open_store(db) as conn:
        return {table: [row[0] for row in conn.execute(f"SELECT seq FROM {table} ORDER BY seq")]
                for table in ("records", "sightings", "decisions", "counts", "events")}


def test_collect_stores_exactly_the_journal_acks_it_and_a_second_run_stores_nothing(journal_gate, db_target):
    board, keys = journal_gate
    db = db_target
    first = run_collect(board, keys, db)
    assert first.exit_code == 0, first.output
    journal = flash_records(board.flash)
    assert db_records(db) == journal
    decoded = [record.decode(raw) for raw in journal]
    seqs = table_seqs(db)
    for kind, table in ((record.SIGHTING, "sightings"), (record.DECISION, "decisions"),
                        (record.COUNT, "counts"), (record.EVENT, "events")):
        assert seqs[table] == [r.seq for r in decoded if r.kind == kind]
    with store.open_store(db) as conn:
        flags = dict(conn.execute("SELECT seq, clock_valid FROM sightings"))
        boot = conn.execute("SELECT clock_valid, name FROM events WHERE seq = ?", (RECORDS,)).fetchone()
        sites = {row[0] for row in conn.execute("SELECT site FROM decisions")}
        audits = conn.execute("SELECT count(*) FROM audit WHERE action = 'collect'").fetchone()[0]
    assert flags == {r.seq: int(r.clock_valid) for r in decoded if r.kind == record.SIGHTING}
    assert 0 in flags.values() and boot == (0, "boot")  # made before the clock was set: kept so
    assert sites == {"Tòa nhà A"}
    assert f"{len(journal)} records stored, seq 0 to {len(journal) - 1}" in first.stdout
    assert board.status()["storage"]["acked"] == len(journal) - 1

    again = run_collect(board, keys, db, "--json")
    assert again.exit_code == 0, again.output
    summary = json.loads(again.stdout)["collections"][0]
    assert summary["stored"]["records"] == 0 and summary["result"] == "ok"
    assert db_records(db) == flash_records(board.flash)
    assert audits == 1


def test_a_collection_killed_mid_transfer_resumes_with_nothing_lost_or_doubled(journal_gate, tmp_path):
    board, keys = journal_gate
    db = tmp_path / "k.db"
    process = subprocess.Popen([str(BIN / "bzgate"), "collect", "--port", board.serial, "--db", str(db),
                                "--keys", str(keys.path)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and process.poll() is None:
        try:
            if db_records(db):
                break
        except sqlite3.OperationalError:  # not created yet
            pass
        time.sleep(0.02)
    process.kill()
    process.wait()
    partial = db_records(db)
    journal = flash_records(board.flash)
    assert 0 < len(partial) < len(journal) and partial == journal[:len(partial)]

    result = run_collect(board, keys, db)
    assert result.exit_code == 0, result.output
    assert db_records(db) == flash_records(board.flash)


def test_garbage_on_the_link_mid_transfer_leaves_the_database_equal_to_the_journal(journal_gate, tmp_path):
    board, keys = journal_gate
    conn = store.open_store(tmp_path / "g.db")
    stop = threading.Event()

    def garbage_to_the_gate():  # a second writer on the gate's port: noise the gate must refuse
        with open(board.serial, "wb", buffering=0) as noise:
            while not stop.wait(0.05):
                noise.write(b"zz\x01\x7fnot a request\xfe\n")

    with GateLink(board.serial, timeout=1.0) as link:
        real_read = link.port.read
        reads = iter(range(10 ** 9))

        def noisy_read(size=1):
            data = real_read(size)
            if data and next(reads) in (3, 12, 25, 38):  # noise in the gate's replies
                return data[:3] + b"\x00\xff junk*0000\n" + data[3:]
            return data

        link.port.read = noisy_read
        writer = threading.Thread(target=garbage_to_the_gate)
        writer.start()
        try:
            summary = collect(conn, link, link.hello(), keys, board.serial)
        finally:
            stop.set()
            writer.join()
        assert link.skipped >= 4
    assert summary["result"] == "ok"
    assert db_records(tmp_path / "g.db") == flash_records(board.flash)


# --- tampering -----------------------------------------------------------------------------
def _flip(raws, _flash):
    raws[10] = raws[10][:20] + bytes([raws[10][20] ^ 0x01]) + raws[10][21:]
    return 10


def _drop(raws, _flash):
    del raws[10]
    return 10


def _reorder(raws, _flash):
    raws[10], raws[11] = raws[11], raws[10]
    return 10


def _replay(raws, flash):
    old = segment_path(flash, BASE - 2 * SEGMENT).read_bytes()  # an older segment, as signed
    raws[:] = [old[k:k + 48] for k in range(0, len(old), 48)]
    return 0


def _forge(raws, _flash):
    stranger = bytes(32)  # records made to look right, without the board's key
    raws[10:] = journal_bytes(stranger, len(raws) - 10, first=BASE + 10,
                              prev_mac=record.mac_of(raws[9]))
    return 10


def _database_up_to(db: Path, board, keys: KeyStore, end: int) -> None:
    """A database that already collected seqs 0..end-1 of the gate's journal."""
    conn = store.open_store(db)
    with board.link() as link:
        board_id = link.hello()["board_id"]
    with store.transaction(conn):
        store.begin_journal(conn, board_id, "test-gate", "Tòa nhà A", "0.1.0", 0)
        store.store_records(conn, board_id, "test-gate", "Tòa nhà A", flash_records(board.flash)[:end], 0)
    conn.close()


@pytest.mark.parametrize("tamper", [_flip, _drop, _reorder, _replay, _forge],
                         ids=["flip-a-byte", "drop", "reorder", "replay-old-segment", "forge"])
def test_a_tampered_journal_is_refused_with_its_bytes_kept_as_evidence(journal_gate, tmp_path, tamper):
    board, keys = journal_gate
    db = tmp_path / "t.db"
    _database_up_to(db, board, keys, BASE)
    path = segment_path(board.flash, BASE)
    original = path.read_bytes()
    raws = [original[k:k + 48] for k in range(0, len(original), 48)]
    broken_at = BASE + tamper(raws, board.flash)
    path.write_bytes(b"".join(raws))
    try:
        first = run_collect(board, keys, db)
        second = run_collect(board, keys, db)
    finally:
        path.write_bytes(original)
    assert first.exit_code == second.exit_code == EXIT_REFUSED
    assert f"breaks at seq {broken_at}" in first.stderr and "evidence" in first.stderr
    assert all(seq < broken_at for seqs in table_seqs(db).values() for seq in seqs)
    assert db_records(db) == flash_records(board.flash)[:broken_at]
    with sqlite3.connect(db) as conn:
        evidence = conn.execute("SELECT first_seq, raw FROM evidence").fetchall()
        next_seq = conn.execute("SELECT next_seq FROM journals").fetchone()[0]
    assert len(evidence) == 1  # the second refusal kept no second copy
    first_seq, raw = evidence[0]
    assert first_seq == broken_at == next_seq
    assert raw[:48] == raws[broken_at - BASE] and len(raw) % 48 == 0


def test_a_journal_rolled_back_behind_the_database_is_refused(journal_gate, tmp_path):
    board, keys = journal_gate
    db = tmp_path / "r.db"
    _database_up_to(db, board, keys, BASE)
    with sqlite3.connect(db) as conn:
        conn.execute("UPDATE journals SET next_seq = 9000")
    result = run_collect(board, keys, db)
    assert result.exit_code == EXIT_REFUSED
    assert "seq 8999 was already collected" in result.stderr
    assert len(db_records(db)) == BASE


def test_records_missing_from_the_end_of_what_the_gate_reports_are_refused(journal_gate, tmp_path):
    board, keys = journal_gate
    db = tmp_path / "c.db"
    _database_up_to(db, board, keys, BASE)
    path = segment_path(board.flash, BASE + SEGMENT)
    original = path.read_bytes()
    path.write_bytes(original[:-5 * 48])  # five records cut from under the running gate
    try:
        result = run_collect(board, keys, db)
    finally:
        path.write_bytes(original)
    cut_at = BASE + 2 * SEGMENT - 5
    assert result.exit_code == EXIT_REFUSED
    assert f"sent only up to seq {cut_at - 1}" in result.stderr
    assert db_records(db) == flash_records(board.flash)[:cut_at]


def test_a_board_without_a_key_on_this_host_is_a_clear_error(journal_gate, tmp_path):
    board, _keys = journal_gate
    result = run_collect(board, KeyStore(tmp_path / "empty.json"), tmp_path / "n.db")
    assert result.exit_code == 2
    assert f"bzgate keys import --port {board.serial}" in result.stderr
    assert db_records(tmp_path / "n.db") == []


def test_all_collects_each_gate_once_and_passes_over_ports_without_a_gate(journal_gate, tmp_path, monkeypatch):
    board, keys = journal_gate
    silent, far_end = pty.openpty()  # a serial port where nothing answers
    monkeypatch.setattr("bzgate.commands.collect.listed_ports", lambda: [os.ttyname(far_end), board.serial])
    try:
        result = CliRunner().invoke(main, ["collect", "--all", "--port", board.serial, "--json",
                                           "--db", str(tmp_path / "all.db"), "--keys", str(keys.path)])
    finally:
        os.close(silent)
        os.close(far_end)
    assert result.exit_code == 0, result.output
    [summary] = json.loads(result.stdout)["collections"]
    assert summary["port"] == board.serial and summary["stored"]["records"] == len(flash_records(board.flash))


# --- a gap: the gate no longer holds records this database never got ------------------------
GAP_FIRST = 2 * SEGMENT  # the gate's journal holds seqs from here on


@pytest.fixture(scope="module")
def gap_gate():
    where = Path(tempfile.mkdtemp(prefix="bzg"))
    board, keys = start_journal_gate(where, 300, first=GAP_FIRST)
    assert wait_until(lambda: len(flash_records(board.flash)) > 300 - GAP_FIRST, timeout=30), \
        "the gate's BOOT event never reached flash"
    yield board, keys
    stop_gate(board)
    shutil.rmtree(where)


def test_a_gap_is_refused_and_stored_past_only_when_accepted(gap_gate, tmp_path):
    board, keys = gap_gate
    db = tmp_path / "gap.db"
    refused = run_collect(board, keys, db)
    assert refused.exit_code == EXIT_REFUSED
    assert f"seqs 0 to {GAP_FIRST - 1} are no longer on the gate" in refused.stderr
    assert "--accept-gap test-gate" in refused.stderr and db_records(db) == []

    another = run_collect(board, keys, db, "--accept-gap", "another-gate")
    assert another.exit_code == EXIT_REFUSED and db_records(db) == []  # a gap of this gate only

    accepted = run_collect(board, keys, db, "--accept-gap", "test-gate", "--json")
    assert accepted.exit_code == 0, accepted.output
    summary = json.loads(accepted.stdout)["collections"][0]
    assert summary["gap"] == [0, GAP_FIRST - 1]
    journal = flash_records(board.flash)
    # The first record after the gap chains to a record this host never saw: evidence only.
    assert db_records(db) == journal[1:]
    with sqlite3.connect(db) as conn:
        evidence = conn.execute("SELECT first_seq, raw FROM evidence").fetchall()
    assert evidence == [(GAP_FIRST, journal[0])]

    again = run_collect(board, keys, db)
    assert again.exit_code == 0 and "nothing new" in again.stdout
