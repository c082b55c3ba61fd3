"""Published F0 keys as the health authority sends them (docs/protocol.md §5.2).

Accepted: the F0 JSON itself, `{"data": [{"daily_key", "time_start", "max", "time_end"}]}`, or
the push notification that carries it (`{"Type": "KiemTraLichSuTiepXuc", "DataContent": ...}`,
with or without Firebase's `{"message": {"data": ...}}` around it), where DataContent and its
InfoF are JSON given as strings. Times in seconds or milliseconds (values above 10**11), as
numbers or numeric strings. Anything else is refused with the entry at fault named. A file
larger than MAX_FILE_BYTES is refused unread: it is not a list of F0 keys.
"""

import json
import math
from pathlib import Path
from typing import NamedTuple

from bzcore import idexpand, ids
from bzgate.errors import UserError

# Keys that lead from a notification to the F0 JSON, tried in this order.
_WRAPPERS = ("message", "data", "DataContent", "InfoF")
_DEEPEST = 2 * len(_WRAPPERS)  # each wrapper, and each as a JSON string
# A record longer than this is a mistake in the file, not a trace (the app looks 15 days back).
MAX_SPAN_DAYS = 366
# About 200,000 records, far more than trace takes days of (bzgate.trace.matching.MAX_DAYS):
# the file, its JSON and its records are held whole.
MAX_FILE_BYTES = 32 * 2**20
_YEAR_2100 = 4102444800


class F0Record(NamedTuple):
    daily_key: bytes
    time_start: int  # 00:00 UTC of the key's day, Unix seconds
    max_ids: int  # ID slots per day
    time_end: int  # last instant to test, Unix seconds


def read_f0_file(path: Path) -> list[F0Record]:
    """The F0 records in the file at `path` (UTF-8, with or without a BOM)."""
    try:
        with open(path, "rb") as f:
            raw = f.read(MAX_FILE_BYTES + 1)
        if len(raw) > MAX_FILE_BYTES:
            raise UserError(f"{path} is larger than {MAX_FILE_BYTES:,} bytes: no list of F0 keys "
                            "is, and trace does not read it")
        text = raw.decode("utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise UserError(f"cannot read {path}: {exc}") from None
    return read_f0(text, str(path))


def read_f0(text: str, source: str) -> list[F0Record]:
    """The F0 records in `text` (the content of file `source`)."""
    entries, where = _f0_entries(_json(text, source), source)
    if not entries:
        raise UserError(f"{where}: no F0 records (data is empty)")
    return [_record(entry, f"{where} data[{n}]") for n, entry in enumerate(entries)]


def _json(text: str, where: str):
    try:
        return json.loads(text)
    except (ValueError, RecursionError) as exc:
        raise UserError(f"{where} is not JSON ({exc})") from None


def _f0_entries(value, where: str, depth: int = 0) -> tuple[list, str]:
    """Unwrap a notification down to the F0 JSON's data list."""
    if depth > _DEEPEST:
        raise UserError(f"{where}: no F0 data here: wrapped more than {_DEEPEST} times")
    if isinstance(value, str):
        return _f0_entries(_json(value, where), where, depth + 1)
    if isinstance(value, dict):
        if isinstance(value.get("data"), list):
            return value["data"], where
        for key in _WRAPPERS:
            if key in value:
                return _f0_entries(value[key], f"{where} {key}", depth + 1)
    raise UserError(f'{where}: no F0 data here: expected {{"data": [...]}} or a notification '
                    "whose DataContent holds InfoF")


def _record(entry, where: str) -> F0Record:
    if not isinstance(entry, dict):
        raise UserError(f"{where}: expected an object with daily_key, time_start, max, time_end")
    missing = [k for k in ("daily_key", "time_start", "max", "time_end") if k not in entry]
    if missing:
        raise UserError(f"{where}: missing {', '.join(missing)}")
    key = entry["daily_key"]
    try:
        day_key = bytes.fromhex(key) if isinstance(key, str) else b""
    except ValueError:
        day_key = b""
    if len(day_key) != ids.KEY_BYTES:
        raise UserError(f"{where}: daily_key must be 64 hex digits, got {key!r}")
    start = idexpand.f0_seconds(_integer(entry["time_start"], f"{where} time_start"))
    end = idexpand.f0_seconds(_integer(entry["time_end"], f"{where} time_end"))
    max_ids = _integer(entry["max"], f"{where} max")
    if max_ids < 1 or ids.DAY_SECONDS % max_ids:
        raise UserError(f"{where}: max must divide 86400 (96, or 144 for Android v2.0), "
                        f"got {max_ids}")
    if not 0 <= start < _YEAR_2100:
        raise UserError(f"{where}: time_start {start} is not a time between 1970 and 2100")
    if start != ids.day_start(start):
        raise UserError(f"{where}: time_start {start} is not 00:00 UTC; it must be the start "
                        "of the daily key's day")
    if not start <= end < start + MAX_SPAN_DAYS * ids.DAY_SECONDS:
        raise UserError(f"{where}: time_end {end} must be from time_start {start} to "
                        f"{MAX_SPAN_DAYS} days after it")
    return F0Record(day_key, start, max_ids, end)


def _integer(value, where: str) -> int:
    """A whole number of seconds or ms, from a number or a numeric string (Android reads both);
    iOS writes Doubles, whose fraction is dropped."""
    if not isinstance(value, bool):
        try:
            number = float(value) if isinstance(value, str) else value
            if isinstance(number, (int, float)):
                return math.floor(number)
        except (ValueError, OverflowError):  # not a number, inf, nan
            pass
    raise UserError(f"{where}: expected a number, got {value!r}")
