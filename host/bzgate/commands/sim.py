"""`bzgate sim`: the virtual ESP32 board and its controls (pins, power, console)."""

import json
import re
import time

import click

from bzgate.commands.options import json_option
from bzgate.errors import UserError
from bzsim.air import wifi as air_wifi
from bzsim.air.cli import air_command
from bzsim.air.scenario import ScenarioError
from bzsim.air.server import ask_gates, start_air
from bzsim.board.control import BoardControl, BoardControlError
from bzsim.board.process import DEFAULT_FLASH_BYTES, Board
from bzsim.board.run import run
from bzsim.board.serialline import DEFAULT_BAUD
from bzsim.shims import boardmemory

_SIZE = re.compile(r"^(\d+)([KM]?)$")


def _bytes(text: str) -> int:
    match = _SIZE.match(text.upper())
    if not match:
        raise UserError(f"size {text!r}: write a number of bytes, optionally with K or M (e.g. 2M)")
    return int(match[1]) << {"": 0, "K": 10, "M": 20}[match[2]]


@click.group("sim")
def sim() -> None:
    """The virtual ESP32 gate board: start one, then press its buttons, read its pins, cut its power.

    \b
    Examples:
      bzgate sim board --flash ./board1
      bzgate sim press --flash ./board1 13
    """


sim.add_command(air_command)

_flash_option = click.option("--flash", "flash", required=True, type=click.Path(file_okay=False),
                             help="The directory that holds the virtual board's filesystem (sim "
                                  "board makes it when missing).")


@sim.command("board")
@_flash_option
@click.option("--air", metavar="HOST:PORT", help="Shared simulated air to listen to.")
@click.option("--scenario", type=click.Path(exists=True, dir_okay=False),
              show_default="a quiet office", help="Run a private air playing this scenario.")
@click.option("--module", type=click.Choice(list(boardmemory.PYTHON_HEAP)), default=boardmemory.DEFAULT_MODULE,
              show_default=True,
              help="The ESP32 module whose memory the board has: wroom-32 (no PSRAM: BLE, Wi-Fi and "
                   "sockets take from the Python heap) or wrover (4 MB PSRAM holds the Python heap).")
@click.option("--heap", show_default="the module's",
              help="Python heap with nothing switched on, in ESP32 (32-bit) terms: an override "
                   "for experiments.")
@click.option("--name", show_default='its only gate; "gate" without a scenario',
              help="The board's name in the air: a gate of the scenario.")
@click.option("--flash-size", default=str(DEFAULT_FLASH_BYTES // 1024) + "K", show_default=True,
              help="Capacity of the board's filesystem.")
@click.option("--baud", type=click.IntRange(1200, 5_000_000), default=DEFAULT_BAUD, show_default=True,
              help="Speed of the serial line into the board (input beyond its 260-byte buffer is lost).")
@click.option("--wifi", metavar="SSID:PASSWORD",
              help="An access point in range; the board's sockets then reach this machine's loopback. "
                   "Refused when the scenario gives the board's gate one.")
@click.option("--romfs/--no-romfs", default=True, show_default=True,
              help="MicroPython as bzgate's image builds it, with a ROMFS partition where the "
                   "firmware runs in place (provisioning/esp32-image), or as micropython.org "
                   "builds it, without one.")
def board_command(flash, air, scenario, module, heap, name, flash_size, baud, wifi, romfs) -> None:
    """Start a virtual ESP32; print its serial device's path, then run until stopped.

    Use the path with mpremote: `mpremote connect <path> fs ls`.

    \b
    Examples:
      bzgate sim board --flash ./board1
      bzgate sim board --flash ./board1 --scenario scenario.json --name front
      bzgate sim board --flash ./board1 --module wrover --wifi gate-lan:secret123
    """
    if air and scenario:
        raise UserError("give --air (a shared air) or --scenario (a private one), not both")
    if heap is not None and not _SIZE.match(heap.upper()):
        raise UserError(f"--heap {heap!r}: write a size such as 96K")
    flash_bytes = _bytes(flash_size)
    if wifi is not None and ":" not in wifi:
        raise UserError(f"--wifi {wifi!r}: write SSID:PASSWORD (an open network: SSID:)")
    access_point = tuple(wifi.split(":", 1)) if wifi is not None else None
    try:
        private_air = None if air else start_air(scenario)  # the scenario's, or a quiet office
    except (ScenarioError, OSError) as e:
        raise UserError(f"scenario {scenario}: {e}") from None
    try:
        address = air or private_air.address
        name = _gate_name(name, private_air.gates() if private_air is not None else _air_gates(air))
        plan = _scenario_wifi(address, name)
        if plan is not None and access_point is not None:
            raise UserError(f"--wifi: gate {plan.gate!r} has its access point in the scenario "
                            f"(SSID {plan.ssid!r}); leave --wifi out")
        run(Board(flash, module=module, heap=heap and heap.upper(), name=name, air=address, flash_bytes=flash_bytes,
                  baud=baud, wifi=access_point, wifi_plan=plan, romfs=romfs))
    finally:
        if private_air is not None:
            private_air.stop()


def _air_gates(address: str) -> list | None:
    try:
        return ask_gates(address)
    except (OSError, ValueError) as e:  # an air that cannot say: run with the name given
        click.echo(f"bzgate sim board: the air's gates are unknown: {e}", err=True)
        return None


def _gate_name(name: str | None, gates: list | None) -> str:
    """The board's name: the one given, which must be one of the scenario's gates (the air's
    visitors press only there); by default the scenario's only gate, else "gate"."""
    if name is None:
        if gates and len(gates) == 1:
            return gates[0]
        name = "gate"
    if gates and name not in gates:
        raise UserError(f"--name {name!r}: the scenario has no such gate (its gates: "
                        f"{', '.join(gates)}); its visitors would never press here, give "
                        f"--name with one of them")
    return name


def _scenario_wifi(address: str, name: str) -> air_wifi.Plan | None:
    try:
        return air_wifi.ask(address, name)
    except (OSError, ValueError) as e:  # as with the visitors (bzsim.board.run): run without
        click.echo(f"bzgate sim board: the air's Wi-Fi cannot reach this board: {e}", err=True)
        return None


def _control(flash: str) -> BoardControl:
    try:
        return BoardControl.for_flash(flash)
    except (BoardControlError, OSError) as e:
        raise UserError(f"{e}; start it with `bzgate sim board --flash {flash}`") from None


@sim.command("press")
@_flash_option
@click.argument("pin", type=click.IntRange(0, 39))
@click.option("--seconds", default=0.2, show_default=True, help="How long to hold it.")
@click.option("--level", type=click.IntRange(0, 1), default=0, show_default=True,
              help="The level while held (0: a button to ground, a broken beam pulled low).")
def press_command(flash, pin, seconds, level) -> None:
    """Hold input PIN at a level for a while (a button press, a beam break).

    \b
    Examples:
      bzgate sim press --flash ./board1 13
      bzgate sim press --flash ./board1 4 --seconds 1 --level 1
    """
    with _control(flash) as board:
        board.press(pin, seconds, level)


@sim.command("drive")
@_flash_option
@click.argument("pin", type=click.IntRange(0, 39))
@click.argument("level", type=click.Choice(["0", "1", "release"]))
def drive_command(flash, pin, level) -> None:
    """Force input PIN to 0 or 1 until released.

    \b
    Examples:
      bzgate sim drive --flash ./board1 4 0
      bzgate sim drive --flash ./board1 4 release
    """
    with _control(flash) as board:
        board.drive(pin, None if level == "release" else int(level))


@sim.command("pins")
@_flash_option
@json_option
def pins_command(flash, as_json) -> None:
    """Show output levels (relay, LEDs, buzzer) and their timed history; with --json also the
    pins' modes and the inputs driven.

    \b
    Examples:
      bzgate sim pins --flash ./board1
      bzgate sim pins --flash ./board1 --json
    """
    with _control(flash) as board:
        pins = board.pins()
    if as_json:
        click.echo(json.dumps(pins, indent=2))
        return
    for pin, level in sorted(pins["outputs"].items(), key=lambda kv: int(kv[0])):
        click.echo(f"GPIO{pin:<3} {'-' if level is None else level}")
    for t, pin, level in pins["history"]:
        stamp = time.strftime("%H:%M:%S", time.localtime(t)) + f".{int(t * 1000) % 1000:03d}"
        click.echo(f"{stamp} GPIO{pin} -> {'released' if level is None else level}")


@sim.command("power")
@_flash_option
@click.argument("state", type=click.Choice(["on", "off"]))
def power_command(flash, state) -> None:
    """Cut the board's power (nothing unflushed survives) or power it on.

    \b
    Examples:
      bzgate sim power --flash ./board1 off
      bzgate sim power --flash ./board1 on
    """
    with _control(flash) as board:
        (board.power_on if state == "on" else board.power_off)()


@sim.command("wifi")
@_flash_option
@click.argument("state", type=click.Choice(["up", "down"]))
def wifi_command(flash, state) -> None:
    """Take the board's access point away (its station loses its IP) or bring it back.

    \b
    Examples:
      bzgate sim wifi --flash ./board1 down
      bzgate sim wifi --flash ./board1 up
    """
    with _control(flash) as board:
        try:
            board.wifi(state == "up")
        except BoardControlError as e:
            raise UserError(str(e)) from None


@sim.command("console")
@_flash_option
@click.option("--follow", "-f", is_flag=True, help="Keep printing new output until Ctrl-C.")
def console_command(flash, follow) -> None:
    """Print what the board has written to its serial port.

    \b
    Examples:
      bzgate sim console --flash ./board1
      bzgate sim console --flash ./board1 --follow
    """
    with _control(flash) as board:
        offset = 0
        while True:
            answer = board.request("console", since=offset)
            click.echo(answer["text"], nl=False)
            offset = answer["end"]
            if not follow:
                return
            time.sleep(0.2)
