"""Exports of stored sightings, decisions, counts or events as CSV, JSON lines or xlsx.

Rows stream from SQLite to the writer one at a time, so an export of millions of rows holds
only one row in memory. Every format has the same
columns: each time as `<name>_utc` (ISO, Z) and `<name>_local` (Asia/Ho_Chi_Minh), a
`clock_valid` flag (false: the gate's clock was not set, the time is not a date), and the ID as
it is (`full`), as a keyed hash (`hashed`) or not at all (`none`). A value the record does not
hold (an ID, a DENY's RSSI: no phone decided it) is an empty cell, or null in JSON; never 0.

Text is free text (a site, a gate id, an event's text): a CSV cell that Excel would take for a
formula gets an apostrophe in front (bzgate.textsafety), an xlsx cell is a text cell
(bzgate.export.xlsx), and JSON lines keep it as it is: they are data for programs, not a sheet.
"""

import csv
import json
from typing import IO, Callable, Iterable

from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

from bzgate.export.xlsx import Time, Workbook
from bzgate.localtime import LocalSeconds, local_text_maker, utc_text_maker
from bzgate.store.dialect import Connection
from bzgate.store.selection import Selection
from bzgate.textsafety import spreadsheet_text

WHAT = ("sightings", "decisions", "counts", "events")
FORMATS = ("csv", "jsonl", "xlsx")
IDS = ("hashed", "full", "none")  # the default first, as the help reads them
BOM = "\ufeff"  # tells Excel the CSV is UTF-8, so Vietnamese names show right
_JSON = json.JSONEncoder(ensure_ascii=False)  # one encoder: json.dumps(**options) makes one a call

_COMMON = (("board_id", "text"), ("seq", "int"), ("gate_id", "text"), ("site", "text"))
# per table: the column its time range filters on, and its fields in export order
TABLES = {
    "sightings": ("first_seen", _COMMON + (
        ("first_seen", "time"), ("last_seen", "time"), ("clock_valid", "bool"), ("id", "id"),
        ("max_rssi", "int"), ("count", "int"), ("platform", "text"), ("source", "text"))),
    "decisions": ("time", _COMMON + (
        ("time", "time"), ("clock_valid", "bool"), ("verdict", "text"), ("trigger", "text"),
        ("mode", "text"), ("id", "id"), ("rssi", "int"), ("platform", "text"),
        ("latency_ms", "int"), ("presses", "int"), ("reason", "text"))),
    "counts": ("time", _COMMON + (
        ("time", "time"), ("clock_valid", "bool"), ("near", "int"), ("present", "int"),
        ("adverts", "int"), ("drops", "int"))),
    "events": ("time", _COMMON + (
        ("time", "time"), ("clock_valid", "bool"), ("code", "int"), ("name", "text"),
        ("detail", "int"), ("text", "text"))),
}


def _as_is(value):
    return value


def _id_hex(ident: bytes | None) -> str | None:
    return None if ident is None else ident.hex().upper()


def _local_serial():
    shift = LocalSeconds()
    return lambda t: Time(shift(t))


def _flag_text(value: int) -> str:
    return "true" if value else "false"


def csv_text(value: str | None) -> str | None:
    """Text as a CSV cell that Excel shows and never runs."""
    return value if value is None else spreadsheet_text(value)


def xlsx_text(value: str | None) -> str | None:
    """Text as a worksheet can hold it: control characters, which xlsx cannot store, become
    U+FFFD rather than failing the export."""
    return value if value is None else ILLEGAL_CHARACTERS_RE.sub("\ufffd", value)


class Columns:
    """The output columns of one table for one format and ID policy, and the function that turns
    a database row into them: xlsx gets datetimes and booleans, JSON booleans, CSV only text."""

    def __init__(self, what: str, fmt: str, ids: str,
                 id_hash: Callable[[bytes], str] | None = None):
        fields = [field for field in TABLES[what][1] if not (field[1] == "id" and ids == "none")]
        self.select = ", ".join(name for name, _ in fields)
        self.names: list[str] = []
        self._makers: list[tuple[int, Callable]] = []
        hashed_id = (lambda ident: None if ident is None else id_hash(ident)) if id_hash else None
        xlsx = fmt == "xlsx"
        for index, (name, kind) in enumerate(fields):
            if kind == "time":
                self._add(f"{name}_utc", index, Time if xlsx else utc_text_maker())
                self._add(f"{name}_local", index, _local_serial() if xlsx else local_text_maker())
            elif kind == "id":
                self._add(name, index, hashed_id if ids == "hashed" else _id_hex)
            elif kind == "bool":
                self._add(name, index, _flag_text if fmt == "csv" else bool)
            elif kind == "text":
                self._add(name, index, _TEXT_CELLS[fmt])
            else:
                self._add(name, index, _as_is)

    def _add(self, name: str, index: int, make: Callable) -> None:
        self.names.append(name)
        self._makers.append((index, make))

    def cells(self, row: tuple) -> list:
        return [make(row[index]) for index, make in self._makers]


_TEXT_CELLS = {"csv": csv_text, "jsonl": _as_is, "xlsx": xlsx_text}


def query(conn: Connection, what: str, columns: Columns, selection: Selection):
    """The rows, oldest first, as a cursor: SQLite hands them over as they are read."""
    time_column = TABLES[what][0]
    where, params = selection.where(time_column)
    return conn.execute(f"SELECT {columns.select} FROM {what} WHERE {where} "
                        f"ORDER BY {time_column}, board_id, seq", params)


class Counted:
    """Rows passed on, counted: what an export handed out, even when it was stopped."""

    def __init__(self, rows: Iterable[tuple]):
        self._rows, self.count = rows, 0

    def __iter__(self):
        for row in self._rows:
            self.count += 1
            yield row


def write_csv(out: IO[str], columns: Columns, rows: Iterable[tuple]) -> None:
    out.write(BOM)
    writer = csv.writer(out, lineterminator="\r\n")  # RFC 4180, as Excel writes it
    writer.writerow(columns.names)
    writer.writerows(map(columns.cells, rows))


def write_jsonl(out: IO[str], columns: Columns, rows: Iterable[tuple]) -> None:
    for row in rows:
        out.write(_JSON.encode(dict(zip(columns.names, columns.cells(row)))))
        out.write("\n")


def write_xlsx(file, columns: Columns, rows: Iterable[tuple], title: str) -> None:
    """Rows go into the zip as they come (bzgate.export.xlsx), not into memory."""
    with Workbook(file, title, columns.names) as book:
        for row in rows:
            book.append(columns.cells(row))
