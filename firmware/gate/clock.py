"""The gate's clock: Unix seconds (UTC) with a clock-valid flag, and uptime.

    t, valid = clock.now()        # the ONE place the ESP32's 2000 epoch becomes Unix time
    correction = clock.set_utc(t) # from the host (TIME SET); returns new - old seconds
    clock.uptime_ms()             # since this program started; never wraps

The RTC restarts at 2000-01-01 on power-on (docs/esp32-notes.md, note 19) and keeps running
through soft and watchdog resets, so "valid" lives in the RTC itself: a time after 2020-01-01
was set since power-on. Set UTC explicitly (docs/esp32-notes.md, note 20: mpremote rtc --set
writes local time).
"""

import time

import machine
from micropython import const

_EPOCH_2000 = const(946684800)  # Unix seconds at 2000-01-01 00:00 UTC, where the ESP32 counts from
_VALID_FROM = const(1577836800)  # 2020-01-01 00:00 UTC: earlier means never set since power-on
_VALID_UNTIL = const(4102444800)  # 2100-01-01: later is a mistake, not a time

_rtc = machine.RTC()
_ticks_last = time.ticks_ms()
_uptime = 0


def now():
    """(Unix seconds, valid)."""
    t = int(time.time()) + _EPOCH_2000
    return t, t >= _VALID_FROM


def set_utc(unix_seconds):
    """Set the RTC to unix_seconds (UTC); returns the correction in seconds. ValueError when the
    time lies outside 2020..2099, which no correct host sends."""
    if not _VALID_FROM <= unix_seconds < _VALID_UNTIL:
        raise ValueError("time outside 2020..2099")
    before = now()[0]
    t = time.gmtime(unix_seconds - _EPOCH_2000)  # (year, month, day, h, m, s, weekday, yearday)
    _rtc.datetime((t[0], t[1], t[2], t[6], t[3], t[4], t[5], 0))
    return unix_seconds - before


def uptime_ms():
    """Milliseconds since this program started. ticks_ms wraps (2**30 ms on the ESP32), so each
    call adds the step since the previous one: call at least daily (the app does every second)."""
    global _ticks_last, _uptime
    t = time.ticks_ms()
    _uptime += time.ticks_diff(t, _ticks_last)
    _ticks_last = t
    return _uptime
