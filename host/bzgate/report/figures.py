"""The figures of a gate report, counted in SQL: per row (local day, site, gate, or unit of an
organisation file) and in total, the people at the gate, how many were allowed, had no app or
were exempt, the compliance rate, exits; per day, site or gate the distinct Bluezone IDs seen
with their Android/iOS split and the busiest hour; per unit its headcount and the estimated
staff running Bluezone; with the compliance of each day for the chart.

Only records with a valid clock are counted (the others cannot be placed in time); how many
were left out is part of the report.
"""

import datetime as dt
from dataclasses import dataclass, field

from bzgate.localtime import LOCAL, local_time
from bzgate.report.org import Organisation
from bzgate.store.dialect import Connection
from bzgate.store.selection import Selection

BY = ("day", "site", "gate", "unit")

# How decisions count, by their verdict's name (bzcore.record.VERDICT_NAMES), the contract with
# the firmware: people at the gate are those allowed, without the app (DENY in enforce mode,
# NO_APP in monitor mode: no phone found either way) and exempt; an exit is nobody coming in.
COUNTED = {"allowed": ("allow",), "no_app": ("deny", "no-app"), "exempt": ("exempt",),
           "exits": ("exit",)}


@dataclass
class Line:
    """One row of the table: a day, site, gate or unit (None: gates in no unit), or the total."""
    unit: str | None
    people: int = 0
    allowed: int = 0
    no_app: int = 0
    exempt: int = 0
    exits: int = 0
    devices: int = 0
    android: int = 0
    ios: int = 0
    hours: dict[int, int] = field(default_factory=dict)  # local hour -> people at the gate
    headcount: int | None = None  # a unit's staff, from the organisation file
    smartphones: int | None = None
    units: list["Line"] = field(default_factory=list)  # the units a total row adds up

    def add(self, hour: int, allowed: int, no_app: int, exempt: int, exits: int) -> None:
        people = allowed + no_app + exempt
        self.people += people
        self.allowed += allowed
        self.no_app += no_app
        self.exempt += exempt
        self.exits += exits
        if people:
            self.hours[hour] = self.hours.get(hour, 0) + people

    @property
    def compliance(self) -> float | None:
        """Allowed among the people who had to show the app (the exempt did not)."""
        checked = self.people - self.exempt
        return self.allowed / checked if checked else None

    @property
    def estimated(self) -> int | None:
        """Staff running Bluezone, estimated as compliance x headcount (rounded half up): the
        people at the gate taken as a fair sample of the unit's staff. A total adds up its
        units' estimates, as a reader adding up the column would."""
        if self.units:
            estimates = [unit.estimated for unit in self.units if unit.estimated is not None]
            return sum(estimates) if estimates else None
        if self.compliance is None or self.headcount is None:
            return None
        return int(self.compliance * self.headcount + 0.5)

    @property
    def rate(self) -> float | None:
        return _share(self.estimated, self.headcount)

    @property
    def smartphone_rate(self) -> float | None:
        return _share(self.estimated, self.smartphones)

    @property
    def busiest_hour(self) -> int | None:
        """The local hour with the most people at the gate (the earliest of a tie)."""
        if not self.hours:
            return None
        return min(self.hours, key=lambda hour: (-self.hours[hour], hour))


def _share(part: int | None, whole: int | None) -> float | None:
    return part / whole if part is not None and whole else None


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
    org: Organisation | None = None

    @property
    def empty(self) -> bool:
        return self.first is None


def _namer(by: str, org: Organisation | None):
    """The row a gate's records go to: (site, gate, local day) -> the row's name."""
    if by == "day":
        return lambda site, gate, day: day
    if by == "site":
        return lambda site, gate, day: site
    if by == "unit":
        return lambda site, gate, day: org.unit_of(gate)
    return lambda site, gate, day: f"{site} · {gate}" if site else gate


def _placeholders(names) -> str:
    return ", ".join("?" * len(names))


def _decisions(conn, selection: Selection, name_of, lines: dict, total: Line,
               daily: dict) -> None:
    """Counts per gate and hour of UTC in SQL, summed here into rows, total and days. An hour of
    UTC is one hour of Vietnam's clock: its offsets have been whole hours since 1906."""
    where, params = selection.where("time", valid_clock_only=True)
    counts = ", ".join(f"count(CASE WHEN verdict IN ({_placeholders(names)}) THEN 1 END)"
                       for names in COUNTED.values())
    verdicts = [name for names in COUNTED.values() for name in names]
    local_hours: dict[int, tuple[str, int]] = {}
    for site, gate, hour, *counted in conn.execute(
            f"SELECT site, gate_id, time / 3600 AS h, {counts} FROM decisions "
            f"WHERE {where} AND verdict IN ({_placeholders(verdicts)}) "
            "GROUP BY site, gate_id, h", verdicts + params + verdicts):
        if hour not in local_hours:
            start = local_time(hour * 3600)
            local_hours[hour] = (start.date().isoformat(), start.hour)
        day, local_hour = local_hours[hour]
        name = name_of(site, gate, day)
        for line in (lines.setdefault(name, Line(name)), total, daily.setdefault(day, Line(day))):
            line.add(local_hour, *counted)


_DEVICES = ("count(DISTINCT id), count(DISTINCT CASE platform WHEN 'android' THEN id END), "
            "count(DISTINCT CASE platform WHEN 'ios' THEN id END)")


def _devices(conn, selection: Selection, by: str, name_of, lines: dict, total: Line,
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
        query = (f"SELECT '', '', report_days.day, {_DEVICES} FROM report_days JOIN sightings "
                 f"ON first_seen >= day_start AND first_seen < day_end WHERE {where} "
                 "AND id IS NOT NULL GROUP BY report_days.day")
    else:  # an ID seen at two gates of a site is one device at that site
        gate = "gate_id" if by == "gate" else "''"
        query = f"SELECT site, {gate} AS g, '', {_DEVICES} {seen} GROUP BY site, g"
    for site, gate, day, devices, android, ios in conn.execute(query, params):
        name = name_of(site, gate, day)
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


def _unit_lines(org: Organisation) -> dict:
    """The organisation's units in its file's order, each with its headcount."""
    return {unit.name: Line(unit.name, headcount=unit.headcount, smartphones=unit.smartphones)
            for unit in org.units}


def _ordered(by: str, lines: dict) -> list[Line]:
    """Units in the organisation file's order, "other" last; days, sites and gates sorted."""
    if by == "unit":
        return [line for name, line in lines.items() if name is not None] + (
            [lines[None]] if None in lines else [])
    return [lines[name] for name in sorted(lines)]


def build(conn: Connection, selection: Selection, by: str,
          org: Organisation | None = None) -> Report:
    lines: dict[str | None, Line] = _unit_lines(org) if by == "unit" else {}
    daily: dict[str, Line] = {}
    total = Line("")
    if by == "unit":
        total.units = list(lines.values())
        total.headcount = sum(unit.headcount for unit in org.units)
        if org.has_smartphones:
            total.smartphones = sum(unit.smartphones for unit in org.units)
    name_of = _namer(by, org)
    first, last = _extent(conn, selection)
    if first is not None:
        _decisions(conn, selection, name_of, lines, total, daily)
        if by != "unit":
            _devices(conn, selection, by, name_of, lines, total, first, last)
    return Report(by=by, selection=selection, lines=_ordered(by, lines), total=total,
                  daily=[daily[day] for day in sorted(daily)], first=first, last=last,
                  unplaced=_unplaced(conn, selection),
                  made=int(dt.datetime.now(dt.timezone.utc).timestamp()), org=org)
