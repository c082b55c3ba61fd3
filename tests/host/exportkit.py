"""Stored rows for export and report tests, written straight into a real SQLite store."""

import calendar
import datetime as dt
import itertools

from bzgate import store

DEFAULTS = {
    "sightings": {"id": None, "first_seen": None, "last_seen": None, "max_rssi": -55, "count": 3,
                  "platform": "android", "source": "adv"},
    "decisions": {"verdict": "allow", "trigger": "button", "mode": "enforce", "id": None,
                  "rssi": -50, "platform": "android", "latency_ms": 4},
    "counts": {"near": 1, "present": 2, "adverts": 40, "drops": 0},
    "events": {"code": 1, "name": "boot", "detail": 0, "text": ""},
}


def utc(text: str) -> int:
    """'2020-09-18 08:05' (UTC) as Unix seconds."""
    return calendar.timegm(dt.datetime.strptime(text, "%Y-%m-%d %H:%M").timetuple())


def ident(n: int) -> bytes:
    return n.to_bytes(12, "big")


class Builder:
    """Adds rows with a fresh seq per board, inside one transaction per call."""

    def __init__(self, path):
        self.path = path
        self.conn = store.open_store(path)
        self._seq = itertools.count()

    def add(self, table: str, time: int, gate: str = "front", site: str = "Sở Y tế",
            board: str = "b1", clock_valid: bool = True, **fields) -> None:
        row = {"board_id": board, "seq": next(self._seq), "gate_id": gate, "site": site,
               "time": time, "clock_valid": int(clock_valid), **DEFAULTS[table], **fields}
        if table == "sightings":
            row["first_seen"] = row["first_seen"] or time
            row["last_seen"] = row["last_seen"] or row["first_seen"] + 20
        names = ", ".join(row)
        with store.transaction(self.conn):
            self.conn.execute(f"INSERT INTO {table} ({names}) VALUES ({', '.join('?' * len(row))})",
                              list(row.values()))

    def audit(self, action: str) -> list[str]:
        return [detail for (detail,) in self.conn.execute(
            "SELECT detail FROM audit WHERE action = ? ORDER BY rowid", (action,))]
