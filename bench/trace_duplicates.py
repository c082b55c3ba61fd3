"""`make bench`: `bzgate trace` given an F0 file of one record copied many times.

An F0 file of --copies copies of one --days-day record (2,000 copies of a 365-day record: 272 KB)
traced against a small database. The command runs as its own process, so that its time and peak
memory (resource.getrusage of the child: ru_maxrss) are its own, the interpreter's start
included. The bar: one record's IDs expanded, whatever the copies, in a few seconds and under
200 MB.

`python bench/trace_duplicates.py --copies 20 --days 3` runs it small (the tests do).
"""

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH.parent / "host"))

from bzcore import idexpand, ids  # noqa: E402
from bzgate import store  # noqa: E402

DAY = 1600387200  # 2020-09-18 00:00 UTC
KEY = bytes(range(32))
MAX_RSS_MB = 200
MAX_SECONDS = 10


def f0_file(path: Path, copies: int, days: int) -> int:
    """The F0 JSON of `copies` copies of one record; its size in bytes."""
    entry = {"daily_key": KEY.hex(), "time_start": DAY, "max": 96,
             "time_end": DAY + days * ids.DAY_SECONDS - 1}
    path.write_text(json.dumps({"data": [entry] * copies}))
    return path.stat().st_size


def small_db(path: Path) -> None:
    """One sighting of the record's first ID, in its slot: a trace that finds nothing would
    measure nothing."""
    first_id = next(idexpand.expand_f0(KEY, DAY, 96, DAY + ids.DAY_SECONDS - 1))[0]
    conn = store.open_store(path)
    with store.transaction(conn):
        conn.execute("INSERT INTO sightings (board_id, seq, gate_id, site, time, clock_valid, id, "
                     "first_seen, last_seen, max_rssi, count, platform, source) VALUES "
                     "('b1', 0, 'front', 'HQ', ?, 1, ?, ?, ?, -50, 3, 'android', 'advert')",
                     (DAY + 60, first_id, DAY + 30, DAY + 60))
    conn.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--copies", type=int, default=2000)
    parser.add_argument("--days", type=int, default=365)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        f0, db = Path(folder) / "f0.json", Path(folder) / "bzgate.db"
        size = f0_file(f0, args.copies, args.days)
        small_db(db)
        started = time.perf_counter()
        run = subprocess.run([sys.executable, "-c", "from bzgate.cli import main; main()",
                              "trace", "--f0", str(f0), "--db", str(db), "--json"],
                             capture_output=True, text=True)
        seconds = time.perf_counter() - started
    peak_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024  # KiB on Linux
    if run.returncode:
        print(run.stderr, file=sys.stderr)
        return 1
    matches = len(json.loads(run.stdout)["matches"])
    print(f"trace of {args.copies:,} copies of one {args.days}-day record ({size / 1000:.0f} KB "
          f"of F0 JSON, {args.days * 96:,} IDs in one record): {seconds:.2f} s, peak RSS "
          f"{peak_mb:.0f} MB, {matches} match(es)")
    met = seconds <= MAX_SECONDS and peak_mb <= MAX_RSS_MB and matches == 1
    print(f"  bar: within {MAX_SECONDS} s and {MAX_RSS_MB} MB, the planted sighting found: "
          f"{'met' if met else 'NOT met'}")
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())
