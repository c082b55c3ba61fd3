"""Seconds for `bzgate purge --older-than 21` of a store holding --rows records (default 10
million: 90% sightings, 10% decisions, each also in `records`) spread evenly over 28 days, run
at 06:00 UTC, so that it removes 6 days and 6 hours of them (about 22%): into SQLite (rows
deleted one by one), and into PostgreSQL as this tree stores them (whole days dropped, the
cutoff's own day judged row by row) against the code of an earlier commit (--before: rows
deleted one by one from unpartitioned tables), in one run. Loading is timed too: one INSERT ...
SELECT over generated positions per table and million rows, the payload tables' secondary
indexes dropped meanwhile and built again at the end; and the bytes the store takes per record
once loaded (the whole database: tables, indexes, free pages), for sizing (docs/scale.md).

    .venv/bin/python bench/purge.py [--rows N] [--before REV]

PostgreSQL on 127.0.0.1:5432 (trust auth, user postgres); when it is missing its part is left out.
"""

import argparse
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path

import earlier
from benchdb import pg_database, pg_reachable

from bzgate import store

BEFORE = "4ed5d58"  # rows deleted one by one, no day partitions
DAY = 86400
T0 = 1_790_006_400  # a midnight UTC
DAYS, RETENTION = 28, 21
NOW = T0 + DAYS * DAY - 18 * 3600  # the last day's 06:00
CUTOFF = NOW - RETENTION * DAY
CHUNK = 1_000_000
BOARDS = 1000

# Record k: board k / per_board, seq k % per_board (each board's in key order, as a store
# receives them), made at T0 + seq * span / per_board; every 10th a decision. {day}: the day
# column, where the schema has one.
_RECORD = ("SELECT (j.key + CAST(:first AS BIGINT)) / CAST(:per_board AS BIGINT) AS b, "
           "(j.key + CAST(:first AS BIGINT)) % CAST(:per_board AS BIGINT) AS s FROM {positions}")
_TIME = "CAST(:t0 AS BIGINT) + g.s * CAST(:span AS BIGINT) / CAST(:per_board AS BIGINT)"
_PAYLOAD_HEAD = "'b' || g.b, g.s, 'g' || g.b, 'A', {time}, 1{time_day}"
_LOADS = {
    "records": ("board_id, seq, raw, collected{day}",
                "'b' || g.b, g.s, :raw, CAST(:now AS BIGINT){time_day}", ""),
    "sightings": ("board_id, seq, gate_id, site, time, clock_valid{day}, id, first_seen, last_seen, "
                  "max_rssi, count, platform, source",
                  _PAYLOAD_HEAD + ", :id, {time}, {time} + 30, -60, 3, 'android', 'adv'",
                  "WHERE g.s % 10 <> 9"),
    "decisions": ("board_id, seq, gate_id, site, time, clock_valid{day}, verdict, trigger, mode, id, "
                  "rssi, platform, latency_ms, presses",
                  _PAYLOAD_HEAD + ", 'allow', 'button', 'enforce', :id, -50, 'android', 20, 1",
                  "WHERE g.s % 10 = 9"),
}


def load(db: str, n: int) -> str:
    """"seconds bytes": to fill a new store with n records as the module docstring says (with
    the store code on the path: this tree's, or --before's, whose schema has no day column),
    and the database's size then."""
    conn = store.open_store(db)
    conn.tune_for_reading()  # a big page cache: each index is written in bulk
    has_day = hasattr(store, "DAY_SCHEMA")
    start = time.perf_counter()
    with _indexes_built_after(conn):
        _fill(conn, n, has_day)
    seconds = time.perf_counter() - start
    size = _size(conn)
    conn.close()
    return f"{seconds} {size}"


def _size(conn) -> int:
    if conn.kind == "sqlite":
        pages, page = (conn.execute(f"PRAGMA {p}").fetchone()[0] for p in ("page_count", "page_size"))
        return pages * page
    return conn.execute("SELECT pg_database_size(current_database())").fetchone()[0]


def _fill(conn, n: int, has_day: bool) -> None:
    for first in range(0, n, CHUNK):
        count = min(CHUNK, n - first)
        positions, params = conn.positions(count)
        params.update(first=first, t0=T0, span=DAYS * DAY, per_board=n // BOARDS, now=NOW,
                      raw=bytes(48), id=bytes(12))
        with store.transaction(conn):
            if has_day:
                store.partitions.prepare(conn, range(T0 // DAY, T0 // DAY + DAYS))
            for table, (columns, values, where) in _LOADS.items():
                day = ", day" if has_day else ""
                time_day = f", ({_TIME}) / {DAY}" if has_day else ""
                conn.execute(f"INSERT INTO {table} ({columns.format(day=day)}) SELECT "
                             f"{values.format(time=_TIME, time_day=time_day)} "
                             f"FROM ({_RECORD.format(positions=positions)}) g {where}", params)


@contextmanager
def _indexes_built_after(conn):
    """The secondary indexes of sightings and decisions dropped, and built again at the end
    (one sort each instead of millions of inserts)."""
    if conn.kind == "sqlite":
        found = conn.execute("SELECT name, sql FROM sqlite_master WHERE type = 'index' AND "
                             "tbl_name IN ('sightings', 'decisions') AND sql IS NOT NULL").fetchall()
    else:
        found = conn.execute("SELECT indexname, indexdef FROM pg_indexes WHERE tablename IN "
                             "('sightings', 'decisions') AND indexname NOT LIKE '%pkey'").fetchall()
    with store.transaction(conn):
        for name, _ in found:
            conn.execute(f"DROP INDEX {name}")
    yield
    with store.transaction(conn):
        for _, definition in found:  # a partitioned table's: built on each partition too
            conn.execute(definition.replace(" ON ONLY ", " ON "))


def purge(db: str) -> str:
    """Seconds of the purge (in the store's transaction, as `bzgate purge` runs it) and what it
    deleted, as "seconds sightings decisions"."""
    conn = store.open_store(db)
    start = time.perf_counter()
    with store.transaction(conn):
        deleted = store.purge(conn, CUTOFF)
    seconds = time.perf_counter() - start
    conn.close()
    return f"{seconds} {deleted['sightings']} {deleted['decisions']}"


def load_and_purge(db: str, n: int) -> str:
    """load() then purge(): "load seconds, bytes, purge seconds, sightings, decisions"."""
    return f"{load(db, n)} {purge(db)}"


def expected(n: int) -> tuple[int, int]:
    """The sightings and decisions older than the cutoff."""
    old = -(-(CUTOFF - T0) * (n // BOARDS) // (DAYS * DAY))  # each board's seqs before: older
    return BOARDS * (old - old // 10), BOARDS * (old // 10)


def report(name: str, figures: str, n: int) -> None:
    load_s, size, purge_s, sightings, decisions = figures.split()
    ok = (int(sightings), int(decisions)) == expected(n)
    print(f"  {name:56} load {float(load_s):7.1f} s   {int(size) / n:5.0f} bytes/record   "
          f"purge {float(purge_s):7.2f} s   "
          f"deleted {int(sightings):,} sightings, {int(decisions):,} decisions"
          f"{'' if ok else '  (NOT WHAT IS OLDER THAN THE CUTOFF)'}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--before", default=BEFORE, help="the commit to compare against")
    args = parser.parse_args()
    n = args.rows // BOARDS * BOARDS
    print(f"purge of {n:,} records over {DAYS} days, older than {RETENTION} days "
          f"(cutoff {RETENTION} days before day {DAYS}'s 06:00 UTC):")
    with tempfile.TemporaryDirectory() as folder:
        report("SQLite, this tree (rows deleted one by one)", load_and_purge(str(Path(folder) / "p.db"), n), n)
    if not pg_reachable():
        print("PostgreSQL: nothing on 127.0.0.1:5432, not measured")
        return
    with pg_database() as db:
        report(f"PostgreSQL, {args.before} (rows deleted one by one)",
               earlier.call(args.before, "purge", "load_and_purge", db, n), n)
    with pg_database() as db:
        report("PostgreSQL, this tree (whole days dropped)", load_and_purge(db, n), n)


if __name__ == "__main__":
    main()
