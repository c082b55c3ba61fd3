"""`bzgate provision field-check` on virtual gates of both modules (docs/esp32-notes.md,
note 38): its table and JSON report the heap, the IDF heap, where the firmware runs from (the
WROOM-32 with bzgate's image: its ROMFS; the WROVER with micropython.org's: files), the scan, a
test press made through the board's control, and with the uplink on a WROVER, Wi-Fi's RSSI and
the MQTT round trip."""

import json
import subprocess
import sys
from pathlib import Path

from services import PrivateBroker
from uplinkkit import FAST, Host, uplink_config, wifi_args

from bzsim.shims import boardmemory

BZGATE = Path(sys.executable).parent / "bzgate"


def field_check(board, where: Path) -> tuple[str, dict]:
    report = where / "field-check.json"
    run = subprocess.run([str(BZGATE), "provision", "field-check", "--port", board.serial,
                          "--seconds", "6", "--json", str(report)],
                         capture_output=True, text=True, timeout=60)
    assert run.returncode == 0, run.stderr
    return run.stdout, json.loads(report.read_text())


def test_a_wroom_32_gate_reports_its_heaps_scan_and_a_test_press(gate, tmp_path):
    board = gate(config=FAST, board_args=("--module", boardmemory.WROOM_32),
                 noise={"other_adverts_per_s": 20})
    table, report = field_check(board, tmp_path)
    assert report["press"]["pressed"] and report["press"]["verdict"] == "deny"  # nobody at the gate
    assert 0 <= report["press"]["latency_ms"] < 2000
    assert report["idf_largest_least"] == boardmemory.IDF_SPARE  # the model's, untouched
    assert report["romfs"] is True and "ROMFS (bzgate's image)" in table  # bzgate's image
    assert 0 < report["heap_largest_least"] <= report["heap_free_least"]
    free, largest = report["heap_least_since_boot"]  # the gate's own checks, since boot
    assert 0 < largest <= free and largest <= report["heap_largest_least"]
    assert f"{free:,} / {largest:,} bytes" in table
    assert report["adverts_per_s"] > 0 and report["drops"] == 0 and report["scan_permille"] > 0
    assert report["wifi_rssi"] is None and report["mqtt_round_trip_ms"] is None  # no uplink
    assert "press to verdict" in table and "IDF heap, least largest block" in table


def test_a_wrover_gate_with_the_uplink_reports_wifi_and_the_mqtt_round_trip(gate, tmp_path):
    with PrivateBroker() as broker:
        host = Host(broker.port, "bzgate", "test-gate")
        try:
            board = gate(config={**uplink_config(broker.port), **FAST},
                         board_args=(*wifi_args(boardmemory.WROVER), "--no-romfs"))
            assert host.wait_for(lambda: host.records), "the uplink never sent"
            table, report = field_check(board, tmp_path)
        finally:
            host.close()
    assert report["press"]["verdict"] == "deny"
    assert report["wifi_rssi"] == -55  # the virtual station's
    assert 0 <= report["mqtt_round_trip_ms"] < 5000
    assert "uplink-no-heap" not in report["alarms"]
    assert report["romfs"] is False and "this MicroPython has no ROMFS" in table  # micropython.org's
    print(f"\nfield check, WROVER with the uplink:\n{table}")
