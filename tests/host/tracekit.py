"""Sightings for trace tests, written straight into a store as collection writes them.

    db = sightings_db(tmp_path / "t.db", [sighting(F0_SLOT2, "front", T_SLOT2 + 123)])
"""

import itertools
import json
from pathlib import Path

from bzgate import store

# The test vector key of docs/protocol.md §9 and its IDs on 2020-09-18 (max 96, 900 s slots).
F0_KEY = "000102030405060708090A0B0C0D0E0F101112131415161718191A1B1C1D1E1F"
DAY = 1600387200  # 2020-09-18 00:00 UTC
SLOT2_ID = bytes.fromhex("648C30B3A8352FEAC3721277")  # valid [DAY + 1800, DAY + 2700)
SLOT2_FROM, SLOT2_TO = DAY + 1800, DAY + 2700
NEXT_DAY_SLOT0_ID = bytes.fromhex("970E23C0E19DE93F8CC4057B")  # valid from DAY + 86400

_seq = itertools.count()


def sighting(ident: bytes | None, gate: str, first_seen: int, last_seen: int | None = None,
             site: str = "HQ", rssi: int = -55, clock_valid: int = 1) -> tuple:
    """One sightings row: (board_id, seq, gate_id, site, time, clock_valid, id, first_seen,
    last_seen, max_rssi, count, platform, source)."""
    last = first_seen if last_seen is None else last_seen
    return (f"board-{gate}", next(_seq), gate, site, last, clock_valid, ident, first_seen, last,
            rssi, 3, "android" if ident else "ios", "advert" if ident else "gatt")


def sightings_db(path: Path, rows: list[tuple]) -> Path:
    conn = store.open_store(path)
    with store.transaction(conn):
        conn.executemany("INSERT INTO sightings (board_id, seq, gate_id, site, time, clock_valid, "
                         "id, first_seen, last_seen, max_rssi, count, platform, source) "
                         "VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)", rows)
    conn.close()
    return path


def f0_json(key: str = F0_KEY, time_start: int = DAY, time_end: int = DAY + 2 * 86400 - 1,
            max_ids: int = 96) -> dict:
    return {"data": [{"daily_key": key, "time_start": time_start, "max": max_ids,
                      "time_end": time_end}]}


def notification(f0: dict) -> dict:
    """The push message that carries F0 keys to phones, as Firebase delivers it: DataContent and
    its InfoF are JSON inside strings."""
    content = {"FindGUID": "123456", "Numberdays": 14, "InfoF": json.dumps(f0)}
    return {"message": {"data": {"Type": "KiemTraLichSuTiepXuc",
                                 "DataContent": json.dumps(content)}}}
