"""Helpers for the BLE command tests: a simulated air with phones at the gate "front", and the
real `bzgate` command line run against it (click's CliRunner, or a subprocess for signals).

    with phones_air(tmp_path, [phone("an", "android")]) as air:
        doc = ble_json(["scan", "--seconds", "2"], air)
"""

import json
from pathlib import Path

from click.testing import CliRunner
from scenariokit import FRONT, phone, running_air, scenario

from bzgate.cli import main

HERE = Path(__file__).resolve().parent
GATE = FRONT["name"]


def phones_air(directory, phones, **extra):
    """A running air (context manager) with these phones lingering at the gate "front"."""
    return running_air(directory, scenario(phones, **extra))


def at_gate(name, platform, **fields):
    return phone(name, platform, gate=GATE, **fields)


def invoke(args, air=None, env=None):
    """The real command line, in this process: (exit code, stdout, stderr)."""
    args = list(args) + (["--air", air.address] if air is not None else [])
    result = CliRunner().invoke(main, args, env=env, catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


def ble_json(args, air, env=None) -> dict:
    code, out, err = invoke(["ble", *args, "--json"], air, env)
    assert code == 0, err
    return json.loads(out)


def phone_ids(air) -> dict:
    """{phone name: its current ID (upper hex)} from the air's own view."""
    return {p["name"]: p["id"] for p in air.phones()}
