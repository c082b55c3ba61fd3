"""The rows the store writes for records (bzgate.store.rows.table_rows) hold what the firmware's
bzcore.record reads from them, column by column, for the case table's records and many random
records of every kind, with and without a valid clock, IDs and RSSIs that mean "none" and codes
no name is known for."""

import random

from test_hostrecord import case_records, random_records

from bzcore import record, recordread
from bzgate.store.rows import COLUMNS, DAY, KEPT_DAY, PAYLOAD_TABLES, PERSONAL, BoardRecords, table_rows

NOW = 1_790_000_000
NAMES = {"platform": record.PLATFORM_NAMES, "source": recordread.SOURCE_NAMES,
         "verdict": record.VERDICT_NAMES, "trigger": record.TRIGGER_NAMES,
         "mode": recordread.MODE_NAMES, "reason": record.REASON_NAMES}


def _named(name: str, code: int):
    return NAMES[name].get(code, str(code)) if name in NAMES else code


def expected(raw: bytes) -> dict[str, list]:
    """{table: its rows} of one record, from bzcore.record's and bzcore.recordread's reading."""
    rec = record.decode(raw)
    fields = recordread.payload_fields(rec.kind, rec.payload)
    table = PAYLOAD_TABLES[rec.kind]
    personal = table in PERSONAL and fields is not None
    day = (rec.time // DAY if rec.clock_valid else NOW // DAY) if personal else KEPT_DAY
    rows = {"records": [("b1", rec.seq, raw, NOW, day)]}
    if fields is None:
        return rows
    values = {"board_id": "b1", "seq": rec.seq, "gate_id": "front", "site": "A", "time": rec.time,
              "clock_valid": int(rec.clock_valid), "day": day,
              **{name: _named(name, value) for name, value in fields.items()}}
    if rec.kind == record.DECISION and values["id"] is None and values["rssi"] == 0 \
            and fields["verdict"] in (record.DENY, record.NO_APP):
        values["rssi"] = None  # firmware from before wrote a missing RSSI as 0
    if rec.kind == record.EVENT:
        values.update(name=recordread.EVENT_NAMES.get(fields["code"], str(fields["code"])),
                      text=fields["text"].decode("utf-8", "replace"))
    rows[table] = [tuple(values[column] for column in COLUMNS[table])]
    return rows


def _plain(rows: dict[str, list]) -> dict[str, list]:
    """Rows with their bytearrays as bytes, and no empty tables."""
    return {table: [tuple(bytes(v) if isinstance(v, bytearray) else v for v in row) for row in kept]
            for table, kept in rows.items() if kept}


def check(raws: list[bytes]) -> None:
    raws = [raw for raw in raws if record.decode(raw) is not None]
    for raw in raws:
        rows = {table: [] for table in COLUMNS}
        table_rows(BoardRecords("b1", "front", "A", [raw]), NOW, rows)
        assert _plain(rows) == expected(raw), raw.hex()


def test_the_case_table_s_records_make_the_rows_bzcore_reads():
    check(case_records())


def test_random_records_of_every_kind_make_the_rows_bzcore_reads():
    check(random_records(random.Random(20260), 20_000))


def test_a_journal_s_rows_come_in_its_order_and_are_counted_by_table():
    raws = [raw for raw in random_records(random.Random(7), 2_000) if record.decode(raw)]
    rows = {table: [] for table in COLUMNS}
    stored, seq, mac = table_rows(BoardRecords("b1", "front", "A", raws), NOW, rows)
    one_by_one: dict[str, list] = {}
    for raw in raws:
        for table, kept in expected(raw).items():
            one_by_one.setdefault(table, []).extend(kept)
    assert _plain(rows) == one_by_one
    assert stored["sightings"] == len(one_by_one["sightings"]) > 100
    assert sum(stored.values()) == len(raws)
    assert (seq, mac) == (record.decode(raws[-1]).seq, record.decode(raws[-1]).mac)
