"""Does the Wi-Fi uplink starve the scan? Adverts a virtual gate receives per second with the
uplink off and with it busy, under the same load, and the heap the gate has left.

    .venv/bin/python bench/uplink_scan.py [--seconds 20] [--module wrover] [--heap 128K] [--adverts-per-s 150]

Each run: a gate in a scenario of other adverts at the given rate, its journal fed over the
host link (TIME SET, one CLOCK_SET record each, 20 a second) for the measured window, so the
serial traffic is the same in both runs; with the uplink on, every record goes to a private
Mosquitto in batches and a host stores and acks them. Prints one JSON line per run and the ratio.
On a WROOM-32 (--module, docs/esp32-notes.md, note 38) the gate may refuse the uplink
(alarm uplink-no-heap): "stored_by_host" then says how many records still arrived.

What the virtual board models: the gate's one interpreter shared by the scan, the journal and
the uplink (the CPU and asyncio side of the cost), through a real TCP stack. What it cannot: the
ESP32's one radio, which Wi-Fi and BLE share by time slices (docs/esp32-notes.md, note 11); on
the board a busy uplink also takes air time from the scan, which only a measurement on hardware
shows.
"""

import argparse
import json
import shutil
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO / "tests" / "firmware"), str(REPO / "tests")]

from gatekit import scenario, start_gate, stop_gate  # noqa: E402
from services import PrivateBroker  # noqa: E402
from uplinkkit import Host, uplink_config, wifi_args  # noqa: E402

from bzsim.shims.boardmemory import WROOM_32, WROVER  # noqa: E402

RECORDS_PER_S = 20


def run(where: Path, seconds: float, module: str, heap: str | None, noise: float,
        port: int | None) -> dict:
    config = {"trigger": "none", **(uplink_config(port) if port else {})}
    board = start_gate(where, config=config,
                       board_args=wifi_args(module) + (("--heap", heap) if heap else ()),
                       scenario_dict=scenario(noise={"other_adverts_per_s": noise}))
    try:
        time.sleep(6)  # booted, scanning, connected
        with board.link() as link:
            before, start = link.status(), time.monotonic()
            sent = 0
            while time.monotonic() - start < seconds:
                link.time_set(1_790_000_000 + sent)
                sent += 1
                time.sleep(max(0.0, start + sent / RECORDS_PER_S - time.monotonic()))
            after, elapsed = link.status(), time.monotonic() - start
        return {"uplink": bool(port), "module": module, "heap": heap, "seconds": round(elapsed, 1),
                "adverts_per_s": round((after["adverts"] - before["adverts"]) / elapsed, 1),
                "drops": after["drops"] - before["drops"], "records": sent,
                "heap_free": after["heap_free"], "heap_largest": after["heap_largest"],
                "idf_largest": after.get("idf_largest"), "alarms": after["alarms"]}
    finally:
        stop_gate(board)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--module", choices=(WROOM_32, WROVER), default=WROVER)
    parser.add_argument("--heap", help="overrides the module's Python heap (ESP32 terms)")
    parser.add_argument("--adverts-per-s", type=float, default=150)
    args = parser.parse_args()
    where = Path(tempfile.mkdtemp(prefix="uplink-scan-"))
    try:
        off = run(where / "off", args.seconds, args.module, args.heap, args.adverts_per_s, None)
        print(json.dumps(off), flush=True)
        with PrivateBroker() as broker:
            host = Host(broker.port, "bzgate", "test-gate")
            try:
                on = run(where / "on", args.seconds, args.module, args.heap, args.adverts_per_s,
                         broker.port)
                on["stored_by_host"] = len(host.records)
                on["batches"] = host.batches
            finally:
                host.close()
        print(json.dumps(on))
        print(json.dumps({"adverts_ratio_on_off": round(on["adverts_per_s"] / off["adverts_per_s"], 3)}))
    finally:
        shutil.rmtree(where, ignore_errors=True)


if __name__ == "__main__":
    main()
