"""`bzgate sim air`: run the simulated air that virtual boards connect to."""

import json
import queue
import signal
import sys

import click

from bzsim.air.scenario import ScenarioError, load
from bzsim.air.server import Air


def _listen_address(value: str):
    host, _, port = value.rpartition(":")
    if not host or not port.isdigit() or int(port) > 65535:
        raise click.BadParameter(f"expected HOST:PORT, e.g. 127.0.0.1:7400, not {value!r}")
    return host, int(port)


@click.command("air")
@click.option("--scenario", "scenario_path", type=click.Path(dir_okay=False),
              help="Scenario JSON file; without it the air is a quiet office.")
@click.option("--listen", default="127.0.0.1:0", show_default=True,
              help="Address to listen on (port 0 picks a free one).")
def air_command(scenario_path, listen):
    """Run the simulated air until stopped (Ctrl-C or SIGTERM).

    The first line printed is the address to give boards (BZSIM_AIR=HOST:PORT); each later
    line is one event as JSON (a visitor pressing a gate's button, a board joining or leaving).

    \b
    Examples:
      bzgate sim air --scenario scenario.json --listen 127.0.0.1:7400
      bzgate sim board --flash ./board1 --air 127.0.0.1:7400 --name front
    """
    address = _listen_address(listen)
    try:
        scenario = load(scenario_path) if scenario_path else None
    except ScenarioError as e:
        click.echo(f"error: {e}", err=True)
        sys.exit(2)
    try:
        air = Air(scenario, address)
    except OSError as e:
        click.echo(f"error: cannot listen on {listen}: {e.strerror or e}", err=True)
        sys.exit(2)
    events = air.subscribe()
    air.start()
    click.echo(air.address)
    sys.stdout.flush()
    stopping = []
    signal.signal(signal.SIGTERM, lambda *_: stopping.append(True))
    try:
        while not stopping:
            try:
                event = events.get(timeout=0.2)
            except queue.Empty:
                continue
            click.echo(json.dumps(event))
            sys.stdout.flush()
    except KeyboardInterrupt:
        pass
    finally:
        air.stop()


if __name__ == "__main__":
    air_command()  # pylint: disable=no-value-for-parameter
