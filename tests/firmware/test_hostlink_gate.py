"""The host link inside the real gate (gate.app on a virtual WROOM-32, a scenario phone
at the gate): commands and garbage while the gate scans and decides."""

import random
import threading
import time

from decisionkit import at_scanner
from gatekit import phone

from bzcore import record, wire, wirehost
from bzcore.config import PROFILES
from bzgate.link.serial import LinkError

BUTTON = PROFILES["esp32-devkitc"]["button"][0]
AT_GATE = dict(path="enter", arrive_s=1, dwell_s=120)
FAST = {"near_rssi": -75, "relay_pulse_ms": 300, "present_s": 8, "antipassback_s": 0}


def test_a_decision_streams_to_the_host_and_the_clock_is_set_while_scanning(gate):
    board = gate(config=FAST, phones=[phone("an", "android", **AT_GATE)])
    with board.link() as link:
        assert link.hello()["gate_id"] == "test-gate"
        before = link.status()
        assert before["clock_valid"] is False
        reply = link.time_set(1_790_000_000)
        assert reply["time"] == 1_790_000_000
        deadline = time.monotonic() + 10
        while link.status()["present"] < 1 and time.monotonic() < deadline:
            time.sleep(0.2)
        at_scanner(board, "an", status=link.status)  # a press now is decided at once
        threading.Timer(0.5, board.control.press, (BUTTON,)).start()  # while EVENTS streams
        events = list(link.events(seconds=2.0))
        decisions = [e for e in events if "verdict" in e]
        assert decisions, events
        after = link.status()
    # A busy gate's STATUS leaves a quarter of a reply for the fields later versions add
    assert len(wirehost.reply(wire.ID_MAX, wire.OK, after)) < wire.REPLY_MAX * 3 // 4
    assert after["clock_valid"] is True and after["time"] >= 1_790_000_000
    assert after["adverts"] > before["adverts"]  # scanning went on through every command
    assert after["boot_id"] == before["boot_id"]
    deadline = time.monotonic() + 12  # the journal flushes every 5 s
    while not any(e["code"] == record.CLOCK_SET for e in board.of_kind(record.EVENT)):
        assert time.monotonic() < deadline, "no CLOCK_SET event in the journal"
        time.sleep(0.5)


def test_random_bytes_while_the_gate_scans_never_stop_it(gate):
    board = gate(config=FAST, phones=[phone("an", "android", **AT_GATE)])
    with board.link() as link:
        before = link.status()
        rng = random.Random(11)
        for _ in range(60):
            chunk = bytes(rng.randrange(256) for _ in range(rng.randrange(1, 400)))
            if b"\r\x03\r" in chunk:  # mpremote's break-in is not garbage
                continue
            link.port.write(chunk)
            time.sleep(0.02)
        link.port.write(b"\n")
        time.sleep(0.5)
        link.port.reset_input_buffer()
        after = link.status()
        assert link.hello()["gate_id"] == "test-gate"
    assert after["boot_id"] == before["boot_id"] and after["task_restarts"] == 0
    assert after["adverts"] > before["adverts"]
    assert after["link"]["errors"] > before["link"]["errors"]
    assert "Traceback" not in board.control.console()


def test_config_set_reaches_the_running_gate(gate):
    board = gate(config=FAST)
    with board.link() as link:
        link.config_set({"present_s": 5, "near_rssi": -70})
        assert link.config_get()["near_rssi"] == -70
        boot = link.status()["boot_id"]
        assert link.config_set({"mode": "monitor"}) == {"applied": ["mode"]}  # the gate restarts
    deadline = time.monotonic() + 20
    while board.control.status()["boot_id"] == boot and time.monotonic() < deadline:
        time.sleep(0.2)
    with board.link() as link:
        cfg = link.config_get()
    assert cfg["mode"] == "monitor" and cfg["near_rssi"] == -70 and cfg["present_s"] == 5


def test_mpremote_gets_into_a_running_gate_and_a_reset_brings_it_back(gate):
    board = gate(config=FAST)
    with board.link() as link:
        assert link.hello()["gate_id"] == "test-gate"
    result = board.mpremote("exec", "import os; print(sorted(os.listdir('/')))", timeout=30)
    assert "config.json" in result.stdout
    assert "Traceback" not in board.control.console()
    board.mpremote("reset")
    deadline = time.monotonic() + 20
    while True:
        try:
            with board.link() as link:
                assert link.hello()["gate_id"] == "test-gate"
            break
        except LinkError:
            assert time.monotonic() < deadline, "the gate did not come back after a reset"
