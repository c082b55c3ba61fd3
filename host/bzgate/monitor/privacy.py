"""What a page without a guard's login may see: the tiles and events with no Bluezone ID and no
phone's address in them. A decision keeps only the fields named here, so a field a gate adds
later stays hidden until someone decides it may be shown.

    for_anonymous("gate", tile)   # the stream's (kind, data), as Board publishes them
"""

DECISION_SHOWN = ("n", "verdict", "trigger", "rssi", "platform", "latency_ms", "presses",
                  "reason", "at")
EVENT_SHOWN = ("kind", "at", "port", "gate_id", "site")


def for_anonymous(kind: str, data: dict) -> dict:
    if kind == "state":
        return {**data, "gates": [_tile(g) for g in data["gates"]],
                "events": [_event(e) for e in data["events"]]}
    if kind == "gate":
        return _tile(data)
    if kind == "event":
        return _event(data)
    return data


def _decision(decision: dict) -> dict:
    return {k: v for k, v in decision.items() if k in DECISION_SHOWN}


def _tile(tile: dict) -> dict:
    return {**tile, "last": _decision(tile["last"])} if tile.get("last") else tile


def _event(event: dict) -> dict:
    if event.get("kind") != "decision":
        return event
    return {k: v for k, v in event.items() if k in DECISION_SHOWN or k in EVENT_SHOWN}
