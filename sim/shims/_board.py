# The virtual board's wire to its bridge (virtual board only; never deployed).
#
# Everything that must outlive the interpreter -- watchdog, RTC clock and memory, reset
# requests, pin levels seen by the outside world -- lives in the bridge process, because a
# reset restarts this interpreter. Message types 0x40-0x7F: boardmsg.py.
import json
import os
import struct
import time

from _simlink import Link, env_address
from boardmsg import HELLO, INPUTS, SOFT_RESET, WIFI

RELEASED = const(2)  # input level byte: nobody drives the pin, its pull decides

reset_cause = int(os.getenv("BZSIM_RESET_CAUSE") or 1)
unique_id = bytes.fromhex(os.getenv("BZSIM_UID") or "240ac4000001")
rtc_memory = bytes.fromhex(os.getenv("BZSIM_RTC_MEMORY") or "")

# The access point in range: {"ssid", "password", "up"} or None (none in range). "up" changes
# live (WIFI messages); wifi_listener() runs after each change.
wifi = json.loads(os.getenv("BZSIM_WIFI") or "null")
wifi_listener = None
driven = {}  # pin -> level forced from outside (button, beam); absent = released
input_listeners = {}  # pin -> callable() run after the pin's driven level changed
_link = None
_ready = False
reserved = None  # heap beyond the board's, held back (see _startup)


def _on_message(mtype, payload):
    global _ready
    if mtype == WIFI and len(payload) == 1:
        wifi["up"] = payload[0] == 1
        if wifi_listener is not None:
            wifi_listener()
    if mtype != INPUTS:
        return
    for k in range(0, len(payload) - 1, 2):
        pin, level = payload[k], payload[k + 1]
        if level == RELEASED:
            driven.pop(pin, None)
        else:
            driven[pin] = level
        listener = input_listeners.get(pin)
        if listener and _ready:
            listener()
    _ready = True


def _connect():
    global _link
    address = env_address("BZSIM_BOARD")
    if address is None:
        return None
    _link = Link(address, _on_message)
    _link.send(HELLO, struct.pack(">I", int(os.getenv("BZSIM_BOOT_ID") or 0)))
    while not _ready:  # the bridge answers with the inputs' current levels
        time.sleep_ms(1)
    return _link


def send(mtype, payload=b""):
    link = _link or _connect()
    if link is not None:
        link.send(mtype, payload)


def ready():
    """Connect now, so the driven input levels are known before a pin is read."""
    if _link is None:
        _connect()


_soft_reset_hooks = []


def before_soft_reset(hook):
    """Run hook when the board soft-resets (the port finalises every object then)."""
    _soft_reset_hooks.append(hook)


def finalise():
    for hook in _soft_reset_hooks:
        hook()


def soft_reset():
    finalise()
    send(SOFT_RESET)
    halt()


def halt():
    """Wait for the bridge to restart this interpreter (after a reset request)."""
    while True:
        time.sleep_ms(1000)
