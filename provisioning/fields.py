"""Configuration fields as IT staff type them (a command-line option, a fleet CSV cell), turned
into the values bzcore.config checks: numbers, true/false, JSON for maps.

    config, errors = gate_config({"gate_id": "front-1", "near_rssi": "-62"})
"""

import json

from bzcore import config

# Not config fields, kept in the inventory: where the board hangs.
INVENTORY_FIELDS = ("location",)


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
        try:
            return json.loads(text)
        except ValueError:
            return text
    return text


def gate_config(fields: dict) -> tuple[dict, list[str]]:
    """(the whole config: the given fields over the defaults, one error line per bad field);
    unknown fields are errors here, not ignored: a typo must not go unnoticed."""
    unknown = [f"{name}: not a configuration field (fields: {', '.join(config.DEFAULTS)})"
               for name in fields if name not in config.DEFAULTS]
    values = {name: parse(name, value) if isinstance(value, str) else value
              for name, value in fields.items() if name in config.DEFAULTS}
    whole = {**config.defaults(), **values}
    return config.checked(whole)[0], unknown + config.validate(whole)
