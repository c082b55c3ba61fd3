"""A board's configuration updated by configure: the fields given over what the board has, so
that configuring one field again resets no other; and the lines that say what changes.

    current, problems = board_config(text)      # text: the board's config.json, None when it has none
    cfg, errors = updated(current, given)       # given (bzprov.fields.given_fields) over current
    lines = changes(current, cfg)               # ['mode: "enforce" → "monitor"'] or ["nothing changes"]
"""

import json

from bzcore import config, uplinkconfig

# A board without a configuration gets the defaults; these have none worth keeping.
NEEDED_ON_A_NEW_BOARD = ("gate_id", "site")


def board_config(text: str | None) -> tuple[dict | None, list[str]]:
    """(what the gate runs with, the file's problems) from the board's config.json; (None, [])
    for a board that has none. A bad field runs as its default, so it is kept as that."""
    if text is None:
        return None, []
    return config.load(text)


def updated(current: dict | None, given: dict) -> tuple[dict, list[str]]:
    """(the given fields over current, or over the defaults on a new board; one error per bad
    field). A secret given as *** keeps the board's."""
    base = config.defaults() if current is None else current
    whole = uplinkconfig.keep_secrets({**base, **given}, base)
    errors = [f"{name}: the board has no configuration yet, so it must be given"
              for name in NEEDED_ON_A_NEW_BOARD if current is None and name not in given]
    return config.checked(whole)[0], errors + config.validate(whole)


def _shown(cfg: dict, name: str) -> str:
    return json.dumps(uplinkconfig.shown(cfg)[name], ensure_ascii=False)


def changes(current: dict | None, new: dict) -> list[str]:
    """One line per field that changes, "field: old → new" (secrets as ***); from the defaults
    on a new board."""
    old = config.defaults() if current is None else current
    lines = []
    for name in config.FIELDS:
        if old[name] == new[name]:
            continue
        before, after = _shown(old, name), _shown(new, name)
        lines.append(f"{name}: {before} → {after}" if before != after else f"{name}: its password changes")
    return lines or ["nothing changes"]
