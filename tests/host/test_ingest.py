"""`bzgate ingest` with a real Mosquitto, into SQLite and PostgreSQL, fed by Python gates that
publish real signed batches: the store equals the journals; duplicates, replays and a gap are
handled and acked right, and a gap accepted once; forged records and junk are refused with evidence while the ingester
goes on; a broker restart mid-stream loses nothing; two ingesters on one PostgreSQL store
nothing twice; the command ends cleanly on Ctrl-C."""

import json
import signal
import sqlite3
import threading

import pytest
from click.testing import CliRunner
from collectkit import KEY, db_records, signed_records
from gatekit import wait_until
from ingestkit import (LOCAL_BROKER, PyGate, ingest_process, retained_ack,
                       running_ingester, sync_all, unique)
from services import PrivateBroker

from bzcore import record
from bzgate import store
from bzgate.cli import main
from bzgate.keys import KeyStore
from bzgate.store import dialect, ingesters

BOARD = bytes.fromhex("30aea4c1d2e3")


@pytest.fixture
def keys(tmp_path):
    key_store = KeyStore(tmp_path / "keys.json")
    key_store.put(BOARD.hex(), KEY, gate_id="front")
    return key_store


@pytest.fixture
def broker(service):
    service("mosquitto")
    return LOCAL_BROKER


@pytest.fixture
def gate_for(broker):
    gates = []

    def make(prefix, records, gate_id="front", board=BOARD, key=KEY, at=broker):
        gates.append(PyGate(at, prefix, gate_id, board, key, records))
        return gates[-1]
    yield make
    for gate in gates:
        gate.close()


def evidence(db) -> list[tuple]:
    with store.open_store(db) as conn:
        return [(b, s, bytes(raw)) for b, s, raw in conn.execute(
            "SELECT board_id, first_seq, raw FROM evidence ORDER BY rowid")]


def uplink_row(db) -> dict:
    with store.open_store(db) as conn:
        return store.uplinks(conn)[0]


def test_batches_are_stored_equal_to_the_journal_and_acked_after_the_commit(db_target, keys, broker, gate_for):
    prefix = unique("t")
    with running_ingester(broker, prefix, db_target, keys) as ingester:
        gate = gate_for(prefix, 130)
        assert gate.sync()
    assert db_records(db_target) == gate.journal
    assert retained_ack(broker, prefix, "front") == {"board": BOARD.hex(), "seq": 129}
    assert ingester.counts["stored"] == 7 and ingester.counts["broken"] == 0
    row = uplink_row(db_target)
    assert (row["gate_id"], row["seen_seq"], row["stored_seq"], row["problem"]) == ("front", 129, 129, None)
    assert evidence(db_target) == []


def test_duplicates_and_replays_are_stored_once_and_a_changed_replay_is_evidence(db_target, keys, broker, gate_for):
    prefix = unique("t")
    with running_ingester(broker, prefix, db_target, keys) as ingester:
        gate = gate_for(prefix, 40)
        for n, span in enumerate(((0, 20), (0, 20), (10, 30), (5, 25), (20, 40), (39, 40)), 1):
            gate.publish(gate.journal[slice(*span)])  # each in a transaction of its own
            assert wait_until(lambda: ingester.counts["batches"] == n, 20)
        changed = bytearray(gate.journal[3])
        changed[20] ^= 1
        gate.publish([bytes(changed)] + gate.journal[4:6])
        assert wait_until(lambda: ingester.counts["batches"] == 7, 20)
    assert db_records(db_target) == gate.journal
    assert ingester.counts["duplicate"] == 4 and ingester.counts["stored"] == 3
    assert evidence(db_target) == [(BOARD.hex(), 3, bytes(changed))]
    assert wait_until(lambda: gate.acked_seq() == 39, 10), gate.acked_seq()  # acks arrive on their own


def test_a_gap_is_not_stored_and_the_ack_says_where_to_resume(db_target, keys, broker, gate_for):
    prefix = unique("t")
    with running_ingester(broker, prefix, db_target, keys) as ingester:
        gate = gate_for(prefix, 60)
        assert gate.sync(until=19)
        gate.publish(gate.journal[40:60])
        assert wait_until(lambda: ingester.counts["gap"] == 1, 20)
        assert wait_until(lambda: retained_ack(broker, prefix, "front")["seq"] == 19)
        row = uplink_row(db_target)
        assert (row["seen_seq"], row["stored_seq"]) == (59, 19) and "seq 20" in row["problem"]
        shown = CliRunner().invoke(main, ["status", "--db", str(db_target), "--json"])
        assert shown.exit_code == 0, shown.output
        lag = json.loads(shown.stdout)["uplinks"][0]
        assert (lag["gate_id"], lag["board_id"], lag["lag"]) == ("front", BOARD.hex(), 40)
        assert 0 <= lag["age_s"] < 60 and lag["batches"] == 2 and lag["refused"] == 1
        text = CliRunner().invoke(main, ["status", "--db", str(db_target)]).stdout.splitlines()
        assert text[0].split()[:5] == ["GATE", "BOARD", "SEEN", "STORED", "LAG"]
        assert text[1].split()[:5] == ["front", BOARD.hex(), "59", "19", "40"]
        assert gate.sync()  # the gate resumes from the ack
    assert db_records(db_target) == gate.journal


def test_an_accepted_gap_is_crossed_once_and_audited(db_target, keys, broker, gate_for):
    # A new store: seqs 0 to 39 went into another database, and the gate has reclaimed them.
    prefix = unique("t")
    with running_ingester(broker, prefix, db_target, keys, accept_gaps=("front",)) as ingester:
        gate = gate_for(prefix, 100)
        gate.publish(gate.journal[40:60])
        assert wait_until(lambda: ingester.counts["gap-accepted"] == 1, 20)
        assert wait_until(lambda: retained_ack(broker, prefix, "front")["seq"] == 59)
        gate.publish(gate.journal[80:100])  # a second gap: accepted once only
        assert wait_until(lambda: ingester.counts["gap"] == 1, 20)
        assert "--accept-gap front" in uplink_row(db_target)["problem"]
    # Record 40's own link to 39 cannot be checked here: evidence; the chain holds from it on.
    assert db_records(db_target) == gate.journal[41:60]
    assert evidence(db_target) == [(BOARD.hex(), 40, gate.journal[40])]
    with store.open_store(db_target) as conn:
        audited = [json.loads(row[0]) for row in conn.execute(
            "SELECT detail FROM audit WHERE action = 'ingest-gap-accepted'")]
    assert [(a["gate_id"], a["board_id"], a["gap"]) for a in audited] == [("front", BOARD.hex(), [0, 39])]


def test_a_forged_record_and_junk_are_refused_with_evidence_and_the_ingester_goes_on(db_target, keys, broker, gate_for):
    prefix = unique("t")
    with running_ingester(broker, prefix, db_target, keys) as ingester:
        gate = gate_for(prefix, 40)
        assert gate.sync(until=19)
        forged = bytearray(gate.journal[25])
        forged[14] ^= 0x40  # another ID, the MAC left as it was
        batch = gate.journal[20:25] + [bytes(forged)] + gate.journal[26:40]
        gate.publish(batch)
        assert wait_until(lambda: ingester.counts["broken"] == 1, 20)
        gate.publish_payload(b"\x01\x06" + BOARD + b"not records")
        gate.publish_payload(b"")
        assert wait_until(lambda: ingester.counts["malformed"] == 2, 20)
        assert db_records(db_target) == gate.journal[:25]  # nothing from the forged record on
        assert gate.sync()  # the genuine records still go in
    assert db_records(db_target) == gate.journal
    kept = evidence(db_target)
    assert kept[0] == (BOARD.hex(), 25, b"".join(batch[5:]))
    assert [(b, s) for b, s, _ in kept[1:]] == [("?", -1), ("?", -1)]
    assert uplink_row(db_target)["refused"] == 1  # the forged batch; the gate has no row for junk
    with store.open_store(db_target) as conn:
        refusals = [json.loads(d) for (d,) in conn.execute(
            "SELECT detail FROM audit WHERE action = 'ingest-refused' ORDER BY rowid")]
    assert len(refusals) == 3 and "seq 25" in refusals[0]["why"]


def test_a_refusal_is_audited_with_its_evidence_though_the_first_audit_write_fails(tmp_path, keys, broker, gate_for, monkeypatch):
    """The audit row goes into the evidence's transaction: a failure writing it stores neither,
    and the window is stored again, so the refusal is never acked unaudited."""
    failed = []
    execute = dialect.Connection.execute

    def audit_fails_once(self, sql, params=()):
        if sql.startswith("INSERT INTO audit") and not failed:
            failed.append(sql)
            raise sqlite3.OperationalError("disk I/O error")
        return execute(self, sql, params)

    monkeypatch.setattr(dialect.Connection, "execute", audit_fails_once)
    prefix = unique("t")
    db = tmp_path / "x.db"
    with running_ingester(broker, prefix, db, keys) as ingester:
        gate = gate_for(prefix, 10)
        gate.publish_payload(b"not a batch")
        assert wait_until(lambda: ingester.counts["malformed"] == 1, 20)
        assert gate.sync()
    assert failed
    assert db_records(db) == gate.journal
    assert len(evidence(db)) == 1
    with store.open_store(db) as conn:
        audited = conn.execute("SELECT count(*) FROM audit WHERE action = 'ingest-refused'").fetchone()[0]
    assert audited == 1


def test_an_exempt_arrives_with_its_reason_and_an_exit_without(tmp_path, keys, broker, gate_for):
    prefix = unique("t")
    db = tmp_path / "x.db"
    with running_ingester(broker, prefix, db, keys):
        gate = gate_for(prefix, 0)
        gate.journal = signed_records(KEY, [
            record.decision(record.EXEMPT, record.HOST, record.ENFORCE, None, None, 0, 0,
                            reason=record.PAPER_DECLARATION),
            record.decision(record.EXIT, record.BUTTON, record.ENFORCE, None, None, 0, 0)])
        assert gate.sync()
    with store.open_store(db) as conn:
        rows = conn.execute("SELECT verdict, reason FROM decisions ORDER BY seq").fetchall()
    assert [tuple(r) for r in rows] == [("exempt", "paper-declaration"), ("exit", None)]


def test_a_board_without_a_key_is_not_stored_nor_acked(tmp_path, keys, broker, gate_for):
    prefix = unique("t")
    db = tmp_path / "k.db"
    with running_ingester(broker, prefix, db, keys) as ingester:
        stranger = gate_for(prefix, 20, gate_id="side", board=b"\x99" * 6, key=b"\x55" * 32)
        stranger.publish(stranger.journal)
        assert wait_until(lambda: ingester.counts["no-key"] == 1, 20)
    assert db_records(db) == [] and stranger.acked_seq() == -1
    assert "no key for board 999999999999" in uplink_row(db)["problem"]


def test_a_broker_restart_mid_stream_loses_nothing(tmp_path, keys, service, gate_for):
    service("mosquitto")  # the private broker is the same program
    private = PrivateBroker(tmp_path)
    private.start()
    prefix = unique("t")
    db = tmp_path / "r.db"
    try:
        with running_ingester(private.broker, prefix, db, keys) as ingester:
            gate = gate_for(prefix, 400, at=private.broker)
            done = []
            sender = threading.Thread(target=lambda: done.append(gate.sync(batch=5, timeout=90)))
            sender.start()
            assert wait_until(lambda: gate.acked_seq() >= 60, 30)
            private.stop()
            assert wait_until(lambda: not ingester.connected.is_set(), 10)
            private.start()
            sender.join(100)
            assert done == [True]
    finally:
        private.stop()
    assert db_records(db) == gate.journal


def beaten_batches(db, *processes) -> int:
    """The fewest batches any of these ingester processes has taken, by its heartbeat."""
    with store.open_store(db) as conn:
        taken = {beat["client_id"]: beat["batches"] for beat in ingesters.ingesters(conn)}
    return min(taken.get(process.client_id, 0) for process in processes)


def test_two_ingester_processes_on_one_postgresql_database_store_nothing_twice(pg_url, tmp_path, broker, gate_for):
    prefix = unique("t")
    key_store = KeyStore(tmp_path / "keys.json")
    boards = [bytes([n]) * 6 for n in range(1, 4)]
    for board in boards:
        key_store.put(board.hex(), KEY)
    with ingest_process(broker, prefix, pg_url, key_store) as one, \
            ingest_process(broker, prefix, pg_url, key_store) as two:
        gates = [gate_for(prefix, 150, gate_id=f"g{n}", board=board) for n, board in enumerate(boards)]
        sync_all(gates)
        assert all(gate.acked_seq() == 149 for gate in gates)
        # The one that stored less is still taking the batches the other stored: its heartbeat
        # says when it has taken them all.
        assert wait_until(lambda: beaten_batches(pg_url, one, two) >= 24, 20)
        assert one.stop() == 0 and two.stop() == 0, one.log + two.log
    # Both took every batch off the broker; between them each batch was stored once.
    assert one.counts["batches"] >= 24 and two.counts["batches"] >= 24
    assert one.counts["stored"] + two.counts["stored"] >= 24
    assert one.counts["broken"] == two.counts["broken"] == 0
    with store.open_store(pg_url) as conn:
        for board, gate in zip(boards, gates):
            rows = conn.execute("SELECT raw FROM records WHERE board_id = ? ORDER BY seq",
                                (board.hex(),)).fetchall()
            assert [bytes(raw) for (raw,) in rows] == gate.journal
        assert conn.execute("SELECT count(*) FROM sightings").fetchone()[0] == sum(
            1 for gate in gates for raw in gate.journal if raw[4] == record.SIGHTING)
    assert evidence(pg_url) == []  # neither ingester ever checked against a stale position


@pytest.mark.parametrize("stop_signal, sigint_ignored", [
    (signal.SIGINT, False), (signal.SIGINT, True), (signal.SIGTERM, False)],
    ids=["ctrl-c", "ctrl-c-started-with-sigint-ignored", "sigterm"])
def test_the_command_stores_and_ends_cleanly_on_ctrl_c_or_a_service_stop(tmp_path, keys, broker, gate_for,
                                                                          stop_signal, sigint_ignored):
    prefix = unique("t")
    db = tmp_path / "c.db"
    with ingest_process(broker, prefix, db, keys, sigint_ignored=sigint_ignored) as ingester:
        assert "taking " + prefix + "/+/journal" in ingester.log[0]
        gate = gate_for(prefix, 50)
        assert gate.sync()
        assert ingester.stop(stop_signal) == 0, ingester.log
    assert ingester.counts["stored"] == 3 and ingester.counts["batches"] == 3
    assert db_records(db) == gate.journal
