# The gate's decision rule on the MicroPython interpreter: gate.presence and gate.policy as the
# board builds them, fed adverts and presses by a test's script, outputs and journal noted.
# test_gate_rule.py appends each test's steps (an `async def steps():`) and reads the JSON line
# this prints: {"decisions": [...], "shown": [...], "status": {...}}, each decision as its kind
# and its payload in hex (read on the host: bzcore.recordread is not on a board).
import json
import time

import asyncio
from bzcore import config, record
from gate.policy import Policy
from gate.presence import KEY_ADDR, KEY_BYTES, KEY_ID, Presence

ANDROID_ID = bytes(range(1, 13))
IPHONE_ID = bytes(range(21, 33))


def id_key(ident):
    return bytes((KEY_ID,)) + ident


def addr_key(addr):
    key = bytes((KEY_ADDR, 1)) + addr  # a random address
    return key + bytes(KEY_BYTES - len(key))


class Outputs:
    """What the guard would see, in order."""

    def __init__(self):
        self.shown = []

    def show_checking(self):
        self.shown.append("checking")

    def show_allow(self, pulse_ms):
        self.shown.append("allow")

    def show_deny(self):
        self.shown.append("deny")

    def show_no_app(self, pulse_ms):
        self.shown.append("no-app")


decisions = []
events = []
outputs = Outputs()
cfg = config.defaults()
CONFIG = {}  # a test's fields over the defaults, set before build()


def build():
    global presence, policy
    cfg.update(CONFIG)
    presence = Presence(cfg["near_rssi"], lambda rec: None)
    policy = Policy(cfg, presence, outputs, decisions.append, events.append)
    if cfg["trigger"] == "tap":
        presence.on_near = policy.tap


def hear(key, rssi, platform=record.ANDROID):
    presence.seen(key, rssi, platform, time.ticks_ms(), time.time())


async def speak(key, rssi, ms, every_ms=100, platform=record.ANDROID):
    """A phone advertising every `every_ms` for `ms` at an RSSI."""
    end = time.ticks_add(time.ticks_ms(), ms)
    while time.ticks_diff(end, time.ticks_ms()) > 0:
        hear(key, rssi, platform)
        await asyncio.sleep_ms(every_ms)


async def decided(n, timeout_ms=20000):
    """Wait until n decisions are logged."""
    end = time.ticks_add(time.ticks_ms(), timeout_ms)
    while len(decisions) < n and time.ticks_diff(end, time.ticks_ms()) > 0:
        await asyncio.sleep_ms(10)


async def main():
    build()
    task = asyncio.create_task(policy.run(lambda: None))
    await steps()  # noqa: F821 - the test's script defines it
    task.cancel()
    print(json.dumps({"decisions": [[kind, payload.hex()] for kind, payload in decisions],
                      "shown": outputs.shown, "events": events,
                      "status": {"checking": getattr(policy, "checking", None),
                                 "presses_merged": getattr(policy, "presses_merged", None)}}))
