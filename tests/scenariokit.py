"""Scenarios for the simulated air (bzsim.air.scenario), the one builder of every test folder:

    data = scenario([phone("an", "android"), phone("io", "ios", path="enter")])
    data = scenario(phones, gates=[FRONT], seed=1)      # one gate (tests/firmware/gatekit.py)
    with running_air(tmp_path, data) as air: air.phones()

A scenario starts mid-slot on the day of the test vector key of docs/protocol.md §9, which
every rolling-ID phone is given, so the IDs it sends are known.
"""

import contextlib
import json
from pathlib import Path

from bzsim.air.server import start_air

DK_HEX = "000102030405060708090A0B0C0D0E0F101112131415161718191A1B1C1D1E1F"
DK = bytes.fromhex(DK_HEX)
V1_CODE = "AB12cd"  # the code a v1 app's phone is given unless a test names its own
MID_SLOT_START = "2020-09-18T08:05:00Z"  # 1600416300: 10 minutes before the next slot
FRONT = {"name": "front", "x": 0, "y": 0}
BACK = {"name": "back", "x": 12, "y": 0}
ROLLING_PLATFORMS = ("android", "ios", "ios-background")
V1_PLATFORMS = ("android-v1", "ios-v1")


def phone(name, platform, **fields):
    """A phone lingering 10 minutes from the start, at the first gate unless `gate` says."""
    entry = {"name": name, "platform": platform, "arrive_s": 0, "dwell_s": 600, "path": "linger"}
    if platform in ROLLING_PLATFORMS:
        entry["daily_key"] = DK_HEX
    if platform in V1_PLATFORMS:
        entry["v1_code"] = V1_CODE
    return {**entry, **fields}


def scenario(phones=(), gates=(FRONT, BACK), start=MID_SLOT_START, seed=7, **extra):
    """A scenario dict; `extra` adds its other parts (crowd, noise, faults)."""
    return {"start": start, "seed": seed, "gates": [dict(gate) for gate in gates],
            "phones": list(phones), **extra}


def write_scenario(directory, data, name="scenario.json"):
    path = Path(directory) / name
    path.write_text(json.dumps(data))
    return path


@contextlib.contextmanager
def running_air(directory, data):
    """The air playing `data` (its file written in `directory`), stopped afterwards."""
    air = start_air(write_scenario(directory, data))
    try:
        yield air
    finally:
        air.stop()
