"""The whole Wi-Fi gate for ten minutes: does it keep room and deliver every record?

    .venv/bin/python bench/wifi_gate.py [--module wroom-32] [--module wrover] [--minutes 10] [--no-romfs]
                                        [--no-host]

A virtual gate (bzgate's image by default, --no-romfs for micropython.org's) with Wi-Fi and the
MQTT uplink configured to a private Mosquitto and a host that stores and acks, in a scenario of:
20 iPhones in the background lingering near the gate, 500 random Bluezone IDs a second during
the third minute, a press every 10 s, and the access point gone from minute 6 to minute 7.
STATUS every 2 s gives the least free heap and the least largest free block (ESP32 bytes), the
IDF heap's least largest block and every alarm raised. With --no-host nothing talks to the
gate's USB link until the end, as at a Wi-Fi gate's door, so the host link stays unloaded
(gate.app.serve_host): the least free and largest block are then the gate's own (STATUS
"heap_least": its heap checks since boot, after a collection), the alarms those it published
over MQTT, the IDF figure its last. At the end the gate's journal (its next
seq) is set against what the host stored, after waiting up to a minute for the uplink to catch
up. The target on a WROOM-32 (issue 16): the largest block never below 16 KB, every record
delivered. Prints one JSON line per module, then a table.
"""

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO / "tests" / "firmware"), str(REPO / "tests"), str(REPO / "bench")]

import scenariokit  # noqa: E402
from airpace import PaceWatch, mark  # noqa: E402
from footprint import BUTTON, esp32_bytes, image_args  # noqa: E402
from gatekit import start_gate, stop_gate  # noqa: E402
from services import PrivateBroker  # noqa: E402
from uplinkkit import PASSWORD, SSID, Host, uplink_config  # noqa: E402

from bzgate.link.serial import LinkError  # noqa: E402
from bzsim.shims.boardmemory import WROOM_32, WROVER  # noqa: E402

SAMPLE_EVERY_S = 2
PRESS_EVERY_S = 10
LARGEST_TARGET = 16 * 1024
CATCH_UP_S = 60


def target_scenario(minutes: float) -> dict:
    """The issue's scenario, its times scaled to `minutes` (10 is the issue's)."""
    k = minutes / 10
    phones = [{"name": f"bg{i}", "platform": "ios-background", "gate": "front", "arrive_s": 0,
               "dwell_s": 7200, "path": "linger", "daily_key": f"{i:02x}" * 32} for i in range(20)]
    gate = {**scenariokit.FRONT, "wifi": {"ssid": SSID, "password": PASSWORD,
                                          "outages": [[360 * k, 420 * k]]}}
    return scenariokit.scenario(phones, gates=(gate,), seed=16,
                                noise={"random_bluezone_ids_per_s": 500, "other_adverts_per_s": 20,
                                       "random_bluezone_ids_window": [120 * k, 180 * k]})


def _status(board) -> dict | None:
    try:
        return board.status()
    except (LinkError, OSError):  # a reply lost to a full heap: a missed sample
        return None


def run(where: Path, module: str, minutes: float, romfs: bool, polled: bool = True) -> dict:
    with PrivateBroker() as broker:
        host = Host(broker.port, "bzgate", "test-gate")
        config = {"trigger": "button", "wait_s": 0, "antipassback_s": 0, **uplink_config(broker.port)}
        board = start_gate(where, config=config, scenario_dict=target_scenario(minutes),
                           board_args=("--module", module, *image_args(romfs)))
        try:
            return _measure(board, host, minutes * 60, polled) | {"module": module, "romfs": romfs,
                                                                  "host_link": polled}
        finally:
            stop_gate(board)
            host.close()


def _measure(board, host, seconds: float, polled: bool) -> dict:
    samples, missed, alarms = [], 0, set()
    pace = PaceWatch(board.air)
    if not polled:
        pace.sample()  # the gate's adverts count from its boot, just before
    started = time.monotonic()
    next_press, next_sample = 0.0, 0.0 if polled else seconds
    while (elapsed := time.monotonic() - started) < seconds:
        if elapsed >= next_press:
            board.control.press(BUTTON, 0.1)
            next_press += PRESS_EVERY_S
        if polled and elapsed >= next_sample:
            status = _status(board)
            if status is None:
                missed += 1
            else:
                samples.append(status)
                pace.sample()
                alarms.update(status["alarms"])
            next_sample += SAMPLE_EVERY_S
        time.sleep(max(0.0, min(next_press, next_sample) - (time.monotonic() - started)))
    if not polled and (status := _status(board)) is not None:
        samples.append(status)
        pace.sample()
        alarms.update(status["alarms"], _published_alarms(host))
    last = samples[-1] if samples else {}
    journaled = last.get("storage", {}).get("next_seq", 0)
    host.wait_for(lambda: len(host.records) >= journaled, timeout=CATCH_UP_S)
    gate_least = last.get("heap_least") or [None, None]
    if polled:
        least_free = min((s["heap_free"] for s in samples), default=None)
        largest = min((s["heap_largest"] for s in samples if s["heap_largest"]), default=None)
        heard = last.get("adverts", 0) - (samples[0]["adverts"] if samples else 0)
    else:
        (least_free, largest), heard = gate_least, last.get("adverts", 0)
    return {"seconds": round(seconds), "samples": len(samples), "missed_replies": missed,
            "least_free": esp32_bytes(least_free), "least_largest": esp32_bytes(largest),
            "gate_least": [esp32_bytes(v) for v in gate_least],
            "least_idf_largest": min((s["idf_largest"] for s in samples if "idf_largest" in s),
                                     default=None),
            "alarms": sorted(alarms), "uplink": "uplink" in last,
            "decisions": last.get("decisions"), "journaled": journaled,
            "adverts": heard, "air": pace.verdict(heard),
            "delivered": len(host.records), "resent": host.resent}


def _published_alarms(host) -> set:
    """The alarms the gate sent over MQTT: live ones and those in its status events."""
    found = set()
    for payload in list(host.events):
        event = json.loads(payload)
        found.update([event["alarm"]] if "alarm" in event else event.get("alarms", []))
    return found


def _cell(value) -> str:
    return "-" if value is None else f"{value:,}" if isinstance(value, int) else str(value)


def target(met: bool, air: dict) -> str:
    """The target cell: a run the air did not play in real time meets nothing."""
    if not air["valid"]:
        return "not measured (invalid run)"
    return "met" if met else "not met"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--module", action="append", choices=(WROOM_32, WROVER),
                        help="repeatable; both by default")
    parser.add_argument("--minutes", type=float, default=10)
    parser.add_argument("--no-romfs", dest="romfs", action="store_false",
                        help="micropython.org's image: the firmware as files")
    parser.add_argument("--no-host", dest="polled", action="store_false",
                        help="no STATUS over USB until the end: the host link stays unloaded")
    args = parser.parse_args()
    results = []
    with tempfile.TemporaryDirectory(prefix="wifi-gate-") as where:
        for module in args.module or (WROOM_32, WROVER):
            results.append(run(Path(where) / module, module, args.minutes, args.romfs, args.polled))
            print(json.dumps(results[-1]), flush=True)
    print("\n| module | firmware | host link | least free / largest block | IDF least largest | records "
          "delivered / journaled | decisions | adverts heard | alarms | target |\n"
          "|---|---|---|---:|---:|---:|---:|---:|---|---|")
    for r in results:
        met = (r["least_largest"] or 0) >= LARGEST_TARGET and r["delivered"] >= r["journaled"] > 0
        print(f"| {r['module']} | {'ROMFS' if r['romfs'] else 'files'} "
              f"| {'STATUS every 2 s' if r['host_link'] else 'none until the end'} "
              f"| {_cell(r['least_free'])} / {_cell(r['least_largest'])} | {_cell(r['least_idf_largest'])} "
              f"| {_cell(r['delivered'])} / {_cell(r['journaled'])} | {_cell(r['decisions'])} "
              f"| {_cell(r['adverts'])}{mark(r['air'])} "
              f"| {', '.join(r['alarms']) or '-'} | {target(met, r['air'])} |")


if __name__ == "__main__":
    main()
