"""`make demo`, part two: a morning at an office entrance, from the gate to the agency's files.

A virtual ESP32 runs the real gate firmware at the front door. Provisioning gives it its
configuration, its secret key and the time; then the simulated air brings a morning crowd (phones
with Bluezone on Android and iPhone, phones without it) who press the gate's button, among them
Lan, whose daily key the demo knows. The gate's decisions stream live over the host link. After
about two minutes the host collects the gate's journal into a fresh SQLite file (MAC chain
verified), prints the report, writes the exports, and traces Lan as if her key had been published
as an F0 case, beside a second case who never came and must match nothing. Everything lands in
demo-output/; no hardware, no network.

    python tools/demo.py [--seconds N]      (default 120)
"""

import argparse
import json
import shutil
import subprocess
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

from bzcore import config, ids
from bzgate.link import GateLink
from bzsim import firmware
from bzsim.air import start_air
from bzsim.control import BoardControl

BIN = Path(sys.executable).parent
OUT = Path(__file__).resolve().parent.parent / "demo-output"
GATE, GATE_ID, SITE = "front", "front-door", "Văn phòng Demo"
LAN_KEY = "4c" * 32  # Lan's daily key for today: the one the demo "publishes" as an F0 case
HOA_KEY = "48" * 32  # an F0 case who never came near the gate
LAN_ARRIVES_S = 12
DAY = 86400


def scenario(start: int) -> dict:
    lan = {"name": "Lan", "platform": "android", "daily_key": LAN_KEY, "max": 96, "gate": GATE,
           "arrive_s": LAN_ARRIVES_S, "dwell_s": 6, "path": "enter", "press": True}
    return {"start": datetime.fromtimestamp(start, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "seed": 7, "gates": [{"name": GATE, "x": 0, "y": 0}], "phones": [lan],
            "crowd": {"per_minute": 12, "press_share": 1.0, "gate": GATE,
                      "shares": {"android": 0.45, "ios": 0.15, "ios-background": 0.2, "other": 0.2}},
            "noise": {"other_adverts_per_s": 20, "malformed_per_s": 1,
                      "random_bluezone_ids_per_s": 0.2}}


def bzgate(*args: str, show: bool = True) -> str:
    """Run a bzgate command as a user would, printing it and what it printed."""
    run = subprocess.run([str(BIN / "bzgate"), *args], capture_output=True, text=True)
    if show:
        print(f"\n$ bzgate {' '.join(args)}")
        print(run.stdout.rstrip())
    if run.returncode != 0:
        raise SystemExit(f"bzgate {args[0]} failed ({run.returncode}): {run.stderr.strip()}")
    return run.stdout


def watch(serial_path: str, seconds: int) -> None:
    print(f"\ndecisions, live from the gate over {seconds} s:")
    start = time.monotonic()
    with GateLink(serial_path, timeout=10) as gate:
        for event in gate.events(seconds):
            at = time.monotonic() - start
            if "alarm" in event:
                print(f"  {at:5.1f} s  alarm: {event['alarm']}")
                continue
            ident = (event.get("id") or "-").upper()
            print(f"  {at:5.1f} s  {event['verdict'].upper():<6} {event.get('platform') or '':<8}"
                  f" ID {ident:<24} RSSI {event['rssi']:>4} dBm, {event['latency_ms']} ms")


def f0_case(start: int) -> Path:
    """Two F0 cases published for today, as the app uploads them: Lan, who came through the
    front door, and Hoa, who stayed at home (her key must match nothing)."""
    day = start - start % DAY
    path = OUT / "f0-today.json"
    path.write_text(json.dumps({"data": [
        {"daily_key": key, "time_start": day, "max": 96, "time_end": day + DAY}
        for key in (LAN_KEY, HOA_KEY)]}))
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=120, help="how long the crowd comes")
    seconds = parser.parse_args().seconds
    shutil.rmtree(OUT, ignore_errors=True)
    OUT.mkdir()
    db, keys = str(OUT / "bzgate.db"), str(OUT / "keys.json")
    start = int(time.time())
    (OUT / "scenario.json").write_text(json.dumps(scenario(start)))
    air = start_air(str(OUT / "scenario.json"))
    flash = OUT / "board-flash"
    firmware.install(flash, {**config.defaults(), "gate_id": GATE_ID, "site": SITE})
    board = subprocess.Popen([str(BIN / "bzgate"), "sim", "board", "--flash", str(flash),
                              "--air", air.address, "--name", GATE], stdout=subprocess.PIPE, text=True)
    try:
        serial_path = board.stdout.readline().strip()
        print(f"virtual ESP32 at the front door on {serial_path}, gate firmware installed")
        BoardControl.for_flash(flash).wait_console("rst:0x1", timeout=15)
        bzgate("provision", "configure", "--port", serial_path, "--gate-id", GATE_ID,
               "--site", SITE, "--keys", keys, "--inventory", str(OUT / "inventory.json"))
        lan_id = ids.id_at(bytes.fromhex(LAN_KEY), start + LAN_ARRIVES_S, 96).hex().upper()
        print(f"\nLan (Android, Bluezone) reaches the gate {LAN_ARRIVES_S} s into the morning, ID {lan_id}")
        watch(serial_path, seconds)
        bzgate("collect", "--port", serial_path, "--db", db, "--keys", keys)
    except BaseException:
        console = BoardControl.for_flash(flash).console()
        print(f"the board's console ended with:\n{console[-3000:]}", file=sys.stderr)
        raise
    finally:
        board.terminate()
        board.wait(10)
        air.stop()
    bzgate("report", "--db", db, "--by", "gate", "--format", "md", "--lang", "en")
    bzgate("report", "--db", db, "-o", str(OUT / "bao-cao.html"), show=False)
    bzgate("export", "--db", db, "--what", "decisions", "-o", str(OUT / "decisions.csv"), show=False)
    bzgate("export", "--db", db, "--what", "sightings", "--ids", "hashed", "--format", "xlsx",
           "-o", str(OUT / "sightings.xlsx"), show=False)
    print("\nfiles for the agency:")
    for name in ("bao-cao.html", "decisions.csv", "sightings.xlsx", "bzgate.db"):
        print(f"  {OUT / name}")
    bzgate("trace", "--f0", str(f0_case(start)), "--db", db)


if __name__ == "__main__":
    main()
