"""`bzgate ble`: Bluetooth LE from this computer, through bleak: survey the air, act as a gate."""

import asyncio
import json
import time

import click

from bzcore import config
from bzgate import store
from bzgate.ble import gate as blegate
from bzgate.ble import radio as bleradio
from bzgate.ble.scan import Survey, calibration
from bzgate.commands.options import (
    db_option,
    gate_id_option,
    gate_site_option,
    json_option,
    keys_option,
    radio_options,
    stop_like_ctrl_c,
)
from bzgate.errors import UserError
from bzgate.keys import KeyStore
from bzprov.inventory import Inventory
from bzprov.inventory import default_path as default_inventory


@click.group("ble")
def ble() -> None:
    """Bluetooth LE from this computer (BlueZ, or a simulated air with --air).

    \b
    Examples:
      bzgate ble scan --seconds 5
      bzgate ble gate --gate-id lobby-pi --site hq --db bzgate.db
    """


def _known_gate_ids(keys: KeyStore) -> set[str]:
    """Gate ids the key store and the inventory know, to name the gates' status beacons."""
    found = {entry.get("gate_id") for entry in keys.boards().values()}
    inventory = Inventory(default_inventory(keys.path))
    found |= {entry.get("gate_id") for entry in inventory.boards().values()}
    return {g for g in found if isinstance(g, str) and g}


def _run(coroutine) -> None:
    stop_like_ctrl_c()
    try:
        asyncio.run(coroutine)
    except KeyboardInterrupt:
        pass  # the coroutine's own clean-up has run: the scan stopped, what was seen is kept


def _scan_table(result: dict) -> str:
    lines = [f"{len(result['gates'])} gate(s):"]
    for g in result["gates"]:
        name = g["gate_id"] or f"(unknown, hash {g['gate_hash']})"
        if "mode" not in g:
            lines.append(f"  {name:<20} {g['rssi']:>4} dBm  beacon version {g['version']}: "
                         "update bzgate to read it")
            continue
        counts = g["counts"]
        lines.append(f"  {name:<20} {g['rssi']:>4} dBm  {g['mode']:<8} "
                     f"clock {'ok' if g['clock_valid'] else 'NOT SET'}  "
                     f"allow {counts['allow']} deny {counts['deny']} no-app {counts['no-app']}  "
                     f"alarms: {', '.join(g['alarms']) or 'none'}")
    lines.append(f"{len(result['phones'])} Bluezone phone(s):")
    for p in result["phones"]:
        ident = p["id"] or "(read over GATT)"
        lines.append(f"  {p['platform'] or '?':<8} {p['kind']:<18} {ident:<24} {p['address']}  "
                     f"{p['rssi']:>4} dBm  {p['adverts']} advert(s)")
    lines.append(f"{result['other_adverts']} other advert(s)")
    return "\n".join(lines)


def _calibration_text(c: dict) -> str:
    return "\n".join([
        f"phone {c['phone']} ({c['kind']}) at {c['distance_m']} m: {c['samples']} readings",
        f"  min {c['min']}  p10 {c['p10']:.1f}  p25 {c['p25']:.1f}  median {c['median']:.1f}  "
        f"p90 {c['p90']:.1f}  max {c['max']} dBm",
        f"near_rssi = {c['near_rssi']}  (the 10th percentile, rounded down: a phone held at "
        f"{c['distance_m']} m reads at or above it 9 times in 10, so the gate's averaged reading "
        "counts it as near; it stops being near 6 dB below)",
        f"configure it with: bzgate provision configure ... --near-rssi {c['near_rssi']}"])


@ble.command("scan")
@radio_options
@click.option("--seconds", type=click.FloatRange(0.5, 3600), default=10, show_default=True,
              help="How long to listen.")
@click.option("--calibrate", is_flag=True,
              help="Work out near_rssi from the strongest Bluezone phone, held at --distance.")
@click.option("--distance", type=click.FloatRange(0.05, 10), default=0.3, show_default=True,
              metavar="METRES", help="With --calibrate: how far the phone is held from the gate.")
@json_option
@keys_option
def scan_command(adapter: str, air: str | None, seconds: float, calibrate: bool, distance: float,
                 as_json: bool, keys_path: str | None) -> None:
    """Gates nearby with their status (from their beacons), and Bluezone phones with RSSI.
    The key store and the inventory beside it name the gates.

    \b
    Examples:
      bzgate ble scan --seconds 5
      bzgate ble scan --calibrate --distance 0.3 --seconds 20
    """
    survey = Survey(_known_gate_ids(KeyStore(keys_path)))
    _run(bleradio.listen(bleradio.choose(air, adapter, "bzgate-scan"), survey.on_advert, seconds))
    result = survey.result()
    if calibrate:
        result["calibration"] = calibration(survey, distance)
        if result["calibration"] is None:
            raise UserError(f"no Bluezone phone was heard often enough in {seconds:g} s: hold one "
                            f"{distance:g} m from the adapter with Bluezone open and try again", 1)
    if as_json:
        click.echo(json.dumps(result))
    elif calibrate:
        click.echo(_calibration_text(result["calibration"]))
    else:
        click.echo(_scan_table(result))


@ble.command("gate")
@gate_id_option
@gate_site_option(required=False)
@radio_options
@click.option("--seconds", type=click.FloatRange(1, None), show_default="until Ctrl-C",
              help="Stop after this long.")
@db_option
@keys_option
@json_option
def gate_command(gate_id: str, site: str, adapter: str, air: str | None, seconds: float | None,
                 db: str | None, keys_path: str | None, as_json: bool) -> None:
    """Act as a gate: record Bluezone phones (iPhones read over GATT) into the database.

    The records are a board's, with their own MAC chain and key (board id ble:GATE_ID in the key
    store, made on the first run), so export, report and trace use them like any gate's.
    Ctrl-C or --seconds ends it; visits under way are closed and stored, and it prints a
    summary.

    \b
    Examples:
      bzgate ble gate --gate-id lobby-pi --site hq --db bzgate.db
    """
    errors = config.validate({**config.defaults(), "gate_id": gate_id, "site": site})
    if errors:
        raise UserError("; ".join(errors))
    conn = store.open_store(db)
    journal = blegate.Journal(conn, KeyStore(keys_path), gate_id, site, int(time.time()))
    host_gate = blegate.HostGate(journal, bleradio.choose(air, adapter, gate_id))
    if not as_json:
        click.echo(f"{journal.board_id}: scanning with the {host_gate.radio.where}; Ctrl-C to stop",
                   err=True)
    try:
        _run(host_gate.run(seconds))
    finally:
        conn.close()
    summary = {"board_id": journal.board_id, "gate_id": gate_id, "next_seq": journal.seq,
               "stored": journal.stored, **host_gate.stats}
    if as_json:
        click.echo(json.dumps(summary))
    else:
        click.echo(f"{journal.board_id}: {journal.stored['sightings']} sighting(s), "
                   f"{journal.stored['records']} record(s) stored; {host_gate.stats['reads']} "
                   f"iPhone read(s), {host_gate.stats['read_failures']} failed")
