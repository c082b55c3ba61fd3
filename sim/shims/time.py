# ESP32 `time` for the virtual board (never deployed): the epoch is 2000-01-01 and
# time() returns an int, as on the port; ticks_*, sleep* come from the built-in.
from utime import *  # noqa: F401,F403  (the built-in module: docs/esp32-notes.md, note 28)
import utime as _utime

import _clock


def time():
    return _clock.now_ns() // 1_000_000_000


def time_ns():
    return _clock.now_ns()


def gmtime(secs=None):
    if secs is None:
        secs = time()
    elif isinstance(secs, float):  # the port takes an int; floats are 32-bit there
        raise TypeError("can't convert float to int")
    return _utime.gmtime(secs + _clock.EPOCH_2000_S)[:8]


localtime = gmtime  # no time zones on the port


def mktime(t):
    return int(_utime.mktime(tuple(t[:8]) + (0,) * (8 - len(t)))) - _clock.EPOCH_2000_S
