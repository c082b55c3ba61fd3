"""`bzgate gate`: talk to a running gate over its serial port (hello, status, clock, config,
an exempt entry)."""

import json
import time

import click

from bzgate import store
from bzgate.commands.options import board_port_option, db_option, json_option
from bzgate.errors import UserError
from bzgate.exempt import NOTE_MAX, NOTE_REQUIRED, REASONS, ExemptError, give_exempt
from bzgate.link.serial import GateLink, LinkError
from bzgate.store.audit import os_user
from bzgate.textsafety import terminal_text

EXIT_GATE = 1  # the gate did not answer or refused
# What a gate's refusal of an EXEMPT means to the guard at the door.
_EXEMPT_REFUSALS = {
    "count-mode": "the gate is in count mode: it only counts and opens no door, not even for an "
                  "exempt",
    "unknown-command": "the gate's firmware does not know exempt entries: update it "
                       "(bzgate provision deploy)",
}


def _ask(port: str, action, refusals: dict[str, str] | None = None) -> dict:
    """action(link)'s result; a LinkError as one line, said as `refusals` say its code."""
    try:
        with GateLink(port) as gate:
            return action(gate)
    except LinkError as e:
        why = (refusals or {}).get(e.code, str(e))
        raise UserError(f"gate on {port}: {why}", exit_code=EXIT_GATE) from None


def _show(data: dict, as_json: bool) -> None:
    if as_json:
        click.echo(json.dumps(data))
        return
    for key, value in data.items():  # values as the gate sent them: true, not Python's True
        shown = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
        click.echo(terminal_text(f"{key + ':':16}{shown}"))  # an older gate's site may hold ESC


@click.group("gate")
def gate() -> None:
    """A running gate, over its USB serial port: the gate keeps scanning meanwhile.

    \b
    Examples:
      bzgate gate hello --port /dev/ttyUSB0
      bzgate gate status --port /dev/ttyUSB0 --json
    """


@gate.command("hello")
@board_port_option
@json_option
def hello(port: str, as_json: bool) -> None:
    """Which gate is on this port: firmware, gate id, board id.

    \b
    Examples:
      bzgate gate hello --port /dev/ttyUSB0
    """
    _show(_ask(port, GateLink.hello), as_json)


@gate.command("status")
@board_port_option
@json_option
def status(port: str, as_json: bool) -> None:
    """Uptime, clock, counters, memory, storage, alarms and the last decision; checking: true
    while a press waits for a phone, presses_merged: presses that joined a decision under way.

    \b
    Examples:
      bzgate gate status --port /dev/ttyUSB0
      bzgate gate status --port /dev/ttyUSB0 --json
    """
    _show(_ask(port, GateLink.status), as_json)


@gate.command("time-set")
@board_port_option
@json_option
@click.option("--time", "unix", type=int, metavar="UNIX", show_default="this computer's clock",
              help="Unix seconds (UTC) to set.")
def time_set(port: str, as_json: bool, unix: int | None) -> None:
    """Set the gate's clock to UTC (its records then carry a valid time).

    \b
    Examples:
      bzgate gate time-set --port /dev/ttyUSB0
      bzgate gate time-set --port /dev/ttyUSB0 --time 1600387200
    """
    t = int(time.time()) if unix is None else unix
    _show(_ask(port, lambda g: g.time_set(t)), as_json)


@gate.command("config-get")
@board_port_option
@json_option
def config_get(port: str, as_json: bool) -> None:
    """The configuration the gate runs with.

    \b
    Examples:
      bzgate gate config-get --port /dev/ttyUSB0 --json
    """
    _show(_ask(port, GateLink.config_get), as_json)


@gate.command("exempt")
@board_port_option
@click.option("--reason", required=True, metavar="REASON",
              help=f"Why the visitor enters without Bluezone: {', '.join(REASONS)}.")
@click.option("--note", metavar="TEXT",
              help=f"Who decided and why, on one line, up to {NOTE_MAX} characters; kept in the "
                   f"database's audit. Required for {', '.join(NOTE_REQUIRED)}.")
@db_option
@json_option
def exempt(port: str, reason: str, note: str | None, db: str | None, as_json: bool) -> None:
    """Let one visitor in without Bluezone: the gate opens its door as for an ALLOW and journals
    an EXEMPT decision with the reason (collect stores it); the note and who gave the exempt
    (this computer's user) go into the audit of the database. A reason or note that is refused
    leaves the gate untouched.

    \b
    Examples:
      bzgate gate exempt --port /dev/ttyUSB0 --reason no-smartphone
      bzgate gate exempt --port /dev/ttyUSB0 --reason paper-declaration --note "form 0412"
      bzgate gate exempt --port /dev/ttyUSB0 --reason staff-override \\
          --note "delivery for floor 3, let in by Lan (reception)" --db bzgate.db
    """
    with store.open_store(db) as conn:
        try:
            reply = _ask(port, lambda link: give_exempt(link, reason, note, os_user(), conn),
                         _EXEMPT_REFUSALS)
        except ExemptError as e:
            raise UserError(str(e)) from None
    if not as_json:
        reply = {**reply, "audit": store.shown(store.db_path(db))}
    _show(reply, as_json)
