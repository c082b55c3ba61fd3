"""`bzgate gate`: talk to a running gate over its serial port (hello, status, clock, config)."""

import json
import time

import click

from bzgate.errors import UserError
from bzgate.link.serial import GateLink, LinkError

EXIT_GATE = 1  # the gate did not answer or refused


def _port_option(command):
    command = click.option("--json", "as_json", is_flag=True, help="Print JSON for scripts.")(command)
    return click.option("--port", required=True, metavar="PATH",
                        help="The gate's serial port, e.g. /dev/ttyUSB0.")(command)


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
    """A running gate, over its USB serial port: the gate keeps scanning meanwhile."""


@gate.command("hello")
@_port_option
def hello(port: str, as_json: bool) -> None:
    """Which gate is on this port: firmware, gate id, board id."""
    _show(_ask(port, GateLink.hello), as_json)


@gate.command("status")
@_port_option
def status(port: str, as_json: bool) -> None:
    """Uptime, clock, counters, memory, storage, alarms and the last decision; checking: true
    while a press waits for a phone, presses_merged: presses that joined a decision under way."""
    _show(_ask(port, GateLink.status), as_json)


@gate.command("time-set")
@_port_option
@click.option("--time", "unix", type=int, metavar="UNIX",
              help="Unix seconds (UTC) to set; default: this computer's clock.")
def time_set(port: str, as_json: bool, unix: int | None) -> None:
    """Set the gate's clock to UTC (its records then carry a valid time)."""
    t = int(time.time()) if unix is None else unix
    _show(_ask(port, lambda g: g.time_set(t)), as_json)


@gate.command("config-get")
@_port_option
def config_get(port: str, as_json: bool) -> None:
    """The configuration the gate runs with."""
    _show(_ask(port, GateLink.config_get), as_json)
