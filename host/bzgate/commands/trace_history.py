"""`bzgate trace --history FILE`: the checkpoint gates in one person's Bluezone history."""

import json
from pathlib import Path

import click

from bzgate.errors import UserError
from bzgate.localtime import local_text_maker, utc_text_maker
from bzgate.trace.history import BAD_SHOWN, History, Pass, parse_history, passes
from bzgate.keys import KeyStore


def history_json(path: Path, history: History, found: list[Pass], checkpoints: int,
                 tolerance: int) -> dict:
    utc, local = utc_text_maker(), local_text_maker()
    return {"history": str(path), "rows": len(history.rows), "bad_lines": len(history.bad),
            "bad": [{"line": n, "why": why} for n, why in history.bad[:BAD_SHOWN]],
            "checkpoints": checkpoints, "tolerance_s": tolerance,
            "passes": [p._asdict() | {"first_seen_utc": utc(p.first_seen),
                                      "last_seen_utc": utc(p.last_seen),
                                      "first_seen_local": local(p.first_seen),
                                      "last_seen_local": local(p.last_seen)} for p in found]}


def summary_line(doc: dict) -> str:
    return (f"{doc['rows']} history row(s), {doc['checkpoints']} checkpoint gate(s), slot windows "
            f"widened by {doc['tolerance_s']} s: {len(doc['passes'])} pass(es)")


def history_text(doc: dict) -> str:
    lines = [summary_line(doc)]
    if doc["bad_lines"]:
        shown = ", ".join(f"line {b['line']}: {b['why']}" for b in doc["bad"][:3])
        lines.append(f"{doc['bad_lines']} line(s) could not be read and were left out ({shown}"
                     f"{', ...' if doc['bad_lines'] > 3 else ''})")
    if doc["passes"]:
        lines.append(f"{'gate':<20}  {'first seen (UTC)':<20}  {'last seen (UTC)':<20}  "
                     f"{'first seen (UTC+7)':<19}  {'last seen (UTC+7)':<19}  rows  best RSSI")
    for p in doc["passes"]:
        lines.append(f"{p['gate_id']:<20}  {p['first_seen_utc']:<20}  {p['last_seen_utc']:<20}  "
                     f"{p['first_seen_local']}  {p['last_seen_local']}  {p['rows']:>4}  "
                     f"{p['best_rssi']:>9}")
    return "\n".join(lines)


def trace_history(path: Path, keys_path: str | None, tolerance: int,
                  as_json: bool) -> tuple[str, str]:
    """(the report of a history file as JSON or text, its summary line); see
    bzgate.trace.history."""
    try:
        text = path.read_bytes().decode("utf-8-sig", errors="replace")
    except OSError as exc:
        raise UserError(f"cannot read {path}: {exc.strerror}") from None
    history = parse_history(text)
    checkpoints = KeyStore(keys_path).checkpoints()
    if not checkpoints:
        raise UserError("the key store has no checkpoint gates: give --keys, or provision gates "
                        "with checkpoint_beacon on first")
    doc = history_json(path, history, passes(history, checkpoints, tolerance), len(checkpoints),
                       tolerance)
    if as_json:
        if history.bad:
            click.echo(f"bzgate: {len(history.bad)} line(s) of {path} could not be read", err=True)
        return json.dumps(doc), summary_line(doc)
    return history_text(doc), summary_line(doc)

