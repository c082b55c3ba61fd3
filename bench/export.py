"""`make bench`: export rows per second, CSV and xlsx, against a plain csv.writer baseline.

A fresh SQLite store gets N sightings (two gates, a Vietnamese site name, 12-byte IDs). Each
run reads the same SELECT over all of them and writes a file in a temporary folder:
  baseline  csv.writer.writerows over the raw rows (no BOM, times as integers, IDs as bytes)
  csv       bzgate's CSV (UTC and local time columns, hex IDs)
  csv-hash  the same with IDs as keyed hashes
  jsonl     JSON lines
  xlsx      the streamed xlsx (typed cells)
Figures are the best of REPEAT runs, printed with each one's cost against the baseline, and
saved to bench/results/export.json.
"""

import csv
import json
import random
import sqlite3
import tempfile
import time
from pathlib import Path

from bzgate import store

from bzgate.export import tables as export

from bzgate.store import sitesecret
from bzgate.store.selection import Selection

BENCH = Path(__file__).resolve().parent

N = 200_000
REPEAT = 2
START = 1_600_400_000  # 2020-09-18, a Friday morning in Ho Chi Minh City


def fill(path: Path, n: int) -> sqlite3.Connection:
    conn = store.open_store(path)
    rng = random.Random(7)
    rows = ((f"board{seq % 2}", seq, ("front", "back")[seq % 2], "Sở Y tế Thành phố Hồ Chí Minh",
             START + seq, 1, rng.randbytes(12), START + seq, START + seq + 40,
             -rng.randrange(40, 90), rng.randrange(1, 30), ("android", "ios")[seq % 3 == 0], "adv")
            for seq in range(n))
    with store.transaction(conn):
        conn.executemany("INSERT INTO sightings (board_id, seq, gate_id, site, time, clock_valid, "
                         "id, first_seen, last_seen, max_rssi, count, platform, source) VALUES "
                         "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", rows)
    return conn


def baseline(conn, folder: Path) -> None:
    columns = export.Columns("sightings", "csv", "full")  # the same SELECT as bzgate's
    with open(folder / "plain.csv", "w", newline="") as f:
        csv.writer(f).writerows(export.query(conn, "sightings", columns, Selection()))


def bzgate(fmt: str, ids: str = "full"):
    """One of bzgate's exports, as `bzgate export --what sightings` runs it."""
    def run(conn, folder: Path) -> None:
        hashed = sitesecret.hasher(b"\x01" * 32) if ids == "hashed" else None
        columns = export.Columns("sightings", fmt, ids, hashed)
        rows = export.query(conn, "sightings", columns, Selection())
        if fmt == "xlsx":
            export.write_xlsx(folder / "out.xlsx", columns, rows, "sightings")
            return
        write = export.write_csv if fmt == "csv" else export.write_jsonl
        with open(folder / f"out.{fmt}", "w", encoding="utf-8", newline="") as f:
            write(f, columns, rows)
    return run


def best_rate(run, conn, folder: Path) -> float:
    rates = []
    for _ in range(REPEAT):
        began = time.perf_counter()
        run(conn, folder)
        rates.append(N / (time.perf_counter() - began))
    return max(rates)


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        began = time.perf_counter()
        conn = fill(folder / "bench.db", N)
        print(f"export of {N:,} sightings; store filled in "
              f"{time.perf_counter() - began:.1f} s")
        base = best_rate(baseline, conn, folder)
        runs = {"csv": bzgate("csv"), "csv, hashed IDs": bzgate("csv", "hashed"),
                "jsonl": bzgate("jsonl"), "xlsx": bzgate("xlsx")}
        print(f"{'output':<18}{'rows/s':>12}{'baseline / it':>16}")
        print(f"{'baseline csv':<18}{base:>12,.0f}{1:>15.1f}x")
        results = {"n": N, "baseline_rows_per_s": round(base), "rows": []}
        for name, run in runs.items():
            rate = best_rate(run, conn, folder)
            print(f"{name:<18}{rate:>12,.0f}{base / rate:>15.1f}x")
            results["rows"].append({"output": name, "rows_per_s": round(rate),
                                    "slower_than_baseline": round(base / rate, 2)})
    out = BENCH / "results"
    out.mkdir(exist_ok=True)
    (out / "export.json").write_text(json.dumps(results, indent=1))
    print(f"saved {out / 'export.json'}")


if __name__ == "__main__":
    main()
