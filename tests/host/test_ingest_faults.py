"""`bzgate ingest` under faults, with real Mosquittos and PostgreSQLs on loopback (private ones
where a test stops them): three ingesters of one group killed at random and a broker restarted
while gates publish ahead of their acks; an ingester killed while its transaction is open; the
database stopped while batches arrive; a forged batch in a transaction with other gates'
batches. Each time the store must equal the gates' journals, every record once and in order,
and nothing may be acknowledged before it is committed. The faults are drawn from a seed of the
test's own, printed (run again with BZGATE_FAULT_SEED=<seed>)."""

import json
import os
import random
import threading
from contextlib import closing

import psycopg
import pytest
from collectkit import KEY, journal_bytes
from gatekit import wait_until
from ingestkit import LOCAL_BROKER, IngestProcess, PyGate, retained_ack, running_ingester, sync_all, unique
from mqttfleet import Fleet
from services import PrivateBroker, PrivatePostgres

from bzcore import uplink
from bzgate.keys import KeyStore


@pytest.fixture
def rng():
    seed = int(os.environ.get("BZGATE_FAULT_SEED") or random.SystemRandom().randrange(2**32))
    print(f"fault seed {seed} (BZGATE_FAULT_SEED={seed} draws these faults again)")
    return random.Random(seed)


@pytest.fixture
def broker(service):
    service("mosquitto")
    return LOCAL_BROKER


def boards_and_keys(tmp_path, count: int) -> tuple[list[bytes], KeyStore]:
    boards = [bytes([0x30, 0xAE, 0xA4, 0, 0, n]) for n in range(1, count + 1)]
    keys = KeyStore(tmp_path / "keys.json")
    for board in boards:
        keys.put(board.hex(), KEY)
    return boards, keys


def stored(db: str, board: bytes) -> list[bytes]:
    with closing(psycopg.connect(db)) as conn:
        return [bytes(raw) for (raw,) in conn.execute(
            "SELECT raw FROM records WHERE board_id = %s ORDER BY seq", (board.hex(),))]


def stored_count(db: str) -> int:
    try:
        with closing(psycopg.connect(db)) as conn:
            return conn.execute("SELECT count(*) FROM records").fetchone()[0]
    except psycopg.OperationalError:  # the database is being stopped
        return -1


def test_three_ingesters_of_a_group_killed_at_random_and_a_broker_restart_store_every_record_once(
        tmp_path, pg_url, rng, service):
    service("mosquitto")
    (tmp_path / "broker").mkdir()
    private = PrivateBroker(tmp_path / "broker")  # persistent: a restart keeps sessions and acks
    private.start()
    boards, keys = boards_and_keys(tmp_path, 8)
    journals = {board: journal_bytes(KEY, 200) for board in boards}
    total = sum(len(raws) for raws in journals.values())
    options = ("--group", "central", "--batch-records", "100")
    ingesters = [IngestProcess(private.broker, "bz", pg_url, keys, f"central-{n}", options=options)
                 for n in range(3)]
    fleet = Fleet((private.broker.host, private.port), "bz", journals, processes=1, window=4, resend_s=2)
    done = []
    publishing = threading.Thread(target=lambda: done.append(fleet.run(timeout=90)))
    try:
        publishing.start()
        faults = ["broker restart"] + ["kill"] * 3
        rng.shuffle(faults)
        for fault in faults:
            target = min(total, stored_count(pg_url) + rng.randrange(100, 300))
            wait_until(lambda: stored_count(pg_url) >= target or done, 60)
            if fault == "kill":
                n = rng.randrange(3)
                print(f"{fault} central-{n} at {stored_count(pg_url)} records stored")
                ingesters[n].kill()
                ingesters[n] = IngestProcess(private.broker, "bz", pg_url, keys, f"central-{n}",
                                             options=options)
            else:
                print(f"{fault} at {stored_count(pg_url)} records stored")
                private.stop()
                private.start()
        publishing.join(120)
        assert done and done[0].complete, "not every gate's journal was acked"
        for n, board in enumerate(boards):  # a gate resends from a retained ack left behind
            gate = PyGate(private.broker, "bz", f"g{n}", board, KEY, len(journals[board]))
            try:
                assert gate.sync(timeout=30)
            finally:
                gate.close()
            assert retained_ack(private.broker, "bz", f"g{n}") == {"board": board.hex(), "seq": 199}
        for board, raws in journals.items():
            assert stored(pg_url, board) == raws
        with closing(psycopg.connect(pg_url)) as conn:  # no batch was checked from a stale position
            assert conn.execute("SELECT count(*) FROM evidence").fetchone()[0] == 0
    finally:
        for ingester in ingesters:
            ingester.kill()
        private.stop()


def test_an_ingester_killed_while_its_transaction_is_open_loses_nothing_and_stores_nothing_twice(
        tmp_path, pg_url, broker):
    # The last board's uplink row is held locked, so the ingester's transaction waits on it after
    # it has written the records of every board (rows are taken in board-id order): killed there.
    prefix = unique("t")
    boards, keys = boards_and_keys(tmp_path, 4)
    last = boards[-1]
    journals = {board: journal_bytes(KEY, 40) for board in boards}
    gates = [PyGate(broker, prefix, f"g{n}", board, KEY, 40) for n, board in enumerate(boards)]
    client_id = unique("ingest-")
    ingester = IngestProcess(broker, prefix, pg_url, keys, client_id, options=("--batch-ms", "1000"))
    try:
        gates[-1].publish(journals[last][:20])
        assert wait_until(lambda: len(stored(pg_url, last)) == 20, 20)
        lock = psycopg.connect(pg_url)
        lock.execute("SELECT 1 FROM uplink WHERE board_id = %s FOR UPDATE", (last.hex(),))
        for gate, board in zip(gates, boards):  # published once: no gate sends them again
            gate.publish(journals[board][:20] if board != last else journals[board][20:])
        for gate, board in zip(gates[:-1], boards):
            gate.publish(journals[board][20:])
        with closing(psycopg.connect(pg_url, autocommit=True)) as watch:
            assert wait_until(lambda: waiting_on_a_lock(watch), 20), "the ingester never waited"
            assert "INSERT INTO uplink" in waiting_on_a_lock(watch)
            ingester.kill()
            lock.close()  # its transaction ends: the killed ingester's goes on and finds no one
            assert wait_until(lambda: not other_sessions(watch), 20)
        assert [len(stored(pg_url, board)) for board in boards] == [0, 0, 0, 20]
        ingester = IngestProcess(broker, prefix, pg_url, keys, client_id)  # its session again
        assert wait_until(lambda: stored_count(pg_url) == 160, 30), stored_count(pg_url)
        for board, raws in journals.items():
            assert stored(pg_url, board) == raws
    finally:
        ingester.kill()
        for gate in gates:
            gate.close()


def waiting_on_a_lock(conn) -> str | None:
    """The statement of another session of this database that waits for a lock."""
    row = conn.execute("SELECT query FROM pg_stat_activity WHERE datname = current_database() "
                       "AND pid <> pg_backend_pid() AND wait_event_type = 'Lock'").fetchone()
    return row[0] if row else None


def other_sessions(conn) -> int:
    return conn.execute("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                        "AND pid <> pg_backend_pid() AND backend_type = 'client backend'").fetchone()[0]


def test_the_database_stopped_while_batches_arrive_is_waited_for_and_nothing_is_acked_before(
        tmp_path, broker, rng):
    prefix = unique("t")
    boards, keys = boards_and_keys(tmp_path, 3)
    journals = {board: journal_bytes(KEY, 200) for board in boards}
    gates = [PyGate(broker, prefix, f"g{n}", board, KEY, 200) for n, board in enumerate(boards)]
    cut = rng.randrange(1, 10) * 20  # where each gate's journal is when the database stops
    try:
        with PrivatePostgres() as pg, running_ingester(broker, prefix, pg.url, keys, batch_s=0.05) as ingester:
            for gate, board in zip(gates, boards):  # each batch published once, never again
                for k in range(0, cut, 20):
                    gate.publish(journals[board][k:k + 20])
            assert wait_until(lambda: stored_count(pg.url) == 3 * cut, 30)
            pg.stop(rng.choice(["fast", "immediate"]))
            for gate, board in zip(gates, boards):
                for k in range(cut, 200, 20):
                    gate.publish(journals[board][k:k + 20])
            later = 3 * (200 - cut) // 20
            assert wait_until(lambda: len(ingester.outstanding) == later, 30), len(ingester.outstanding)
            assert all(gate.acked_seq() == cut - 1 for gate in gates)  # no ack for what is not in
            pg.start()
            assert wait_until(lambda: stored_count(pg.url) == 600, 60), stored_count(pg.url)
            assert wait_until(lambda: not ingester.outstanding, 10)  # each acknowledged once stored
            for board, raws in journals.items():
                assert stored(pg.url, board) == raws
            assert wait_until(lambda: all(gate.acked_seq() == 199 for gate in gates), 10)
    finally:
        for gate in gates:
            gate.close()


def test_a_forged_batch_is_kept_as_evidence_and_the_other_gates_batches_of_its_transaction_are_stored(
        tmp_path, pg_url, broker):
    prefix = unique("t")
    boards, keys = boards_and_keys(tmp_path, 3)
    gates = [PyGate(broker, prefix, f"g{n}", board, KEY, 40) for n, board in enumerate(boards)]
    forged = bytearray(gates[1].journal[5])
    forged[14] ^= 0x40  # another ID, the MAC left as it was
    try:
        with running_ingester(broker, prefix, pg_url, keys, batch_s=1.0) as ingester:
            gates[0].publish(gates[0].journal[:20])
            gates[1].publish(gates[1].journal[:5] + [bytes(forged)] + gates[1].journal[6:20])
            gates[2].publish(gates[2].journal[:20])
            assert wait_until(lambda: ingester.counts["batches"] == 3, 20)
            assert ingester.counts["transactions"] == 1 and ingester.counts["broken"] == 1
            assert [len(stored(pg_url, board)) for board in boards] == [20, 5, 20]
            assert all(gate.sync() for gate in gates)  # the genuine records still go in
        for gate, board in zip(gates, boards):
            assert stored(pg_url, board) == gate.journal
        with closing(psycopg.connect(pg_url)) as conn:
            kept = conn.execute("SELECT board_id, first_seq, raw FROM evidence").fetchall()
            refused = [json.loads(d) for (d,) in conn.execute(
                "SELECT detail FROM audit WHERE action = 'ingest-refused'")]
        assert [(b, s, bytes(raw)) for b, s, raw in kept] == [
            (boards[1].hex(), 5, bytes(forged) + b"".join(gates[1].journal[6:20]))]
        assert [(r["gate_id"], r["board_id"]) for r in refused] == [("g1", boards[1].hex())]
    finally:
        for gate in gates:
            gate.close()


def test_ingesters_of_one_group_share_the_batches_and_each_is_stored_once(tmp_path, pg_url, broker):
    prefix = unique("t")
    boards, keys = boards_and_keys(tmp_path, 4)
    group = unique("g")
    with running_ingester(broker, prefix, pg_url, keys, group=group) as one, \
            running_ingester(broker, prefix, pg_url, keys, group=group) as two:
        gates = [PyGate(broker, prefix, f"g{n}", board, KEY, 100) for n, board in enumerate(boards)]
        try:
            sync_all(gates)
            assert all(gate.acked_seq() == 99 for gate in gates)
        finally:
            for gate in gates:
                gate.close()
    # 20 batches; each goes to one ingester of the group, not to both as without --group
    assert 0 < one.counts["batches"] < 20 and 0 < two.counts["batches"] < 20
    assert one.counts["stored"] + two.counts["stored"] == 20
    assert one.subscription == f"$share/{group}/{prefix}/+/{uplink.JOURNAL}"
    for gate, board in zip(gates, boards):
        assert stored(pg_url, board) == gate.journal
