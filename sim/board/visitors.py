"""Visitors at the gate: a scenario's `press` reaching the board's own button or beam input,
and the gate's answer going back to the air.

The air announces when a visitor reaches a gate and presses its button (or walks through its
beam). The board is wired the way its /config.json says (bzcore.config board profile; the
default profile without a config), so the press lands on that input pin at its active level.
The other way, the board's relay, red and green outputs (wired by the same config) are what the
visitor at the scanner sees: signal_payload turns their levels into the air's GATE_SIGNAL
(bzsim.air.visitors).
"""

import json
from pathlib import Path

from bzcore import config

PRESS_SECONDS = 0.3  # how long a hand stays on the button, or a body in the beam


SIGNAL_ROLES = ("relay", "red", "green")


def _config(flash: Path):
    try:
        text = (flash / "config.json").read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        text = "{}"
    cfg, _errors = config.load(text)
    return cfg


def gate_input(flash: Path) -> tuple[int, int] | None:
    """(gpio, level while pressed) of the input a visitor works on, or None if the board has none."""
    cfg = _config(flash)
    pin = config.board_pins(cfg).get("beam" if cfg["trigger"] == "beam" else "button")
    if pin is None:
        return None
    gpio, active_low = pin
    return gpio, 0 if active_low else 1


def press_for(event: bytes, gate: str) -> bool:
    """True when an air event is a visitor pressing at this gate."""
    try:
        fields = json.loads(event)
    except ValueError:
        return False
    return isinstance(fields, dict) and fields.get("event") == "press" and fields.get("gate") == gate


def gate_outputs(flash: Path) -> dict:
    """role -> (gpio, active_low) of the outputs a visitor watches (relay, red, green), for
    those the board has."""
    pins = config.board_pins(_config(flash))
    return {role: pins[role] for role in SIGNAL_ROLES if pins.get(role) is not None}


def signal_levels(outputs: dict, levels: dict) -> dict:
    """{role: 1 while on, else 0} from the output pins' levels (None: released, so off)."""
    on = {}
    for role in SIGNAL_ROLES:
        gpio, active_low = outputs.get(role, (None, False))
        level = levels.get(gpio) if gpio is not None else None
        on[role] = 0 if level is None else int(bool(level) != active_low)
    return on


def signal_payload(name: str, on: dict) -> bytes:
    """The GATE_SIGNAL payload for a board called `name`."""
    return json.dumps({"board": name, **on}).encode()
