"""Seconds for an existing store to reach this tree's schema: a store of --rows records (as
bench/purge.py loads them: 90% sightings, 10% decisions, each also in `records`, over 28 days)
is made by an earlier bzgate whose schema has no day column (--before), then opened once by
this tree, which migrates it (schema 7 gives every row its day; on PostgreSQL it rebuilds
records, sightings and decisions as day partitions with their keys and indexes). Baseline in
the same run, on the same store just before: one plain copy of those three tables
(CREATE TABLE ... AS SELECT *), the least a rewrite of them can cost; the ratio says how many
such passes the migration is worth. On SQLite and on PostgreSQL.

    .venv/bin/python bench/migrate.py [--rows N] [--before REV]

PostgreSQL on 127.0.0.1:5432 (trust auth, user postgres); when it is missing its part is left out.
"""

import argparse
import tempfile
import time
from pathlib import Path

import earlier
from benchdb import pg_database, pg_reachable
from purge import BEFORE, BOARDS

from bzgate import store
from bzgate.store.partitions import PARTITIONED


def plain_copy(db: str) -> float:
    """Seconds to copy the three tables once (the copies dropped again)."""
    conn = store.connect(store.db_path(db))
    start = time.perf_counter()
    with conn.transaction():
        for table in PARTITIONED:
            conn.execute(f"CREATE TABLE {table}_copy AS SELECT * FROM {table}")
    seconds = time.perf_counter() - start
    with conn.transaction():
        for table in PARTITIONED:
            conn.execute(f"DROP TABLE {table}_copy")
    conn.close()
    return seconds


def migrate(db: str) -> tuple[float, int, int]:
    """(seconds of the first open_store, the schema it left, the records it holds)."""
    start = time.perf_counter()
    conn = store.open_store(db)
    seconds = time.perf_counter() - start
    held = conn.execute("SELECT count(*) FROM records").fetchone()[0]
    version = conn.schema_version()
    conn.close()
    return seconds, version, held


def measure(name: str, db: str, n: int, before: str) -> None:
    load_s = float(earlier.call(before, "purge", "load", db, n).split()[0])
    copy_s = plain_copy(db)
    migrate_s, version, held = migrate(db)
    ok = version == store.SCHEMA_VERSION and held == n
    print(f"  {name:12} loaded by {before} in {load_s:6.1f} s; migrated to schema {version} in "
          f"{migrate_s:7.1f} s ({n / migrate_s:,.0f} records/s); a plain copy {copy_s:6.1f} s: "
          f"{migrate_s / copy_s:.1f}x{'' if ok else f'  (HOLDS {held:,} RECORDS)'}", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=2_000_000)
    parser.add_argument("--before", default=BEFORE, help="the commit whose store is migrated")
    args = parser.parse_args()
    n = args.rows // BOARDS * BOARDS
    print(f"migration of a store of {n:,} records made by {args.before}:")
    with tempfile.TemporaryDirectory() as folder:
        measure("SQLite", str(Path(folder) / "m.db"), n, args.before)
    if not pg_reachable():
        print("PostgreSQL: nothing on 127.0.0.1:5432, not measured")
        return
    with pg_database() as db:
        measure("PostgreSQL", db, n, args.before)


if __name__ == "__main__":
    main()
