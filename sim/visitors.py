"""Visitors at the gate: a scenario's `press` reaching the board's own button or beam input.

The air announces when a visitor reaches a gate and presses its button (or walks through its
beam). The board is wired the way its /config.json says (bzcore.config board profile; the
default profile without a config), so the press lands on that input pin at its active level.
"""

import json
from pathlib import Path

from bzcore import config

PRESS_SECONDS = 0.3  # how long a hand stays on the button, or a body in the beam


def gate_input(flash: Path) -> tuple[int, int] | None:
    """(gpio, level while pressed) of the input a visitor works on, or None if the board has none."""
    try:
        text = (flash / "config.json").read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        text = "{}"
    cfg, _errors = config.load(text)
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
