"""`bzgate trace`: match published F0 keys against the stored sightings."""

import json
from pathlib import Path

import click

from bzgate.commands.options import db_option, json_option, keys_option, open_existing, output_option
from bzgate.errors import UserError
from bzgate.keys import KeyStore
from bzgate.localtime import local_text_maker, utc_text_maker
from bzgate.store import audit, shown
from bzgate.trace.f0 import read_f0_file
from bzgate.trace.history import BAD_SHOWN, History, Pass, parse_history, passes
from bzgate.trace.matching import DEFAULT_TOLERANCE_S, DEFAULT_WINDOW_MIN, TraceResult, trace


def result_json(result: TraceResult) -> dict:
    """The --json document: times as Unix seconds, IDs as upper-case hex (null: not read)."""
    def row(item):
        out = item._asdict()
        out["id"] = item.id.hex().upper() if item.id is not None else None
        return out
    return {"matches": [row(m) for m in result.matches],
            "exposed": [row(e) for e in result.exposed]}


def result_table(result: TraceResult, window_min: int) -> str:
    """For people: one line per match and per exposed device, times on Vietnam's clock."""
    when = local_text_maker()
    lines = [f"{len(result.matches)} match(es):"]
    head = (f"{'id':<24}  {'gate':<16}  {'site':<16}  {'first seen (UTC+7)':<19}  "
            f"{'last seen (UTC+7)':<19}")
    if result.matches:
        lines.append(head + "  max RSSI")
    for m in result.matches:
        lines.append(f"{m.id.hex().upper():<24}  {m.gate_id:<16}  {m.site:<16}  "
                     f"{when(m.first_seen)}  {when(m.last_seen)}  {m.max_rssi:>8}")
    lines.append(f"{len(result.exposed)} other device(s) at the same gate within {window_min} "
                 "min of a match:")
    if result.exposed:
        lines.append(head)
    for e in result.exposed:
        ident = e.id.hex().upper() if e.id is not None else "(iPhone, not read)"
        lines.append(f"{ident:<24}  {e.gate_id:<16}  {e.site:<16}  {when(e.first_seen)}  "
                     f"{when(e.last_seen)}")
    return "\n".join(line.rstrip() for line in lines)


def summary_line(records: list, result: TraceResult, tolerance: int | None) -> str:
    """What was searched and found; `tolerance` None for --exact."""
    windows = ("the app's exact slot windows" if tolerance is None
               else f"slot windows widened by {tolerance} s")
    copies = len(records) - len(set(records))
    left_out = f"{copies} of them copies left out, " if copies else ""
    summary = (f"{len(records)} F0 record(s), {left_out}{result.ids_expanded:,} IDs, {windows}; "
               f"{len(result.matches)} match(es), {len(result.exposed)} exposed")
    if result.clock_invalid:
        summary += (f"; {result.clock_invalid} sighting(s) of these IDs left out: the gate's "
                    "clock was not set")
    return summary


@click.command(name="trace")
@click.option("--f0", "f0_file", type=click.Path(dir_okay=False, path_type=Path),
              help="Published F0 keys: the F0 JSON, or the notification that carries it.")
@click.option("--history", type=click.Path(dir_okay=False, path_type=Path),
              help="Instead of --f0: one person's Bluezone history upload; reports the "
                   "checkpoint gates (checkpoint_beacon) they passed, from the key store.")
@keys_option
@click.option("--tolerance", type=click.IntRange(0, 3600), metavar="SECONDS",
              show_default=str(DEFAULT_TOLERANCE_S),
              help="Widen each ID's slot window by this much on both sides.")
@click.option("--exact", is_flag=True,
              help="The app's own test instead: the slot window alone, both ends inclusive.")
@click.option("--window", "window_min", type=click.IntRange(0, 24 * 60), metavar="MINUTES",
              default=DEFAULT_WINDOW_MIN, show_default=True,
              help="Exposed: other devices at a match's gate this close to it in time.")
@json_option
@output_option
@db_option
def trace_command(f0_file: Path | None, history: Path | None, keys_path: str | None,
                  tolerance: int | None, exact: bool, window_min: int,
                  as_json: bool, output: Path | None, db: str | None) -> None:
    """Find the phones of published F0 keys in the stored sightings, and who else was there.

    Every daily key is expanded into the IDs its phone broadcast, slot by slot, as the Bluezone
    app does; a sighting matches when it carries one of them within that ID's slot, widened by
    --tolerance (stale Android IDs, clock skew). Sightings made while a gate's clock was unset
    are left out and counted.

    Each daily key is expanded once, however many records repeat its days. Limits: an F0 file
    of at most 32 MiB, and 100,000 distinct days of keys (9.6 million IDs) a trace.

    \b
    Examples:
      bzgate trace --f0 f0.json --db bzgate.db
      bzgate trace --f0 notification.json --exact --json -o trace.json
      bzgate trace --history data_trace.txt --keys keys.json
    """
    if (f0_file is None) == (history is None):
        raise UserError("give --f0 (published F0 keys) or --history (one person's history file)")
    if exact and tolerance is not None:
        raise UserError("give --exact or --tolerance, not both")
    tolerance = DEFAULT_TOLERANCE_S if tolerance is None else tolerance
    if history is not None:
        emit(*trace_history(history, keys_path, 0 if exact else tolerance, as_json), output)
        return
    records = read_f0_file(f0_file)
    conn = open_existing(db)
    if conn.read_only:  # found out now, not once the trace is done
        conn.close()
        raise UserError(f"{shown(conn.target)} is read-only: every trace is recorded in its "
                        "audit table; trace on a copy this user can write")
    result = trace(conn, records, tolerance, exact, window_min)
    audit.record(conn, "trace", {
        "f0": str(f0_file), "records": len(records), "ids": result.ids_expanded, "exact": exact,
        "tolerance_s": 0 if exact else tolerance, "window_min": window_min,
        "matches": len(result.matches), "exposed": len(result.exposed),
        "clock_invalid": result.clock_invalid,
        "matched_ids": sorted({m.id.hex().upper() for m in result.matches})})
    conn.close()
    summary = summary_line(records, result, None if exact else tolerance)
    text = (json.dumps(result_json(result)) if as_json
            else summary + "\n" + result_table(result, window_min))
    emit(text, summary, output)
    if output is None and as_json and result.clock_invalid:
        click.echo(f"bzgate: {summary}", err=True)


def emit(text: str, summary: str, output: Path | None) -> None:
    """The result on the screen, or into `output` with its summary on stderr."""
    if output is None:
        click.echo(text)
        return
    try:
        output.write_text(text + "\n", encoding="utf-8")
    except OSError as exc:
        raise UserError(f"cannot write {output}: {exc}") from None
    click.echo(f"{summary}; written to {output}", err=True)


# ---- --history: the checkpoint gates in one person's Bluezone history ----

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


def history_summary(doc: dict) -> str:
    return (f"{doc['rows']} history row(s), {doc['checkpoints']} checkpoint gate(s), slot windows "
            f"widened by {doc['tolerance_s']} s: {len(doc['passes'])} pass(es)")


def history_text(doc: dict) -> str:
    lines = [history_summary(doc)]
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
        return json.dumps(doc), history_summary(doc)
    return history_text(doc), history_summary(doc)

