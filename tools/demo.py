"""`make demo`, part two: a morning at an office entrance, from the gate to the agency's files.

A virtual ESP32 runs the real gate firmware at the front door. Provisioning gives it its
configuration, its secret key and the time; only then does the simulated air bring a morning
crowd: four in five run Bluezone (Android with the app open or in the background, iPhones in
the foreground or background), one in five does not. They queue, hold the phone to the scanner
and press the gate's button; one denied while the app was asleep opens it and presses again.
Among them is Lan, whose daily key the demo knows. Each press (who, on which phone) and each
of the gate's decisions, streamed live over the host link, is printed with the air's clock. After
about two minutes the host collects the gate's journal into a fresh SQLite file (MAC chain
verified), prints the report, writes the exports, and traces Lan as if her key had been published
as an F0 case, beside a second case who never came and must match nothing. Everything lands in
demo-output/; no hardware, no network.

    python tools/demo.py [--seconds N]      (default 120)
"""

import argparse
import json
import queue
import shutil
import subprocess
import sys
import threading
import time
from datetime import datetime, timezone
from pathlib import Path

from bzcore import config, ids
from bzgate.link.serial import GateLink
from bzgate.localtime import local_time
from bzprov import virtual as firmware
from bzsim.air import scenario as scenario_file
from bzsim.air.server import Air
from bzsim.board.control import BoardControl

BIN = Path(sys.executable).parent
OUT = Path(__file__).resolve().parent.parent / "demo-output"
GATE, GATE_ID, SITE = "front", "front-door", "Văn phòng Demo"
LAN_KEY = "4c" * 32  # Lan's daily key for today: the one the demo "publishes" as an F0 case
HOA_KEY = "48" * 32  # an F0 case who never came near the gate
LAN_ARRIVES_S = 12
DRAIN_S = 25  # after the crowd's last arrival: the queue empties
# The board journals a visit once the phone has gone unheard for presence.VISIT_GAP_MS (30 s),
# checked each second: Lan's sighting is in the journal this long after she walked out of range.
VISIT_CLOSED_S = 32
LAN_WAIT_MAX_S = 120  # past the crowd's end: a Lan who never leaves does not hold the demo
DAY = 86400


def scenario(start: int) -> dict:
    lan = {"name": "Lan", "platform": "android", "daily_key": LAN_KEY, "max": 96, "gate": GATE,
           "arrive_s": LAN_ARRIVES_S, "dwell_s": 6, "path": "enter", "press": True}
    return {"start": datetime.fromtimestamp(start, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "seed": 7, "gates": [{"name": GATE, "x": 0, "y": 0}], "phones": [lan],
            "crowd": {"per_minute": 10, "press_share": 1.0, "retry_share": 1.0, "gate": GATE,
                      "shares": {"android-open": 0.2, "android": 0.25, "ios": 0.15,
                                 "ios-background": 0.2, "other": 0.2}},
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


def clock(air: Air) -> str:
    """The air's time now, as the guard's watch shows it (Vietnam time)."""
    now = air.now()
    return local_time(int(now)).strftime("%H:%M:%S") + f".{int(now * 10) % 10}"


def show_presses(air: Air, stop: threading.Event, pressed: dict) -> None:
    """The air's ground truth as it happens: who pressed, on which phone, with which app state
    (pressed: name -> platform)."""
    events = air.subscribe()
    while not stop.is_set():
        try:
            event = events.get(timeout=0.2)
        except queue.Empty:
            continue
        if event["event"] == "press":
            pressed[event["phone"]] = event["platform"]
            again = ", again" if event["attempt"] > 1 else ""
            print(f"  {clock(air)}  {event['phone']} presses ({event['platform']}, app "
                  f"{event['app']}{again})", flush=True)


def watch(air: Air, serial_path: str, seconds: int) -> dict:
    """Print presses and decisions as they come; returns who pressed (name -> platform)."""
    print(f"\npresses (from the air) and decisions (live from the gate) over {seconds} s, and on "
          f"until Lan's visit is in the gate's journal:")
    stop = threading.Event()
    pressed = {}
    presses = threading.Thread(target=show_presses, args=(air, stop, pressed), daemon=True)
    presses.start()
    deadline = time.monotonic() + seconds
    try:
        with GateLink(serial_path, timeout=10) as gate:
            # On until the time is up and Lan's visit is in the journal, however long the queue
            # kept her: the trace below needs her sighting (events() calls lose nothing between).
            while (left := max(deadline - time.monotonic(), min(
                    lan_journaled_in(air), deadline + LAN_WAIT_MAX_S - time.monotonic()))) > 0:
                for event in gate.events(min(left, 5)):
                    show_event(air, event)
    finally:
        stop.set()
        presses.join()
    return pressed


def show_event(air: Air, event: dict) -> None:
    if "alarm" in event:
        print(f"  {clock(air)}  alarm: {event['alarm']}", flush=True)
    elif "checking" in event:
        print(f"  {clock(air)}  checking: no Bluezone phone at the scanner yet, "
              f"listening up to {event['checking']['wait_ms'] / 1000:g} s", flush=True)
    elif "verdict" in event:
        print(f"  {clock(air)}  {decision_line(event)}", flush=True)


def lan_journaled_in(air: Air) -> float:
    """Seconds until the board has journaled Lan's visit (her path's end is known once she
    has gone in; until then it lies at the end of time, as it does before the air has taken
    the release of the visitors, which it does on its own thread)."""
    lan = next((phone for phone in air.world.phones if phone.name == "Lan"), None)
    if lan is None:
        return float("inf")
    return lan.path.leaves + VISIT_CLOSED_S - air.elapsed()


def decision_line(event: dict) -> str:
    ident = (event.get("id") or "-").upper()
    rssi = "-" if event.get("rssi") is None else event["rssi"]
    return (f"{event['verdict'].upper():<6} {event.get('platform') or '':<8} ID {ident:<24} "
            f"RSSI {rssi:>4} dBm, {event['latency_ms']} ms after the press")


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
    air = Air(scenario_file.load(OUT / "scenario.json"), hold_visitors=True).start()
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
        air.release_visitors(crowd_s=seconds)
        print(f"\n{clock(air)}  the gate is ready: the crowd comes now, for {seconds} s "
              f"(4 in 5 run Bluezone, so about 80 % compliance)")
        lan_at = int(air.now()) + LAN_ARRIVES_S
        lan_id = ids.id_at(bytes.fromhex(LAN_KEY), lan_at, 96).hex().upper()
        print(f"Lan (Android, Bluezone in the background) reaches the gate {LAN_ARRIVES_S} s "
              f"later, ID {lan_id}")
        pressed = watch(air, serial_path, seconds + DRAIN_S)
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
    with_app = sum(1 for platform in pressed.values() if platform != "other")
    print(f"\nthe air's ground truth: {len(pressed)} visitors pressed, {with_app} of them running "
          f"Bluezone ({round(100 * with_app / max(1, len(pressed)))} %); the report's compliance "
          f"counts decisions, so a visitor denied while the app slept, who opened it and pressed "
          f"again, counts once denied and once allowed")
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
