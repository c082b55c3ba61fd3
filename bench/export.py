"""`make bench`: export rows per second, CSV and xlsx, against a plain csv.writer baseline.

A fresh SQLite store gets N sightings (two gates, a Vietnamese site name, 12-byte IDs). Each
run reads the same SELECT over all of them and writes a file in a temporary folder:
  baseline  csv.writer.writerows over the raw rows (no BOM, times as integers, IDs as bytes)
  csv       bzgate's CSV (UTC and local time columns, hex IDs)
  csv-hash  the same with IDs as keyed hashes
  jsonl     JSON lines
  xlsx      the streamed xlsx (typed cells)
Figures are the best of REPEAT runs, printed with each one's cost against the baseline.

Then the xlsx writer against XlsxWriter's constant_memory mode (rows streamed to a temporary
file, strings inline), both writing the same cells from the same SELECT: text, numbers,
booleans, times as dates, a bold header. Each gets its best time of REPEAT runs and its peak
traced Python memory (tracemalloc, over the first MEMORY_ROWS rows in a run of its own, so
tracing does not slow the timed runs).
Everything is saved to bench/results/export.json.
"""

import csv
import itertools
import json
import random
import sqlite3
import tempfile
import time
import tracemalloc
from pathlib import Path

import xlsxwriter

from bzgate import store

from bzgate.export import tables as export
from bzgate.export.xlsx import Time

from bzgate.store import sitesecret
from bzgate.store.selection import Selection

BENCH = Path(__file__).resolve().parent

N = 200_000
REPEAT = 2
MEMORY_ROWS = 20_000  # a streaming writer's peak does not grow with the rows; tracing is slow
START = 1_600_400_000  # 2020-09-18, a Friday morning in Ho Chi Minh City
XLSX_COLUMNS = export.Columns("sightings", "xlsx", "full")


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


def bzgate_xlsx(rows, folder: Path) -> None:
    export.write_xlsx(folder / "out.xlsx", XLSX_COLUMNS, rows, "sightings")


def xlsxwriter_constant_memory(rows, folder: Path) -> None:
    """The cells bzgate's xlsx holds, written by XlsxWriter; text stays text (no formulas, links
    or numbers made of it)."""
    book = xlsxwriter.Workbook(folder / "xlsxwriter.xlsx", {
        "constant_memory": True, "strings_to_formulas": False, "strings_to_urls": False,
        "strings_to_numbers": False})
    date = book.add_format({"num_format": "yyyy-mm-dd hh:mm:ss"})
    sheet = book.add_worksheet("sightings")
    sheet.write_row(0, 0, XLSX_COLUMNS.names, book.add_format({"bold": True}))
    text, number, flag = sheet.write_string, sheet.write_number, sheet.write_boolean
    for r, row in enumerate(rows, 1):
        for c, value in enumerate(XLSX_COLUMNS.cells(row)):
            kind = type(value)
            if kind is str:
                text(r, c, value)
            elif kind is bool:
                flag(r, c, value)
            elif kind is Time:
                number(r, c, value / 86400 + 25569, date)  # Excel's serial day, as bzgate writes it
            elif value is not None:
                number(r, c, value)
    book.close()


def best_rate(run, conn, folder: Path) -> float:
    rates = []
    for _ in range(REPEAT):
        began = time.perf_counter()
        run(conn, folder)
        rates.append(N / (time.perf_counter() - began))
    return max(rates)


def peak_memory(write, conn, folder: Path) -> int:
    """Peak bytes of Python memory held while writing the first MEMORY_ROWS rows (tracemalloc)."""
    rows = itertools.islice(export.query(conn, "sightings", XLSX_COLUMNS, Selection()), MEMORY_ROWS)
    tracemalloc.start()
    try:
        write(rows, folder)
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def compare_xlsx_writers(conn, folder: Path, bzgate_rate: float) -> dict:
    """bzgate's rate is the xlsx row of the table above; XlsxWriter is timed on the same query."""
    def xlsxwriter_run(conn, folder: Path) -> None:
        xlsxwriter_constant_memory(export.query(conn, "sightings", XLSX_COLUMNS, Selection()), folder)
    writers = {"bzgate xlsx": (bzgate_xlsx, bzgate_rate),
               "XlsxWriter constant_memory": (xlsxwriter_constant_memory,
                                              best_rate(xlsxwriter_run, conn, folder))}
    figures = {name: {"rows_per_s": round(rate), "peak_bytes": peak_memory(write, conn, folder)}
               for name, (write, rate) in writers.items()}
    print(f"\nxlsx writers, the same {N:,} rows and cells (peak memory: the first {MEMORY_ROWS:,})")
    print(f"{'writer':<28}{'rows/s':>10}{'peak memory':>14}")
    for name, figure in figures.items():
        print(f"{name:<28}{figure['rows_per_s']:>10,}{figure['peak_bytes'] / 2**20:>11.2f} MiB")
    ours, theirs = figures.values()
    time_ratio = ours["rows_per_s"] / theirs["rows_per_s"]
    memory_ratio = theirs["peak_bytes"] / ours["peak_bytes"]
    print(f"XlsxWriter takes {time_ratio:.2f}x bzgate's time and {memory_ratio:.2f}x its memory")
    return {"writers": figures, "xlsxwriter_time_ratio": round(time_ratio, 2),
            "xlsxwriter_memory_ratio": round(memory_ratio, 2)}


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
        rates = {}
        for name, run in runs.items():
            rate = rates[name] = best_rate(run, conn, folder)
            print(f"{name:<18}{rate:>12,.0f}{base / rate:>15.1f}x")
            results["rows"].append({"output": name, "rows_per_s": round(rate),
                                    "slower_than_baseline": round(base / rate, 2)})
        results["xlsx_writers"] = compare_xlsx_writers(conn, folder, rates["xlsx"])
    out = BENCH / "results"
    out.mkdir(exist_ok=True)
    (out / "export.json").write_text(json.dumps(results, indent=1))
    print(f"saved {out / 'export.json'}")


if __name__ == "__main__":
    main()
