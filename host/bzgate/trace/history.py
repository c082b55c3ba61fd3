"""`bzgate trace --history`: which checkpoint gates a person passed, from their Bluezone history.

A history upload (docs/protocol.md §5.4) has one line per contact row, tab-separated:
    <own ID, 24 hex> <seen ID, 24 hex> <RSSI> <timestamp: ms on Android and old iOS, s on iOS 3.0.3>
The unit is told per line by magnitude (bzcore.idexpand.f0_seconds: above 10**11 is ms), since
one file may hold rows of both kinds. Blank lines are skipped; a line that does not parse is counted
with its number and why, and the rest are still used.

A gate with a checkpoint beacon advertises a Bluezone ID rolling from its own base key K0
(bzcore.beacon, keys in KeyStore.checkpoints()), so a phone near it logs the gate's IDs as
contacts. For each checkpoint, the IDs of every UTC day the history covers are derived as a
phone derives its own (SHA-256^n of K0, 96 slots of 15 minutes), and a row matches when it saw
one of them within that ID's slot widened by `tolerance` on both sides: the gate's advert, like
an Android phone's (docs/protocol.md §2.1), may still carry the previous slot's ID for a while
after the boundary, and the phone's clock, which stamps the row, may be off by some seconds; the
default is trace's 180 s (docs/protocol.md §8: at least 150 s, plus skew). Matched rows at one
gate less than PASS_GAP_S apart make one pass.
"""

from typing import NamedTuple

from bzcore import idexpand, ids
from bzcore.beacon import CHECKPOINT_MAX_IDS

PASS_GAP_S = 1800
BAD_SHOWN = 20  # bad lines listed by number; all are counted


class Row(NamedTuple):
    line: int
    own: bytes
    seen: bytes
    rssi: int
    time: int  # Unix seconds


class History(NamedTuple):
    rows: list[Row]
    bad: list[tuple[int, str]]  # (line number, why), every bad line


class Pass(NamedTuple):
    gate_id: str
    board_id: str
    first_seen: int
    last_seen: int
    rows: int
    best_rssi: int


def _id(text: str) -> bytes | None:
    try:
        value = bytes.fromhex(text)
    except ValueError:
        return None
    return value if len(value) == ids.ID_BYTES else None


def _row(number: int, line: str) -> Row | str:
    """The line's row, or why it is not one."""
    fields = line.split("\t")
    if len(fields) != 4:
        return f"{len(fields)} tab-separated fields, not 4"
    own, seen = _id(fields[0].strip()), _id(fields[1].strip())
    if own is None or seen is None:
        return "an ID that is not 24 hex digits"
    try:
        rssi = int(fields[2])
        stamp = int(fields[3])
    except ValueError:
        return "RSSI or timestamp not a whole number"
    if not -127 <= rssi <= 20:
        return f"RSSI {rssi} out of range"
    if stamp <= 0:
        return f"timestamp {stamp} out of range"
    return Row(number, own, seen, rssi, idexpand.f0_seconds(stamp))


def parse_history(text: str) -> History:
    rows, bad = [], []
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        parsed = _row(number, line.rstrip("\r"))
        if isinstance(parsed, Row):
            rows.append(parsed)
        else:
            bad.append((number, parsed))
    return History(rows, bad)


def checkpoint_windows(checkpoints: dict, since: int, until: int) -> dict:
    """{ID: [(board_id, gate_id, valid_from, valid_to)]} of every checkpoint's IDs on the UTC
    days from since's to until's (days before a checkpoint's K0 have no IDs)."""
    size = ids.slot_seconds(CHECKPOINT_MAX_IDS)
    out: dict[bytes, list] = {}
    for board_id, cp in checkpoints.items():
        day = max(ids.day_start(since), cp["day"])
        while day <= until:
            day_key = ids.key_for_day(cp["key"], cp["day"], day)
            for slot, ident in enumerate(idexpand.day_ids(day_key, CHECKPOINT_MAX_IDS)):
                start = day + slot * size
                out.setdefault(ident, []).append((board_id, cp["gate_id"], start, start + size))
            day += ids.DAY_SECONDS
    return out


def passes(history: History, checkpoints: dict, tolerance: int) -> list[Pass]:
    """The person's passes at checkpoint gates, in time order."""
    if not history.rows or not checkpoints:
        return []
    times = [row.time for row in history.rows]
    windows = checkpoint_windows(checkpoints, min(times) - tolerance, max(times) + tolerance)
    hits: dict[str, list] = {}
    for row in history.rows:
        for board_id, gate_id, valid_from, valid_to in windows.get(row.seen, ()):
            if valid_from - tolerance <= row.time <= valid_to + tolerance:
                hits.setdefault(board_id, []).append((row.time, row.rssi, gate_id))
                break
    found = []
    for board_id, rows in hits.items():
        rows.sort()
        start = 0
        for k in range(1, len(rows) + 1):
            if k == len(rows) or rows[k][0] - rows[k - 1][0] > PASS_GAP_S:
                part = rows[start:k]
                found.append(Pass(part[0][2], board_id, part[0][0], part[-1][0], len(part),
                                  max(r[1] for r in part)))
                start = k
    return sorted(found, key=lambda p: (p.first_seen, p.gate_id))
