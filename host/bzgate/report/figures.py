"""The figures of a gate report, counted in SQLite: per unit (local day, site or gate) and in
total, the people at the gate (decisions), how many were allowed, denied or had no app, the
compliance rate, the distinct Bluezone IDs seen with their Android/iOS split, and the busiest
hour; with the compliance of each day for the chart.

Only records with a valid clock are counted (the others cannot be placed in time); how many
were left out is part of the report.
"""

import datetime as dt
from dataclasses import dataclass, field

from bzcore.record import ALLOW, DENY, NO_APP, VERDICT_NAMES
from bzgate.localtime import LOCAL, local_time
from bzgate.store.dialect import Connection
from bzgate.store.selection import Selection

BY = ("day", "site", "gate")


@dataclass
class Line:
    """One row of the table: a unit, or the total."""
    unit: str
    triggers: int = 0
    allowed: int = 0
    denied: int = 0
    no_app: int = 0
    devices: int = 0
    android: int = 0
    ios: int = 0
    hours: dict[int, int] = field(default_factory=dict)  # local hour -> triggers

    def add(self, hour: int, triggers: int, allowed: int, denied: int, no_app: int) -> None:
        self.triggers += triggers
        self.allowed += allowed
        self.denied += denied
        self.no_app += no_app
        self.hours[hour] = self.hours.get(hour, 0) + triggers

    @property
    def compliance(self) -> float | None:
        return self.allowed / self.triggers if self.triggers else None

    @property
    def busiest_hour(self) -> int | None:
        """The local hour with the most people at the gate (the earliest of a tie)."""
        if not self.hours:
            return None
        return min(self.hours, key=lambda hour: (-self.hours[hour], hour))


@dataclass
class Report:
    by: str
    selection: Selection
    lines: list[Line]
    total: Line
    daily: list[Line]  # per local day, for the chart, whatever `by` is
    first: int | None  # the earliest and latest counted record (Unix seconds)
    last: int | None
    unplaced: int  # records at the selected sites and gates without a valid clock
    made: int

    @property
    def empty(self) -> bool:
        return self.first is None


def _unit(by: str, site: str, gate: str, day: str) -> str:
    if by == "day":
        return day
    if by == "site":
        return site
    return f"{site} · {gate}" if site else gate


def _decisions(conn, selection: Selection, by: str, lines: dict, total: Line,
               daily: dict) -> None:
    """Counts per gate and hour of UTC in SQL, summed here into units, total and days. An hour of
    UTC is one hour of Vietnam's clock: its offsets have been whole hours since 1906."""
    where, params = selection.where("time", valid_clock_only=True)
    verdicts = [VERDICT_NAMES[ALLOW], VERDICT_NAMES[DENY], VERDICT_NAMES[NO_APP]]
    local_hours: dict[int, tuple[str, int]] = {}
    for site, gate, hour, *counts in conn.execute(
            "SELECT site, gate_id, time / 3600 AS h, count(*), "
            "count(CASE WHEN verdict = ? THEN 1 END), "
            "count(CASE WHEN verdict = ? THEN 1 END), count(CASE WHEN verdict = ? THEN 1 END) "
            f"FROM decisions WHERE {where} "
            "GROUP BY site, gate_id, h", verdicts + params):
        if hour not in local_hours:
            start = local_time(hour * 3600)
            local_hours[hour] = (start.date().isoformat(), start.hour)
        day, local_hour = local_hours[hour]
        name = _unit(by, site, gate, day)
        for line in (lines.setdefault(name, Line(name)), total, daily.setdefault(day, Line(day))):
            line.add(local_hour, *counts)


_DEVICES = ("count(DISTINCT id), count(DISTINCT CASE platform WHEN 'android' THEN id END), "
            "count(DISTINCT CASE platform WHEN 'ios' THEN id END)")


def _devices(conn, selection: Selection, by: str, lines: dict, total: Line,
             first: int, last: int) -> None:
    """Distinct IDs per unit and in all, counted by SQLite; local days as time ranges, so the
    index on first_seen serves each day."""
    where, params = selection.where("first_seen", valid_clock_only=True)
    seen = f"FROM sightings WHERE {where} AND id IS NOT NULL"
    total.devices, total.android, total.ios = conn.execute(f"SELECT {_DEVICES} {seen}",
                                                           params).fetchone()
    if by == "day":
        conn.execute("CREATE TEMP TABLE IF NOT EXISTS report_days "
                     "(day TEXT, day_start INTEGER, day_end INTEGER)")
        conn.execute("DELETE FROM report_days")
        conn.executemany("INSERT INTO report_days VALUES (?, ?, ?)", _local_days(first, last))
        query = (f"SELECT '', '', day, {_DEVICES} FROM report_days JOIN sightings "
                 f"ON first_seen >= day_start AND first_seen < day_end WHERE {where} "
                 "AND id IS NOT NULL GROUP BY day")
    else:  # an ID seen at two gates of a site is one device at that site
        gate = "gate_id" if by == "gate" else "''"
        query = f"SELECT site, {gate} AS g, '', {_DEVICES} {seen} GROUP BY site, g"
    for site, gate, day, devices, android, ios in conn.execute(query, params):
        name = _unit(by, site, gate, day)
        line = lines.setdefault(name, Line(name))
        line.devices, line.android, line.ios = devices, android, ios


def _local_days(first: int, last: int):
    """(day, start, end) for each local day from `first` to `last`, in Unix seconds."""
    day, end = local_time(first).date(), local_time(last).date()
    while day <= end:
        after = day + dt.timedelta(days=1)
        yield (day.isoformat(), _midnight(day), _midnight(after))
        day = after


def _midnight(day: dt.date) -> int:
    return int(dt.datetime(day.year, day.month, day.day, tzinfo=LOCAL).timestamp())


def _extent(conn, selection: Selection) -> tuple[int | None, int | None]:
    firsts, lasts = [], []
    for table, column in (("decisions", "time"), ("sightings", "first_seen")):
        where, params = selection.where(column, valid_clock_only=True)
        first, last = conn.execute(f"SELECT min({column}), max({column}) FROM {table} "
                                   f"WHERE {where}", params).fetchone()
        if first is not None:
            firsts.append(first)
            lasts.append(last)
    return (min(firsts), max(lasts)) if firsts else (None, None)


def _unplaced(conn, selection: Selection) -> int:
    places = Selection(sites=selection.sites, gates=selection.gates)
    where, params = places.where("time")
    return sum(conn.execute(f"SELECT count(*) FROM {table} WHERE {where} AND clock_valid = 0",
                            params).fetchone()[0] for table in ("decisions", "sightings"))


def build(conn: Connection, selection: Selection, by: str) -> Report:
    lines: dict[str, Line] = {}
    daily: dict[str, Line] = {}
    total = Line("")
    first, last = _extent(conn, selection)
    if first is not None:
        _decisions(conn, selection, by, lines, total, daily)
        _devices(conn, selection, by, lines, total, first, last)
    return Report(by=by, selection=selection, lines=[lines[name] for name in sorted(lines)],
                  total=total, daily=[daily[day] for day in sorted(daily)], first=first,
                  last=last, unplaced=_unplaced(conn, selection),
                  made=int(dt.datetime.now(dt.timezone.utc).timestamp()))
