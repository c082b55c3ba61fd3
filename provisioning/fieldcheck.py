"""The field check: what a gate on its wall has to work with, measured over the host link while
it runs, the same way on a real board as on a virtual one. For the first sites with real boards:
the figures the virtual board's memory model (docs/esp32-notes.md, note 38) and the benchmarks
can only estimate.

    report = field_check(port, seconds=60, press=lambda pin: ...)   # pin: (gpio, active_low)
    rows(report)                                                    # [(what, value), ...]

It samples STATUS every SAMPLE_EVERY_S for `seconds` and reports: the Python heap (the least
free and the least largest free block; ESP32 bytes on a real board, host bytes on a virtual one,
which counts twice as many), the same as the gate's own heap checks saw them since boot (STATUS
heap_least: the gate on its own, with no host on its USB port, can only be read that way), the
IDF heap's largest free block, whether the firmware runs from
a ROMFS (bzgate's image) or from files, adverts heard per second and
ring drops, the share of time the radio scanned, the press-to-verdict time of one test press
(the gate's own latency_ms from the trigger to the verdict; with nobody at the gate it waits its
wait_s before a deny), and with the uplink on, the Wi-Fi RSSI and the MQTT round trip (a journal
batch's publish to its PUBACK).
"""

import time

from bzcore import config as gate_config
from bzgate.link.serial import GateLink

SAMPLE_EVERY_S = 5
VERDICT_MARGIN_S = 5  # beyond the gate's wait_s: the verdict of a test press comes within this


def _test_press(link: GateLink, cfg: dict, press) -> dict:
    """Press the gate's trigger once (press((gpio, active_low))) and wait for the verdict it publishes."""
    role = cfg["trigger"]
    pin = gate_config.board_pins(cfg).get(role) if role in ("button", "beam") else None
    if press is None or pin is None:
        return {"pressed": False, "why": "no test press" if press is None else f"trigger {role}"}
    link.hello()  # a fresh session: only events from now on
    started = time.monotonic()
    press(pin)
    for event in link.events(cfg["wait_s"] + VERDICT_MARGIN_S):
        if "verdict" in event:
            return {"pressed": True, "verdict": event["verdict"], "latency_ms": event["latency_ms"],
                    "host_ms": round((time.monotonic() - started) * 1000)}
    return {"pressed": True, "verdict": None}


def field_check(port: str, seconds: float = 60, press=None) -> dict:
    """Measure a running gate on `port` for `seconds`; press((gpio, active_low)) presses its
    trigger once."""
    with GateLink(port) as link:
        gate = link.hello()
        cfg = link.config_get()
        first, started = link.status(), time.monotonic()
        samples = [first]
        pressed = _test_press(link, cfg, press)
        while (left := started + seconds - time.monotonic()) > 0:
            time.sleep(min(SAMPLE_EVERY_S, left))
            samples.append(link.status())
        elapsed = time.monotonic() - started
    last = samples[-1]
    uplink = last.get("uplink")
    return {
        "gate": gate, "seconds": round(elapsed, 1), "samples": len(samples),
        # After the gate's collection, as its largest block is: STATUS's heap_free also counts
        # garbage not yet collected (the link's own, when a request has just loaded it).
        "heap_free_least": min((s.get("heap_free_gc") or s["heap_free"] for s in samples)),
        "heap_largest_least": min(s["heap_largest"] for s in samples if s["heap_largest"]),
        "idf_largest_least": min((s["idf_largest"] for s in samples if "idf_largest" in s), default=None),
        "heap_least_since_boot": last.get("heap_least"),  # [free, largest]; None: an earlier firmware
        "romfs": last.get("romfs"),  # None: a firmware from before it said
        "adverts_per_s": round((last["adverts"] - first["adverts"]) / elapsed, 1),
        "drops": last["drops"] - first["drops"],
        "scan_permille": last["scan_permille"],
        "press": pressed,
        "wifi_rssi": uplink and uplink.get("rssi"), "mqtt_round_trip_ms": uplink and uplink.get("round_trip_ms"),
        "alarms": last["alarms"],
        "status": last,
    }


def _pair(least, shown) -> str:
    return "-" if not least else f"{shown(least[0])} / {shown(least[1])} bytes"


def _runs_from(romfs: bool | None) -> str:
    if romfs is None:
        return "-"
    if romfs:
        return "ROMFS (bzgate's image)"
    return ("files: this MicroPython has no ROMFS, which leaves about 29 KB less heap (flash "
            "bzgate's image: provisioning/esp32-image/README.md)")


def rows(report: dict) -> list[tuple[str, str]]:
    """The report as (what, value) lines for the terminal."""
    press = report["press"]
    if not press["pressed"]:
        verdict = f"not tested ({press['why']})"
    elif press["verdict"] is None:
        verdict = "no verdict came"
    else:
        verdict = f"{press['latency_ms']} ms on the gate ({press['verdict']}), {press['host_ms']} ms seen here"

    def shown(value, unit=""):
        return "-" if value is None else f"{value:,}{unit}" if isinstance(value, int) else f"{value}{unit}"

    return [("gate", f"{report['gate'].get('gate_id')} ({report['seconds']} s, {report['samples']} samples)"),
            ("Python heap, least free", shown(report["heap_free_least"], " bytes")),
            ("Python heap, least largest block", shown(report["heap_largest_least"], " bytes")),
            ("Python heap since boot, least free / largest", _pair(report["heap_least_since_boot"], shown)),
            ("IDF heap, least largest block", shown(report["idf_largest_least"], " bytes")),
            ("firmware runs from", _runs_from(report["romfs"])),
            ("adverts heard", shown(report["adverts_per_s"], "/s")),
            ("ring drops", shown(report["drops"])),
            ("time scanning", shown(report["scan_permille"], " per mille")),
            ("press to verdict", verdict),
            ("Wi-Fi RSSI", shown(report["wifi_rssi"], " dBm")),
            ("MQTT round trip", shown(report["mqtt_round_trip_ms"], " ms")),
            ("alarms", ", ".join(report["alarms"]) or "none")]
