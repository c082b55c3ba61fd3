"""Verified records as the rows of the store's tables: `records` (the signed bytes) and each
payload's table, codes written as names, with the retention day of what holds Bluezone IDs.

`day` (records, sightings, decisions) is the day (since the Unix epoch, UTC) a record's age is
counted from, the rule `purge` applies: its time when the gate's clock was valid, else the day it
was first collected (it was made before then): derived from the record and its first store
alone (a record stored again keeps its row: store_many skips it). Records of counts and events
(no IDs, never purged) have KEPT_DAY; a row written without a day has UNKNOWN_DAY.

Blobs (the signed bytes, IDs) are bytearrays: Python's sqlite3 binds those as they are, while a
bytes value first goes through its adapter lookup (about 3,300 instructions a value, about
half of what binding a sighting's other values costs); psycopg writes both alike.
"""

from typing import NamedTuple

from bzcore import record, recordread
from bzgate import hostrecord

DAY = 86400
KEPT_DAY = 2**31 - 1  # past any u32 time: counts' and events' records, which stay
UNKNOWN_DAY = -1  # the column's default: the purge judges such a row by its times

HEAD = ("board_id", "seq", "gate_id", "site", "time", "clock_valid")
COLUMNS = {
    "records": ("board_id", "seq", "raw", "collected", "day"),
    "sightings": HEAD + ("day", "id", "first_seen", "last_seen", "max_rssi", "count", "platform",
                         "source"),
    "decisions": HEAD + ("day", "verdict", "trigger", "mode", "id", "rssi", "platform",
                         "latency_ms", "presses", "reason"),
    "counts": HEAD + ("near", "present", "adverts", "drops"),
    "events": HEAD + ("code", "name", "detail", "text"),
}
PAYLOAD_TABLES = {record.SIGHTING: "sightings", record.DECISION: "decisions",
                  record.COUNT: "counts", record.EVENT: "events"}
PERSONAL = ("sightings", "decisions")  # the payload tables that hold IDs
_ROW_COUNTS = (*PAYLOAD_TABLES.values(), "unreadable")


class BoardRecords(NamedTuple):
    """One board's verified records (48 bytes each, in seq order) and where they were made."""
    board_id: str
    gate_id: str
    site: str
    raws: list


def _names(names: dict) -> tuple:
    """Each one-byte code's name; an unknown code as its number, so nothing genuine is dropped."""
    return tuple(names.get(code, str(code)) for code in range(256))


_PLATFORM, _SOURCE, _VERDICT, _TRIGGER, _MODE, _REASON, _EVENT = map(_names, (
    record.PLATFORM_NAMES, recordread.SOURCE_NAMES, record.VERDICT_NAMES, record.TRIGGER_NAMES,
    recordread.MODE_NAMES, record.REASON_NAMES, recordread.EVENT_NAMES))


def _decision(head, day, v):
    verdict, trigger, mode, ident, rssi, platform, latency, presses, reason = v
    if rssi == 0 and ident is None and verdict in (record.DENY, record.NO_APP):
        rssi = None  # a gate's firmware from before wrote a missing RSSI as 0
    return (*head, day, _VERDICT[verdict], _TRIGGER[trigger], _MODE[mode],
            ident and bytearray(ident), rssi, _PLATFORM[platform], latency, presses, _REASON[reason])


def _count(head, day, v):
    return (*head, *v)


def _event(head, day, v):
    code, detail, text = v
    return (*head, code, _EVENT[code], detail, text.decode("utf-8", "replace"))


_ROW = {record.DECISION: _decision, record.COUNT: _count, record.EVENT: _event}


def table_rows(board: BoardRecords, now: int, rows: dict[str, list]) -> tuple:
    """Appends the rows of `board`'s records to rows[table], collected at `now`. Returns (how
    many records went to each payload table, with "unreadable": genuine records whose payload
    does not parse, kept in `records` only; the seq and MAC of the last record)."""
    board_id, gate_id, site, raws = board
    stored = dict.fromkeys(_ROW_COUNTS, 0)
    collected_day = now // DAY
    add_record, add_sighting = rows["records"].append, rows["sightings"].append
    # per kind but sightings: its table, where its rows go, how they are made, whether they hold IDs
    kinds = {kind: (table, rows[table].append, _ROW[kind], table in PERSONAL)
             for kind, table in PAYLOAD_TABLES.items() if kind != record.SIGHTING}
    unpacked = hostrecord.unpacked
    sighting = hostrecord.LAYOUTS[record.SIGHTING].unpack
    no_id = hostrecord.NO_ID
    sightings_before = len(rows["sightings"])  # the general way below adds none
    seq = mac = None
    for raw in raws:
        # A sighting (nine records in ten) read and made into its rows in one step: half the
        # time of the general way below, which unpacked's tuple of values and the calls cost.
        if raw[4] == record.SIGHTING and raw[5] & ~record.FLAG_CLOCK_VALID == 0 \
                and len(raw) == record.RECORD_SIZE:
            seq, _, valid, t, _, ident, first, last, rssi, count, platform, source, mac = sighting(raw)
            day = t // DAY if valid else collected_day
            add_record((board_id, seq, bytearray(raw), now, day))
            add_sighting((board_id, seq, gate_id, site, t, valid, day,
                          None if ident == no_id else bytearray(ident), first, last, rssi, count,
                          _PLATFORM[platform], _SOURCE[source]))
            continue
        fields = unpacked(raw)
        if fields is None:
            raise ValueError(f"board {board_id}: {bytes(raw).hex()} is not a record")
        seq, kind, valid, t, values, mac = fields
        table, add, row, personal = kinds[kind]
        if values is None:
            table = "unreadable"
        stored[table] += 1
        day = (t // DAY if valid else collected_day) if personal and values is not None else KEPT_DAY
        add_record((board_id, seq, bytearray(raw), now, day))
        if values is not None:
            add(row((board_id, seq, gate_id, site, t, int(valid)), day, values))
    stored["sightings"] = len(rows["sightings"]) - sightings_before
    return stored, seq, mac
