# The ESP32 RTC as seen from the virtual board (never deployed): nanoseconds since
# 2000-01-01, kept as an offset from the host clock. The bridge holds the offset so the
# clock keeps running across soft and watchdog resets and restarts at 2000 on power-on.
import os
import struct
import utime

import _board
import boardmsg

EPOCH_2000_S = const(946684800)  # 1970-01-01 -> 2000-01-01

_offset_ns = int(os.getenv("BZSIM_RTC_OFFSET_NS") or -utime.time_ns())


def now_ns():
    return utime.time_ns() + _offset_ns


def set_ns(ns):
    global _offset_ns
    _offset_ns = ns - utime.time_ns()
    _board.send(boardmsg.RTC_OFFSET, struct.pack(">q", _offset_ns))
