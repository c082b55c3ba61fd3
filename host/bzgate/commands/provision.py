"""`bzgate provision` (list, flash, deploy, configure, verify, fleet): from an empty ESP32 to a
verified gate (the work itself: package bzprov)."""

from importlib import resources
from pathlib import Path

import click
from click.core import ParameterSource

from bzgate.commands.options import board_port_option, gate_id_option, gate_site_option, keys_option
from bzgate.errors import UserError
from bzgate.keys import KeyStore
from bzgate.link.ports import all_ports
from bzgate.link.serial import LinkError
from bzgate.textsafety import terminal_text
from bzprov import fields
from bzprov.configure import KEY_SOURCES, configure
from bzprov.deploy import deploy
from bzprov.flash import OFFSETS, flash
from bzprov.fleet import STEPS, State, read_fleet, run_fleet, summary
from bzprov.inventory import Inventory
from bzprov.inventory import default_path as default_inventory
from bzprov.mpremote import BoardError
from bzprov.verify import verify

_inventory = click.option("--inventory", "inventory_path", type=click.Path(dir_okay=False), metavar="FILE",
                          show_default="inventory.json beside the key store",
                          help="The inventory file: where each board hangs, what it runs.")
# Configuration fields with an option of their own; any other one goes in --set FIELD=VALUE.
_FIELD_OPTIONS = ("mode", "trigger", "near_rssi", "present_s", "relay_pulse_ms", "antipassback_s",
                  "ios_read", "require_id", "retention_days", "board")


def _stores(keys_path, inventory_path) -> tuple[KeyStore, Inventory]:
    store = KeyStore(keys_path)
    return store, Inventory(Path(inventory_path) if inventory_path else default_inventory(store.path))


def _echo(line: str) -> None:
    """A line for the terminal: what a board sent may hold control characters (an older
    board's site), shown as escapes."""
    click.echo(terminal_text(line))


def _given_fields(given: dict, location: str | None) -> dict:
    values, errors = fields.given_fields(given)
    errors += fields.location_errors(location or "")
    if errors:
        raise UserError(f"{len(errors)} field(s) not allowed, the board is untouched:\n  " + "\n  ".join(errors))
    return values


@click.group("provision")
def provision() -> None:
    """Set up boards: flash MicroPython, deploy the firmware, configure, verify; or a whole fleet.

    \b
    Examples:
      bzgate provision list
      bzgate provision fleet fleet.csv
    """


@provision.command("list")
def list_command() -> None:
    """Serial ports that look like ESP32 boards, and running virtual boards, with what each runs.

    \b
    Examples:
      bzgate provision list
    """
    ports = all_ports()
    if not ports:
        click.echo("no ESP32-like serial port and no virtual board found")
    for p in ports:
        runs = (f"gate {p.gate.get('gate_id')} firmware {p.gate.get('firmware')} board {p.gate.get('board_id')}"
                if p.gate else p.note)
        _echo(f"{p.device:<22} {p.kind:<24} {p.usb_serial:<16} {runs}")


@provision.command("flash")
@board_port_option
@click.option("--image", required=True, type=click.Path(dir_okay=False), help="MicroPython's .bin for the chip.")
@click.option("--chip", type=click.Choice(["auto", *OFFSETS]), default="auto", show_default=True)
@click.option("--erase", is_flag=True, help="Erase the whole flash first (files, NVS and key go too).")
@click.option("--dry-run", is_flag=True, help="Print the esptool command, run nothing.")
def flash_command(port, image, chip, erase, dry_run) -> None:
    """MicroPython onto a bare board with esptool (a real board on USB).

    \b
    Examples:
      bzgate provision flash --port /dev/ttyUSB0 --image ESP32_GENERIC-v1.28.0.bin
      bzgate provision flash --port /dev/ttyUSB0 --image micropython.bin --erase --dry-run
    """
    chip = flash(port, Path(image), chip, erase, dry_run, _echo)
    click.echo(f"{'would flash' if dry_run else 'flashed'} {chip} at {OFFSETS[chip]:#x}")


@provision.command("deploy")
@board_port_option
def deploy_command(port) -> None:
    """The firmware onto the board: only files that differ (SHA-256 on the board), main.py last.

    \b
    Examples:
      bzgate provision deploy --port /dev/ttyUSB0
    """
    for line in deploy(port, _echo).lines():
        _echo(line)


def _field_options(command):
    for name in reversed(_FIELD_OPTIONS):
        command = click.option("--" + name.replace("_", "-"), name, metavar="VALUE",
                               help=f"Configuration field {name}.")(command)
    return command


@provision.command("configure")
@board_port_option
@gate_id_option
@gate_site_option(required=False)
@click.option("--location", show_default="the inventory's", help="Where the board hangs (inventory only).")
@_field_options
@click.option("--set", "extra", multiple=True, metavar="FIELD=VALUE", help="Any other configuration field.")
@keys_option
@_inventory
def configure_command(port, gate_id, site, location, extra, keys_path, inventory_path, **options) -> None:
    """Configuration, secret key, clock (UTC) and inventory entry of one board. The fields
    given go over the board's configuration (each change printed, old → new); a field not
    given keeps what the board has, a new board starts from the defaults and needs --site.

    \b
    Examples:
      bzgate provision configure --port /dev/ttyUSB0 --gate-id hq-front-1 --site "Head office"
      bzgate provision configure --port /dev/ttyUSB0 --gate-id hq-front-1 --site "Head office" \\
          --mode monitor --near-rssi -62
      bzgate provision configure --port /dev/ttyUSB0 --gate-id hq-front-1 --mode enforce
    """
    given = {"gate_id": gate_id, **{k: v for k, v in options.items() if v is not None}}
    if click.get_current_context().get_parameter_source("site") is not ParameterSource.DEFAULT:
        given["site"] = site  # left out: the board's site stays
    for item in extra:
        name, sep, value = item.partition("=")
        if not sep:
            raise UserError(f"--set {item!r}: write FIELD=VALUE")
        given[name.strip()] = value
    values = _given_fields(given, location)
    store, inventory = _stores(keys_path, inventory_path)
    done = configure(port, values, store, inventory, location, _echo)
    _echo(f"configured gate {done.gate_id} on board {done.board_id} (firmware {done.firmware}); "
               f"key: {KEY_SOURCES[done.key_source]}; clock set")


def _verify_table(port, store, inventory) -> bool:
    try:
        checks = verify(port, store, inventory)
    except LinkError as e:
        raise BoardError(f"{port}: no gate answers ({e})") from None
    for check in checks:
        _echo(f"{'PASS' if check.passed else 'FAIL'}  {check.name:<8} {check.detail}")
    return all(c.passed for c in checks)


@provision.command("verify")
@board_port_option
@keys_option
@_inventory
def verify_command(port, keys_path, inventory_path) -> None:
    """Self-test of a running gate: clock, config, key (challenge-response), storage, BLE,
    outputs, and the uplink when Wi-Fi and MQTT are configured.

    \b
    Examples:
      bzgate provision verify --port /dev/ttyUSB0
    """
    if not _verify_table(port, *_stores(keys_path, inventory_path)):
        raise BoardError("verify failed")


@provision.command("fleet-template")
def fleet_template_command() -> None:
    """Print a fleet file to start from: its header and an example row per board.

    \b
    Examples:
      bzgate provision fleet-template > fleet.csv
    """
    click.echo(resources.files("bzprov").joinpath("fleet-template.csv").read_text(encoding="utf-8"),
               nl=False)


@provision.command("fleet")
@click.argument("fleet_file", type=click.Path(exists=True, dir_okay=False))
@click.option("--parallel", type=click.IntRange(1, 64), default=4, show_default=True, help="Boards at once.")
@click.option("--steps", default=",".join(STEPS), show_default=True, help="Which steps, in this order.")
@keys_option
@_inventory
def fleet_command(fleet_file, parallel, steps, keys_path, inventory_path) -> None:
    """Many boards from a CSV file (one row per board; `bzgate provision fleet-template` prints
    one to start from). Every port is opened first: none is touched while one is missing. A
    row's fields go over what its board has, as configure does: an empty cell keeps the board's.

    \b
    Examples:
      bzgate provision fleet fleet.csv
      bzgate provision fleet fleet.csv --steps configure,verify --parallel 8
    """
    chosen = [s.strip() for s in steps.split(",") if s.strip()]
    if not chosen or any(s not in STEPS for s in chosen):
        raise UserError(f"--steps {steps!r}: a comma-separated choice of {', '.join(STEPS)}")
    rows = read_fleet(Path(fleet_file), ports_open=True)
    store, inventory = _stores(keys_path, inventory_path)

    def do_step(step, row, progress):
        if step == "deploy":
            progress(deploy(row.port, progress).lines()[-2])
        elif step == "configure":
            configure(row.port, row.config, store, inventory, row.location, progress)
        else:
            failed = [f"{c.name}: {c.detail}" for c in verify(row.port, store, inventory) if not c.passed]
            if failed:
                raise BoardError("; ".join(failed))

    def guarded(step, row, progress):
        try:
            do_step(step, row, progress)
        except LinkError as e:
            raise BoardError(f"{row.port}: {e}") from None

    outcomes = run_fleet(rows, chosen, State(Path(fleet_file)), guarded, parallel, _echo)
    for line in summary(outcomes, chosen):
        _echo(line)
    if any(o.error for o in outcomes):
        raise BoardError("some boards failed; fix them and run the same command again")


def _test_presser(port: str):
    """How the field check presses the gate's trigger: a virtual board's pin through its control,
    a real board's by the person at the gate, when asked."""
    from bzsim.board import registry
    from bzsim.board.control import BoardControl

    flash = next((b["flash"] for b in registry.boards() if b["serial"] == port), None)
    if flash is None:
        return lambda pin: click.echo(f"Press the gate's button (GPIO{pin[0]}) now.", err=True)

    def press(pin):
        with BoardControl.for_flash(flash) as control:
            control.press(pin[0], 0.2, 0 if pin[1] else 1)

    return press


@provision.command("field-check")
@board_port_option
@click.option("--seconds", type=click.FloatRange(5, 3600), default=60, show_default=True,
              help="How long to measure.")
@click.option("--json", "json_path", type=click.Path(dir_okay=False, path_type=Path), metavar="FILE",
              help="Also write the whole report as JSON, to attach to a bug report.")
def field_check_command(port, seconds, json_path) -> None:
    """Measure a running gate where it hangs: heap, IDF heap, adverts, scanning, a test press, Wi-Fi, MQTT.

    Over the host link while the gate runs, the same on a real board as on a virtual one (where
    the test press is made for you; on a real board press the button when asked).

    \b
    Examples:
      bzgate provision field-check --port /dev/ttyUSB0
      bzgate provision field-check --port /dev/ttyUSB0 --seconds 300 --json front-1.json
    """
    from bzgate.jsonfile import write_atomic
    from bzprov.fieldcheck import field_check, rows

    try:
        report = field_check(port, seconds, _test_presser(port))
    except LinkError as e:
        raise BoardError(f"{port}: no gate answers ({e})") from None
    for what, value in rows(report):
        _echo(f"{what:<34} {value}")
    if json_path is not None:
        write_atomic(json_path, report)
