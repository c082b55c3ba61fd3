# ESP32 `machine` for the virtual board (never deployed). Pins, watchdog, RTC and resets
# talk to the bridge (see _board.py), which outlives this interpreter across resets.
import os
import struct

import _board
import boardmsg
import _clock
import time
from umachine import *  # noqa: F401,F403  (idle, mem8/16/32, time_pulse_us, ...)

PWRON_RESET = const(1)
HARD_RESET = const(2)
WDT_RESET = const(3)
DEEPSLEEP_RESET = const(4)
SOFT_RESET = const(5)

RTC_MEMORY_MAX = const(2048)
_FREQS = (20_000_000, 40_000_000, 80_000_000, 160_000_000, 240_000_000)
_freq = 240_000_000


def reset_cause():
    return _board.reset_cause


def unique_id():
    return _board.unique_id


def reset():
    _board.send(boardmsg.RESET)
    _board.halt()


def soft_reset():
    _board.soft_reset()


def deepsleep(time_ms=0):
    _board.send(boardmsg.DEEPSLEEP, struct.pack(">I", time_ms))
    _board.halt()


def lightsleep(time_ms=0):
    time.sleep_ms(time_ms)


def freq(hz=None):
    global _freq
    if hz is None:
        return _freq
    if hz not in _FREQS:
        raise ValueError("frequency must be 20MHz, 40MHz, 80Mhz, 160MHz or 240MHz")
    _freq = hz


def disable_irq():
    return 0


def enable_irq(state=0):
    pass


# --- GPIO ---------------------------------------------------------------------------
_VALID_PINS = tuple(range(0, 20)) + (21, 22, 23, 25, 26, 27) + tuple(range(32, 40))
_INPUT_ONLY = range(34, 40)


def _outputs_before_soft_reset():
    """pin -> level that pads kept driving through a soft reset (the port leaves them be)."""
    levels = {}
    for item in (os.getenv("BZSIM_OUTPUTS") or "").split(","):
        if item:
            pin, level = item.split(":")
            levels[int(pin)] = int(level)
    return levels


_kept_outputs = _outputs_before_soft_reset()


class _PinState:
    """One GPIO pad, shared by every Pin object naming it (the port returns one object)."""

    def __init__(self, kept_level):
        self.mode = None if kept_level is None else 3  # Pin.OUT: still driving
        self.pull = None
        self.latch = kept_level or 0
        self.level = 0
        self.handler = None
        self.trigger = 0
        self.pin = None


_pads = {}


class Pin:
    IN = const(1)
    OUT = const(3)
    OPEN_DRAIN = const(7)
    PULL_DOWN = const(1)
    PULL_UP = const(2)
    IRQ_RISING = const(1)
    IRQ_FALLING = const(2)
    WAKE_LOW = const(4)
    WAKE_HIGH = const(5)
    DRIVE_0 = const(0)
    DRIVE_1 = const(1)
    DRIVE_2 = const(2)
    DRIVE_3 = const(3)

    def __init__(self, id, mode=-1, pull=-1, *, value=None, drive=None, hold=None):
        if id not in _VALID_PINS:
            raise ValueError("invalid pin")
        self._id = id
        if id not in _pads:
            _pads[id] = _PinState(_kept_outputs.get(id))
            _board.input_listeners[id] = lambda: self._input_changed()
        self._pad = _pads[id]
        self._pad.pin = self
        self.init(mode, pull, value=value)

    def __repr__(self):
        return "Pin(%d)" % self._id

    def init(self, mode=-1, pull=-1, *, value=None, drive=None, hold=None):
        pad = self._pad
        if value is not None:
            pad.latch = 1 if value else 0
        if mode != -1 and mode is not None:
            if mode in (Pin.OUT, Pin.OPEN_DRAIN) and self._id in _INPUT_ONLY:
                raise ValueError("pin can only be input")
            pad.mode = mode
        if pull != -1:
            pad.pull = pull
        if mode != -1 or pull != -1:
            _board.send(boardmsg.PIN_MODE, bytes((self._id, pad.mode or 0, pad.pull or 0)))
        if pad.mode in (Pin.OUT, Pin.OPEN_DRAIN) and (mode != -1 or value is not None):
            self._drive_out()
        pad.level = self._read()

    def _drive_out(self):
        _board.send(boardmsg.PIN_OUT, bytes((self._id, self._pad.latch)))

    def _read(self):
        pad = self._pad
        if pad.mode == Pin.OUT or (pad.mode == Pin.OPEN_DRAIN and pad.latch == 0):
            return pad.latch
        level = _board.driven.get(self._id)
        if level is not None:
            return level
        return 1 if pad.pull == Pin.PULL_UP else 0

    def value(self, x=None):
        if x is None:
            return self._read()
        self._pad.latch = 1 if x else 0
        if self._pad.mode in (Pin.OUT, Pin.OPEN_DRAIN):
            self._drive_out()
        self._input_changed()

    __call__ = value

    def on(self):
        self.value(1)

    def off(self):
        self.value(0)

    def mode(self, mode=None):
        if mode is None:
            return self._pad.mode
        self.init(mode)

    def pull(self, pull=None):
        if pull is None:
            return self._pad.pull
        self.init(pull=pull)

    def irq(self, handler=None, trigger=IRQ_FALLING | IRQ_RISING, *, wake=None, hard=False):
        self._pad.handler = handler
        self._pad.trigger = trigger if handler else 0
        return _PinIRQ(self._pad)

    def _input_changed(self):
        pad = self._pad
        old, new = pad.level, self._read()
        pad.level = new
        edge = Pin.IRQ_RISING if new > old else Pin.IRQ_FALLING if new < old else 0
        if edge & pad.trigger:
            pad.handler(pad.pin)  # runs scheduled, like the port's soft IRQ


class _PinIRQ:
    def __init__(self, pad):
        self._pad = pad

    def trigger(self, trigger=None):
        if trigger is None:
            return self._pad.trigger
        self._pad.trigger = trigger


class Signal:
    """A pin with an active level: Signal(pin, invert=True) is on when the pin is low."""

    def __init__(self, pin, *args, invert=False, **kwargs):
        self._pin = pin if isinstance(pin, Pin) else Pin(pin, *args, **kwargs)
        self._invert = 1 if invert else 0

    def value(self, x=None):
        if x is None:
            return self._pin.value() ^ self._invert
        self._pin.value((1 if x else 0) ^ self._invert)

    __call__ = value

    def on(self):
        self.value(1)

    def off(self):
        self.value(0)


# --- watchdog and RTC ---------------------------------------------------------------
class WDT:
    """Cannot be stopped; keeps running through soft resets (the bridge counts it down)."""

    def __init__(self, id=0, timeout=5000):
        if timeout <= 0:
            raise ValueError("WDT timeout too short")
        _board.send(boardmsg.WDT_START, struct.pack(">I", timeout))

    def feed(self):
        _board.send(boardmsg.WDT_FEED)


class RTC:
    def __init__(self, id=0):
        pass

    def init(self, datetime):
        self.datetime(datetime)

    def datetime(self, datetime=None):
        if datetime is None:
            ns = _clock.now_ns()
            t = time.gmtime(ns // 1_000_000_000)
            return (t[0], t[1], t[2], t[6], t[3], t[4], t[5], ns // 1000 % 1_000_000)
        year, month, day, _weekday, hour, minute, second, usec = datetime
        seconds = time.mktime((year, month, day, hour, minute, second, 0, 0))
        _clock.set_ns(seconds * 1_000_000_000 + usec * 1000)

    def memory(self, data=None):
        if data is None:
            return _board.rtc_memory
        if len(data) > RTC_MEMORY_MAX:
            raise ValueError("buffer too long")
        _board.rtc_memory = bytes(data)
        _board.send(boardmsg.RTC_MEMORY, _board.rtc_memory)
