"""Configuration fields as IT staff type them (a command-line option, a fleet CSV cell), turned
into the values bzcore.config checks: numbers, true/false, JSON for maps.

    given, errors = given_fields({"gate_id": "front-1", "near_rssi": "-62"})   # {"gate_id": ..., "near_rssi": -62}
    errors = location_errors("Ground floor, main entrance")
"""

import json

from bzcore import config, uplinkconfig
from bzcore.checks import value_text

# Not config fields, kept in the inventory: where the board hangs.
INVENTORY_FIELDS = ("location",)
# A configuration's maps nest three deep (board → relay → pin); deeper JSON is a mistake, and
# thousands of brackets would exhaust Python's stack while parsing or quoting it.
NESTING_MAX = 8
# For checking given fields before the board is read: a secret given as *** stands for the
# board's own, checked once the board's configuration is known.
_SECRET_STAND_IN = {name: {key: "x" * 8} for name, key in uplinkconfig.SECRETS}


def _nesting(value) -> int:
    """How deep lists and objects nest in a JSON value (counted without recursion)."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        value, depth = stack.pop()
        if isinstance(value, (list, dict)):
            deepest = max(deepest, depth)
            stack += [(part, depth + 1) for part in (value.values() if isinstance(value, dict) else value)]
    return deepest


def _json(text: str):
    """The JSON value of text; the text itself when it is not JSON or nests too deeply, so that
    validation names the field."""
    try:
        value = json.loads(text)
    except (ValueError, RecursionError):
        return text
    return value if _nesting(value) <= NESTING_MAX else text


def parse(name: str, text: str):
    """The value of one field from its text; text that is not of the field's type stays text,
    so that validation names the field and what it allows."""
    default = config.DEFAULTS.get(name)
    text = text.strip()
    if isinstance(default, bool):
        lowered = text.lower()
        if lowered in ("true", "yes", "1", "on"):
            return True
        if lowered in ("false", "no", "0", "off"):
            return False
        return text
    if isinstance(default, int):
        try:
            return int(text)
        except ValueError:
            return text
    if default is None and text.lower() in ("", "null", "none", "off"):
        return None  # an optional map (wifi, mqtt) left out
    if isinstance(default, dict) or default is None or name == "board" and text.startswith("{"):
        return _json(text)
    return text


def given_fields(fields: dict) -> tuple[dict, list[str]]:
    """(the fields given, as values; one error line per bad field): each is checked over the
    defaults, before any board is read. Unknown fields are errors here, not ignored: a typo
    must not go unnoticed."""
    unknown = [f"{name}: not a configuration field (fields: {', '.join(config.DEFAULTS)})"
               for name in fields if name not in config.DEFAULTS]
    values = {name: parse(name, value) if isinstance(value, str) else value
              for name, value in fields.items() if name in config.DEFAULTS}
    whole = uplinkconfig.keep_secrets({**config.defaults(), **values}, _SECRET_STAND_IN)
    return values, unknown + config.validate(whole)


def location_errors(text: str) -> list[str]:
    """Where the board hangs, as the inventory keeps it: one line of text."""
    if config.has_control(text):
        return [f"location: text without control characters (got {value_text(text)})"]
    return []
