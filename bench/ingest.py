"""Records per second stored as `bzgate collect` stores a pulled journal (verify the MAC chain,
decode, store into records and the payload tables, in transactions of COMMIT_EVERY): this
tree's code against the code of an earlier commit (--before, bench/earlier.py) and against a plain executemany of the same 48-byte records into one
table, same batches, same pragmas, in one run; and this tree's into a database that holds
--held records already (a site's earlier days: each commit then rewrites more pages of the
random IDs' index, so the figure falls as the database grows). Then the same into PostgreSQL,
as an ingester takes it: 50 boards' batches of 20 records, one transaction per batch (both trees) and, this
tree only, one transaction for each round of 50 batches (store_many). Each figure is the
median of --rounds runs, the code of both trees taking turns.

    .venv/bin/python bench/ingest.py [--records N] [--before REV]

PostgreSQL on 127.0.0.1:5432 (trust auth, user postgres); when it is missing its part is left out.
"""

import argparse
import random
import statistics
import tempfile
import time
import uuid
from pathlib import Path

import earlier
from benchdb import pg_database, pg_reachable

from bzcore import record
from bzgate import store
from bzgate.collect.board import COMMIT_EVERY, store_span, verify_span

KEY = bytes(range(32))
T0 = 1_790_000_000
BEFORE = "4ed5d58"  # the commit before bulk writes
BOARDS, UPLINK_BATCH = 50, 20  # the PostgreSQL part: gates at once, records per MQTT batch


def journal(n: int, key: bytes = KEY) -> list[bytes]:
    """A gate's day: sightings, with a decision every 10th record. The IDs are random, as
    Bluezone's are (SHA-256 output): consecutive ones would go into the ID index in order,
    which costs SQLite far less than the scattered inserts of real IDs."""
    raws, prev = [], record.GENESIS
    ids = random.Random(key + n.to_bytes(4, "big")).randbytes  # one crowd per gate (key)
    for seq in range(n):
        if seq % 10 == 9:
            kind, payload = record.decision(record.ALLOW, record.BUTTON, record.ENFORCE,
                                            ids(12), -50, record.ANDROID, 12)
        else:
            kind, payload = record.sighting(ids(12), T0 + seq, T0 + seq + 30, -55,
                                            4, record.ANDROID, record.ADV)
        raws.append(record.encode(key, prev, seq, kind, T0 + seq, True, 1, payload))
        prev = record.mac_of(raws[-1])
    return raws


def batches(raws: list[bytes], size: int = COMMIT_EVERY):
    return [raws[start:start + size] for start in range(0, len(raws), size)]


def ingest(db, journals: dict[str, list[bytes]], size: int) -> float:
    """Seconds to verify and store each board's journal in batches of `size`, one transaction
    each, as collect does (verify_span, store_span): this tree's code or --before's."""
    conn = store.open_store(db)
    start = time.perf_counter()
    for board_id, raws in journals.items():
        prev_mac, prev_seq = record.GENESIS, -1
        with store.transaction(conn):
            store.begin_journal(conn, board_id, "front", "A", "0.1.0", T0)
        for batch in batches(raws, size):
            span = verify_span(KEY, batch, prev_mac, prev_seq)
            assert not span.refused, span.why
            with store.transaction(conn):
                store_span(conn, board_id, "front", "A", span, T0)
            prev_mac, prev_seq = record.mac_of(batch[-1]), prev_seq + len(batch)
    seconds = time.perf_counter() - start
    conn.close()
    return seconds


def ingest_together(db, journals: dict[str, list[bytes]], size: int) -> float:
    """Seconds to verify and store one batch of every board per transaction (store_many)."""
    conn = store.open_store(db)
    start = time.perf_counter()
    positions = {board_id: (record.GENESIS, -1) for board_id in journals}
    rounds = zip(*(batches(raws, size) for raws in journals.values()))
    for round_batches in rounds:
        with store.transaction(conn):
            spans = []
            for board_id, batch in zip(journals, round_batches):
                store.begin_journal(conn, board_id, "front", "A", "0.1.0", T0)
                span = verify_span(KEY, batch, *positions[board_id])
                assert not span.refused, span.why
                spans.append(store.BoardRecords(board_id, "front", "A", span.trusted))
                positions[board_id] = (record.mac_of(batch[-1]), positions[board_id][1] + len(batch))
            store.store_many(conn, spans, T0)
    seconds = time.perf_counter() - start
    conn.close()
    return seconds


def ingest_after(db, held: list[bytes], raws: list[bytes]) -> float:
    """Seconds of ingest() of `raws` into a database holding `held`, another board's records."""
    ingest(db, {"earlier": held}, COMMIT_EVERY)
    return ingest(db, {"board": raws}, COMMIT_EVERY)


def baseline(db: Path, raws: list[bytes]) -> float:
    conn = store.open_store(db)  # same file settings (WAL, synchronous=FULL)
    conn.execute("CREATE TABLE plain (board_id TEXT, seq INTEGER, raw BLOB)")
    start = time.perf_counter()
    seq = 0
    for batch in batches(raws):
        with store.transaction(conn):
            conn.executemany("INSERT INTO plain VALUES ('board', ?, ?)",
                             [(seq + k, raw) for k, raw in enumerate(batch)])
        seq += len(batch)
    seconds = time.perf_counter() - start
    conn.close()
    return seconds


def boards(count: int, records: int) -> dict[str, list[bytes]]:
    raws = journal(records)  # the same key and records for each board: the store's work is the same
    return {f"board{n:03}": raws for n in range(count)}


def measure(what: str, db: str, records: int) -> float:
    """One figure, in this process (the tree on sys.path): seconds."""
    if what == "sqlite":
        return ingest(db, {"board": journal(records)}, COMMIT_EVERY)
    together = boards(BOARDS, records // BOARDS)
    return ingest(db, together, UPLINK_BATCH) if what == "postgresql" else \
        ingest_together(db, together, UPLINK_BATCH)


def measure_before(rev: str, what: str, db: str, records: int) -> float:
    """measure() run with the code of commit `rev`."""
    return float(earlier.call(rev, "ingest", "measure", what, db, records))


def line(name: str, records: int, seconds: float, before: float | None = None) -> None:
    ratio = f"{before / seconds:6.2f}x the earlier code" if before else ""
    print(f"  {name:52} {records / seconds:10,.0f} records/s  {ratio}")


def rounds(count: int, runs: dict) -> dict:
    """Each of `runs` ({name: a function giving seconds}) `count` times, taking turns (the
    machine's load then weighs on each alike): {name: the median seconds}."""
    seconds = {name: [] for name in runs}
    for _ in range(count):
        for name, run in runs.items():
            seconds[name].append(run())
    return {name: statistics.median(values) for name, values in seconds.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=100_000)
    parser.add_argument("--held", type=int, default=500_000,
                        help="records in the database before the last figure's ingest (0: left out)")
    parser.add_argument("--pg-records", type=int, default=20_000)
    parser.add_argument("--rounds", type=int, default=3, help="runs of each, taking turns")
    parser.add_argument("--before", default=BEFORE, help="the commit to compare against")
    args = parser.parse_args()
    n = args.records
    with tempfile.TemporaryDirectory() as folder:
        def fresh(name: str) -> str:
            return str(Path(folder) / f"{name}{uuid.uuid4().hex[:8]}.db")

        raws = journal(n)
        sqlite = rounds(args.rounds, {
            "plain": lambda: baseline(Path(fresh("plain")), raws),
            "before": lambda: measure_before(args.before, "sqlite", fresh("before"), n),
            "now": lambda: measure("sqlite", fresh("now"), n)})
        after = ingest_after(fresh("held"), journal(args.held), raws) if args.held else None
    print(f"ingest of {n:,} records into SQLite, {COMMIT_EVERY} per transaction, median of "
          f"{args.rounds} runs each:")
    line(f"collect's ingest, {args.before} (verify + decode + store)", n, sqlite["before"])
    line("collect's ingest, this tree", n, sqlite["now"], sqlite["before"])
    line("plain executemany of the raw records", n, sqlite["plain"])
    print(f"  plain / this tree: {sqlite['now'] / sqlite['plain']:.1f}x the time")
    if after:
        line(f"this tree, into a database holding {args.held:,} (one run)", n, after)
    if not pg_reachable():
        print("PostgreSQL: nothing on 127.0.0.1:5432, not measured")
        return
    m = args.pg_records // BOARDS * BOARDS

    def in_new_database(run):
        with pg_database() as db:
            return run(db)

    pg = rounds(args.rounds, {
        "before": lambda: in_new_database(lambda db: measure_before(args.before, "postgresql", db, m)),
        "now": lambda: in_new_database(lambda db: measure("postgresql", db, m)),
        "together": lambda: in_new_database(lambda db: measure("postgresql-together", db, m))})
    print(f"store of {m:,} records into PostgreSQL, {BOARDS} boards, batches of {UPLINK_BATCH}, "
          f"median of {args.rounds} runs each:")
    line(f"one transaction per batch, {args.before}", m, pg["before"])
    line("one transaction per batch, this tree", m, pg["now"], pg["before"])
    line(f"one transaction per {BOARDS} batches (store_many)", m, pg["together"], pg["before"])


if __name__ == "__main__":
    main()
