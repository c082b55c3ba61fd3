"""Which stored rows an export or a report covers: a time range in Vietnam's local time, sites
and gates, as an SQL condition.

--from and --to take a date (a whole local day: --to includes its day) or an ISO time (with an
offset or Z; without one it is local time; --to is then exclusive). --week takes an ISO week
(2026-W48: Monday 00:00 to Sunday 24:00 local time) or "last", the last full week.
"""

import re

import datetime as dt

from bzgate.errors import UserError
from bzgate.localtime import LOCAL, ZONE_NAME, local_time, utc_time

# A record's time is u32 Unix seconds (bzcore.record): a bound outside these is no bound on its
# side, or leaves nothing that any record could be in.
FIRST_TIME, LAST_TIME = 0, 2**32 - 1


def _bound(text: str, option: str, is_end: bool) -> int:
    try:
        if len(text) == 10:
            day = dt.date.fromisoformat(text)
            return _midnight(day + dt.timedelta(days=1) if is_end else day)
        moment = dt.datetime.fromisoformat(text)
    except ValueError:
        raise UserError(f"{option} must be a date like 2020-09-18 or a time like "
                        f"2020-09-18T08:00 or 2020-09-18T01:00Z, got {text!r}") from None
    except OverflowError:  # the day after 9999-12-31: past every record
        return LAST_TIME + 1
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=LOCAL)
    return int(moment.timestamp())


def _start(start: int, given: str) -> int | None:
    """A range's start in Unix seconds, None when it is before every record; `given` names it."""
    if start > LAST_TIME:
        raise UserError(f"{given} is after {_utc(LAST_TIME)} UTC, the last time a gate's record "
                        "can hold")
    return None if start <= FIRST_TIME else start


def _end(end: int, given: str) -> int | None:
    """A range's (exclusive) end in Unix seconds, None when it is after every record."""
    if end <= FIRST_TIME:
        raise UserError(f"{given} is before {_utc(FIRST_TIME)} UTC, the first time a gate's "
                        "record can hold")
    return None if end > LAST_TIME else end


def _utc(t: int) -> str:
    return utc_time(t).strftime("%Y-%m-%d %H:%M:%S")


def _midnight(day: dt.date) -> int:
    return int(dt.datetime(day.year, day.month, day.day, tzinfo=LOCAL).timestamp())


def week_bounds(text: str, now: int) -> tuple[int | None, int | None]:
    """An ISO week ('2026-W48', or 'last': the last full week before `now`) as Unix seconds,
    from its Monday's local midnight to the next Monday's (None past the records' times)."""
    if text == "last":
        today = local_time(now).date()
        monday = today - dt.timedelta(days=today.weekday() + 7)
    else:
        found = re.fullmatch(r"(\d{4})-W(\d{2})", text)
        try:
            monday = dt.date.fromisocalendar(int(found[1]), int(found[2]), 1)
        except (TypeError, ValueError):
            raise UserError(f"--week must be an ISO week like 2026-W48, or last, got {text!r}") from None
    try:
        end = _midnight(monday + dt.timedelta(days=7))
    except OverflowError:  # the last week of 9999
        end = LAST_TIME + 1
    return _start(_midnight(monday), f"--week {text}"), _end(end, f"--week {text}")


def iso_week(start: int | None, end: int | None) -> tuple[int, int] | None:
    """(year, week) when start to end is exactly one ISO week of local time, else None."""
    if start is None or end is None:
        return None
    monday = local_time(start)
    if monday.weekday() or monday.time() != dt.time() or end != _midnight(
            monday.date() + dt.timedelta(days=7)):
        return None
    year, week, _ = monday.date().isocalendar()
    return year, week


class Selection:
    """Rows from `start` (inclusive) to `end` (exclusive), Unix seconds or None for open, at
    any of `sites` and `gates` (empty: all)."""

    def __init__(self, start: int | None = None, end: int | None = None,
                 sites: tuple[str, ...] = (), gates: tuple[str, ...] = ()):
        if start is not None and end is not None and start >= end:
            raise UserError("--from must come before --to")
        self.start, self.end = start, end
        self.sites, self.gates = tuple(sites), tuple(gates)

    @classmethod
    def from_options(cls, start: str | None, end: str | None, sites=(), gates=()) -> "Selection":
        if start is not None:
            start = _start(_bound(start, "--from", False), f"--from {start}")
        if end is not None:
            end = _end(_bound(end, "--to", True), f"--to {end}")
        return cls(start, end, sites, gates)

    def where(self, time_column: str, valid_clock_only: bool = False) -> tuple[str, list]:
        """An SQL condition (never empty) and its parameters."""
        terms, params = ["1 = 1"], []
        if self.start is not None:
            terms.append(f"{time_column} >= ?")
            params.append(self.start)
        if self.end is not None:
            terms.append(f"{time_column} < ?")
            params.append(self.end)
        for column, values in (("site", self.sites), ("gate_id", self.gates)):
            if values:
                terms.append(f"{column} IN ({', '.join('?' * len(values))})")
                params.extend(values)
        if valid_clock_only:
            terms.append("clock_valid = 1")
        return " AND ".join(terms), params

    def describe(self) -> str:
        """The range in words, for messages: local times."""
        def shown(t):
            return "…" if t is None else local_time(t).strftime("%Y-%m-%d %H:%M")
        return f"{shown(self.start)} to {shown(self.end)} ({ZONE_NAME})"

    def as_dict(self) -> dict:
        """For the audit table."""
        return {"from": self.start, "to": self.end, "sites": list(self.sites),
                "gates": list(self.gates)}
