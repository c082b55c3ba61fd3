"""`bzgate gate`: talk to a running gate over its serial port (hello, status, clock, config)."""

import json
import time

import click

from bzgate.commands.options import board_port_option, json_option
from bzgate.errors import UserError
from bzgate.link.serial import GateLink, LinkError

EXIT_GATE = 1  # the gate did not answer or refused


def _ask(port: str, action) -> dict:
    try:
        with GateLink(port) as gate:
            return action(gate)
    except LinkError as e:
        raise UserError(f"gate on {port}: {e}", exit_code=EXIT_GATE) from None


def _show(data: dict, as_json: bool) -> None:
    if as_json:
        click.echo(json.dumps(data))
        return
    for key, value in data.items():  # values as the gate sent them: true, not Python's True
        shown = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
        click.echo(f"{key + ':':16}{shown}")


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
