"""Times for people: Unix seconds (UTC) as UTC and as Vietnam's local time (Asia/Ho_Chi_Minh),
as datetimes for spreadsheets and as ISO text, fast enough for exports of millions of rows."""

import datetime as dt
import zoneinfo

ZONE_NAME = "Asia/Ho_Chi_Minh"
try:
    LOCAL = zoneinfo.ZoneInfo(ZONE_NAME)
except zoneinfo.ZoneInfoNotFoundError:  # no tz database: Vietnam has kept UTC+7 since 1975
    LOCAL = dt.timezone(dt.timedelta(hours=7), "ICT")

_UTC_EPOCH = dt.datetime(1970, 1, 1)


def utc_time(t: int) -> dt.datetime:
    """Unix seconds as a naive UTC datetime (the spreadsheet's kind of time)."""
    return _UTC_EPOCH + dt.timedelta(seconds=t)


def local_time(t: int) -> dt.datetime:
    """Unix seconds as a naive datetime on Vietnam's clock."""
    return dt.datetime.fromtimestamp(t, LOCAL).replace(tzinfo=None)


class IsoText:
    """Unix seconds as ISO text ('2020-09-18T08:05:00Z', or local '2020-09-18 15:05:00').

    The date and hour are worked out once per hour and kept; minutes and seconds are arithmetic.
    That holds wherever the zone's offset is whole hours, as Vietnam's have been since 1906; an
    hour that does not start on :00 local (an older offset) is converted in full every time."""

    def __init__(self, convert, sep: str, suffix: str):
        self._convert, self._sep, self._suffix = convert, sep, suffix
        self._hours: dict[int, str | None] = {}

    def __call__(self, t: int) -> str:
        hour, rest = divmod(t, 3600)
        prefix = self._hours.get(hour, "")
        if prefix == "":
            start = self._convert(hour * 3600)
            prefix = self._hours[hour] = (start.isoformat(self._sep)[:14]
                                          if start.minute == start.second == 0 else None)
        if prefix is None:
            return self._convert(t).isoformat(self._sep) + self._suffix
        minute, second = divmod(rest, 60)
        return f"{prefix}{minute:02d}:{second:02d}{self._suffix}"


class LocalSeconds:
    """Unix seconds shifted to Vietnam's clock (t + the zone's offset then), the offset worked
    out once per hour and kept, or for every time in an hour where the offset changed."""

    def __init__(self):
        self._offsets: dict[int, int | None] = {}

    def __call__(self, t: int) -> int:
        hour = t // 3600
        offset = self._offsets.get(hour, "")
        if offset == "":
            start, end = _offset(hour * 3600), _offset(hour * 3600 + 3599)
            offset = self._offsets[hour] = start if start == end else None
        return t + (_offset(t) if offset is None else offset)


def _offset(t: int) -> int:
    return int(dt.datetime.fromtimestamp(t, LOCAL).utcoffset().total_seconds())


def utc_text_maker() -> IsoText:
    return IsoText(utc_time, "T", "Z")


def local_text_maker() -> IsoText:
    return IsoText(local_time, " ", "")
