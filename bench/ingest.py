"""Records per second into SQLite: what `bzgate collect` does with a pulled journal (verify the
MAC chain, decode, store into records and the payload tables, in transactions of COMMIT_EVERY)
against a plain executemany of the same 48-byte records into one table, same batches, same
pragmas, in one run.

    .venv/bin/python bench/ingest.py [--records N]
"""

import argparse
import sqlite3
import tempfile
import time
from pathlib import Path

from bzcore import record
from bzgate import store
from bzgate.collect.board import COMMIT_EVERY

KEY = bytes(range(32))
T0 = 1_790_000_000


def journal(n: int, key: bytes = KEY) -> list[bytes]:
    """A gate's day: sightings, with a decision every 10th record."""
    raws, prev = [], record.GENESIS
    for seq in range(n):
        if seq % 10 == 9:
            kind, payload = record.decision(record.ALLOW, record.BUTTON, record.ENFORCE,
                                            seq.to_bytes(12, "big"), -50, record.ANDROID, 12)
        else:
            kind, payload = record.sighting(seq.to_bytes(12, "big"), T0 + seq, T0 + seq + 30, -55,
                                            4, record.ANDROID, record.ADV)
        raws.append(record.encode(key, prev, seq, kind, T0 + seq, True, 1, payload))
        prev = record.mac_of(raws[-1])
    return raws


def batches(raws: list[bytes]):
    for start in range(0, len(raws), COMMIT_EVERY):
        yield raws[start:start + COMMIT_EVERY]


def ingest(db: Path, raws: list[bytes]) -> float:
    conn = store.open_store(db)
    start = time.perf_counter()
    prev_mac, prev_seq = record.GENESIS, -1
    with store.transaction(conn):
        store.begin_journal(conn, "board", "front", "A", "0.1.0", T0)
    for batch in batches(raws):
        good, why = record.verify_chain(KEY, batch, prev_mac, prev_seq)
        assert why is None, why
        with store.transaction(conn):
            store.store_records(conn, "board", "front", "A", batch, T0)
        prev_mac, prev_seq = record.mac_of(batch[-1]), prev_seq + good
    seconds = time.perf_counter() - start
    conn.close()
    return seconds


def baseline(db: Path, raws: list[bytes]) -> float:
    conn = store.open_store(db)  # same file settings (WAL, synchronous=NORMAL)
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=100_000)
    n = parser.parse_args().records
    raws = journal(n)
    with tempfile.TemporaryDirectory() as folder:
        plain = baseline(Path(folder) / "plain.db", raws)
        ours = ingest(Path(folder) / "ingest.db", raws)
    print(f"ingest of {n:,} records, {COMMIT_EVERY} per transaction:")
    print(f"  bzgate collect's ingest (verify + decode + store) {n / ours:12,.0f} records/s")
    print(f"  plain executemany of the raw records              {n / plain:12,.0f} records/s")
    print(f"  ratio (plain / ingest)                            {ours / plain:12.1f}x")


if __name__ == "__main__":
    main()
