"""Crashes (a fatal error, a watchdog reset) counted in RTC memory, which keeps them through soft
and watchdog resets: b"BZCR" + up to three u32 times. Three within WINDOW_S mean safe mode.

    crashes.note()                 # count one now; the recent times
    crashes.recent()               # the times within WINDOW_S of now
"""

import struct

import machine
from micropython import const

from gate import clock

WINDOW_S = const(600)
FOR_SAFE_MODE = const(3)
_TAG = b"BZCR"


def _times():
    data = machine.RTC().memory()
    if data[:4] != _TAG:
        return []
    return [struct.unpack_from(">I", data, k)[0] for k in range(4, len(data) - 3, 4)]


def recent(times=None):
    """Of times (default: those in RTC memory), the ones within WINDOW_S of now."""
    now = clock.now()[0]
    return [t for t in (_times() if times is None else times) if 0 <= now - t < WINDOW_S]


def note():
    """Count a crash now; the recent ones, this one included."""
    times = recent()[-(FOR_SAFE_MODE - 1):] + [clock.now()[0]]
    machine.RTC().memory(_TAG + b"".join(struct.pack(">I", t) for t in times))
    return times
