"""`bzgate monitor --mqtt`: gates heard on the broker get tiles fed by their events.

First the source alone on a Board with a test clock (the contract's messages, and junk that must
be dropped and counted); then the monitor as its own process on the local Mosquitto, under a
topic prefix of its own, with fake gates published from here as the broker's contract says
(P/G/online retained, P/G/events QoS 0) and the page in Debian's chromium: a decision turns a tile
green or red within 2 s, a status object shows its mode, counter and alarms, online "0" shows
the gate offline, and the page says an MQTT gate's journal is collected by `bzgate ingest`
instead of offering "collect now". Last, a virtual gate on Wi-Fi publishing for real: its press
with no phone shows checking, then DENY once its wait is over.
Screenshots go to test-artifacts/monitor/mqtt-*.png.
"""

import json
import shutil
import tempfile
import time
import uuid
from contextlib import contextmanager
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest
from click.testing import CliRunner
from clockkit import NOON, Clock
from decisionkit import BUTTON
from gatekit import start_gate, stop_gate, wait_until
from monitorkit import Monitor, browser, screenshot, seconds_to_verdict
from services import PrivateBroker
from uplinkkit import uplink_config, wifi_args

from bzgate.cli import main
from bzgate.link.broker import Broker
from bzgate.monitor.mqtt import OFFLINE_AFTER_S, MqttSource
from bzgate.monitor.state import Board

LIVE_S = 2.0
WAIT_S = 2  # the virtual gate's wait_s: a press with no phone checks this long before DENY
STATUS = {"type": "status", "mode": "enforce", "clock_valid": True, "safe_mode": False,
          "decisions": 42, "alarms": [], "restarts": [0, 0], "time": 1795000000,
          "storage": {"bytes": 900, "free_bytes": 100, "storage_full": False, "alarms": []}}


# --- the source alone -------------------------------------------------------------------
def source_on(clock) -> tuple[MqttSource, Board]:
    board = Board(clock)
    return MqttSource(Broker("127.0.0.1"), "site/bzgate", board), board


def gate_tile(board: Board, key: str = "site/bzgate/front") -> dict:
    return next(t for t in board.snapshot()["gates"] if t["port"] == key)


def test_status_and_decisions_feed_the_tile_and_online_0_shows_it_offline_at_once():
    clock = Clock()
    source, board = source_on(clock)
    source.take("front", "online", b"1")
    assert gate_tile(board)["online"] and gate_tile(board)["source"] == "mqtt"
    source.take("front", "events", json.dumps(STATUS).encode())
    source.take("front", "events", b'{"verdict": "deny", "platform": null, "rssi": 0}')
    tile = gate_tile(board)
    assert (tile["gate_id"], tile["mode"], tile["decisions"], tile["storage_pct"]) == \
        ("front", "enforce", 42, 90)
    assert tile["alarms"] == ["storage-high"] and tile["last"]["verdict"] == "deny"
    assert tile["today"] == {"allow": 0, "deny": 1, "no-app": 0, "exempt": 0, "exit": 0}
    source.take("front", "online", b"0")
    assert not gate_tile(board)["online"] and gate_tile(board)["alarms"] == ["offline"]
    assert "last will" in gate_tile(board)["error"]
    source.take("front", "events", b'{"alarm": "heap-low"}')  # heard again: online
    assert gate_tile(board)["online"] and gate_tile(board)["error"] == ""
    assert source.dropped == 0


def test_a_check_begun_shows_on_the_tile_until_its_decision():
    source, board = source_on(Clock())
    source.take("front", "events", json.dumps({**STATUS, "checking": False}).encode())
    source.take("front", "events", b'{"checking": {"n": 43, "trigger": "beam", "wait_ms": 5000}}')
    assert gate_tile(board)["checking"]["trigger"] == "beam"
    source.take("front", "events", b'{"n": 43, "verdict": "no-app", "id": null, "rssi": null, '
                                   b'"platform": null, "latency_ms": 5001, "presses": 2}')
    tile = gate_tile(board)
    assert tile["checking"] is None and (tile["last"]["verdict"], tile["last"]["presses"]) == (
        "no-app", 2)
    assert source.dropped == 0


def test_a_gate_silent_past_the_threshold_after_its_last_status_goes_offline():
    clock = Clock(NOON)
    source, board = source_on(clock)
    source.take("front", "events", json.dumps(STATUS).encode())
    clock.t = NOON + OFFLINE_AFTER_S - 1  # a status a minute: a late one is not yet offline
    board.refresh()
    assert gate_tile(board)["online"]
    clock.t = NOON + OFFLINE_AFTER_S + 1
    board.refresh()
    assert not gate_tile(board)["online"] and "offline" in gate_tile(board)["alarms"]


@pytest.mark.parametrize("leaf, payload", [
    ("events", b"{not json"), ("events", b"\xff\xfe"), ("events", b"[" * 100000), ("events", b"[1, 2]"), ("events", b"7"),
    ("events", b'{"type": "hello"}'), ("online", b"yes"), ("online", b""),
    ("events", json.dumps({**STATUS, "storage": "full"}).encode()),
    ("events", json.dumps({**STATUS, "storage": {"bytes": "900"}}).encode()),
    ("events", json.dumps({**STATUS, "restarts": ["a", "b"]}).encode()),
    ("events", json.dumps({**STATUS, "decisions": "42"}).encode()),
])
def test_junk_is_dropped_and_counted_and_the_tile_keeps_its_state(leaf, payload):
    source, board = source_on(Clock())
    source.take("front", "events", json.dumps(STATUS).encode())
    before = gate_tile(board)
    source.take("front", leaf, payload)
    assert source.dropped == 1
    assert gate_tile(board) == before
    source.take("front", "events", json.dumps({**STATUS, "decisions": 43}).encode())
    assert gate_tile(board)["decisions"] == 43  # the next good status is taken as ever


def test_topics_of_another_prefix_or_depth_are_not_gates():
    source, board = source_on(Clock())

    class Message:
        def __init__(self, topic):
            self.topic, self.payload = topic, b"1"

    for topic in ("site/bzgate/x/front/online", "other/front/online", "site/bzgate/front/ack"):
        source._on_message(None, None, Message(topic))
    assert board.snapshot()["gates"] == [] and source.dropped == 0


def test_the_source_tells_the_tiles_the_broker_is_gone_and_takes_events_again_after_it_restarts():
    with PrivateBroker() as private:
        board = Board()
        source = MqttSource(Broker("127.0.0.1", private.port), "bzgate", board)
        source.start()
        try:
            with publisher(private.port) as gate:
                def publish_until(check, payload, timeout=15):  # QoS 0: again until it is taken
                    deadline = time.monotonic() + timeout
                    while time.monotonic() < deadline and not check():
                        gate.publish("bzgate/door/events", payload)  # lost while disconnected
                        time.sleep(0.3)
                    return check()

                assert publish_until(lambda: board.snapshot()["gates"], b'{"alarm": "heap-low"}')
                private.stop()
                assert wait_until(lambda: "broker mqtt://127.0.0.1" in gate_tile(board, "bzgate/door")["error"])
                private.start()
                assert publish_until(lambda: gate_tile(board, "bzgate/door")["last"],
                                     b'{"verdict": "allow", "platform": "ios", "rssi": -50}')
            assert gate_tile(board, "bzgate/door")["error"] == ""
        finally:
            source.stop()


@contextmanager
def publisher(port: int):
    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2)
    client.reconnect_delay_set(0.2, 1)
    client.connect_async("127.0.0.1", port)
    client.loop_start()
    try:
        yield client
    finally:
        client.loop_stop()


def test_a_bad_broker_url_or_prefix_is_one_line_and_status_2():
    runner = CliRunner()
    url = runner.invoke(main, ["monitor", "--mqtt", "http://broker:1883"])
    assert url.exit_code == 2 and "give the broker as mqtt://[USER@]HOST:PORT" in url.stderr
    prefix = runner.invoke(main, ["monitor", "--mqtt", "mqtt://127.0.0.1", "--topic-prefix", "a/#"])
    assert prefix.exit_code == 2 and "--topic-prefix 'a/#'" in prefix.stderr
    nothing = runner.invoke(main, ["monitor"])
    assert nothing.exit_code == 2 and "or a broker with --mqtt" in nothing.stderr


# --- the monitor's page, fed through the local Mosquitto ---------------------------------
class FakeGates:
    """Publishes as gates do, under the test's own prefix; clears its retained states after."""

    def __init__(self, prefix: str):
        self.prefix, self.retained = prefix, set()
        self.client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2)
        self.client.connect("127.0.0.1", 1883)
        self.client.loop_start()

    def publish(self, gate_id: str, leaf: str, payload, retain: bool = False) -> None:
        topic = f"{self.prefix}/{gate_id}/{leaf}"
        if retain:
            self.retained.add(topic)
        body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
        self.client.publish(topic, body, qos=1 if retain else 0, retain=retain).wait_for_publish(5)

    def close(self) -> None:
        for topic in self.retained:
            self.client.publish(topic, b"", qos=1, retain=True).wait_for_publish(5)
        self.client.loop_stop()
        self.client.disconnect()


@pytest.fixture(scope="module")
def rig(service):
    service("mosquitto")
    where = Path(tempfile.mkdtemp(prefix="bzq"))
    prefix = f"bzt-{uuid.uuid4().hex[:10]}"
    gates = FakeGates(prefix)
    monitor = Monitor([], where / "m.db", where / "keys.json", where / "monitor.log",
                      ("--mqtt", "mqtt://127.0.0.1:1883", "--topic-prefix", prefix))
    try:
        monitor.start()
        with browser(where / "profile") as context:
            page = context.new_page()
            page.goto(monitor.url)
            yield {"gates": gates, "page": page, "monitor": monitor, "prefix": prefix,
                   "where": where}
    finally:
        if monitor.process is not None and monitor.process.poll() is None:
            monitor.stop()
        gates.close()
        shutil.rmtree(where)


def tile(page, gate_id: str):
    return page.locator(f'.tile[data-gate="{gate_id}"]')


def test_gates_heard_on_the_broker_get_online_tiles_that_say_where_their_journal_goes(rig):
    page, gates = rig["page"], rig["gates"]
    for gate_id in ("wifi-a", "wifi-b"):
        gates.publish(gate_id, "online", b"1", retain=True)
        tile(page, gate_id).locator(".badge.on").wait_for(timeout=10000)
        assert "qua MQTT (bzgate ingest)" in tile(page, gate_id).locator(".facts").inner_text()
    screenshot(page, "mqtt-1-online")


def published_to_shown(rig, gate_id: str, event: dict) -> float:
    def the_gate_published():
        rig["gates"].publish(gate_id, "events", event)
    return seconds_to_verdict(tile(rig["page"], gate_id), event["verdict"], the_gate_published,
                              "the gate published it")


def test_a_decision_turns_its_tile_green_or_red_within_2s(rig):
    page = rig["page"]
    allow = published_to_shown(rig, "wifi-a", {"verdict": "allow", "trigger": "button",
                                               "platform": "android", "rssi": -60})
    deny = published_to_shown(rig, "wifi-b", {"verdict": "deny", "trigger": "button",
                                              "platform": None, "rssi": 0})
    assert tile(page, "wifi-a").locator(".verdict .word").inner_text() == "CHO QUA"
    assert tile(page, "wifi-b").locator(".count.c-deny").inner_text() == "1"
    screenshot(page, "mqtt-2-decisions")
    assert allow < LIVE_S and deny < LIVE_S, (allow, deny)


def test_a_status_object_shows_its_mode_counter_and_alarms_and_junk_changes_nothing(rig):
    page, gates = rig["page"], rig["gates"]
    gates.publish("wifi-a", "events", b"{broken")
    gates.publish("wifi-a", "events", {**STATUS, "clock_valid": False, "decisions": 57})
    facts = tile(page, "wifi-a").locator(".facts")
    tile(page, "wifi-a").locator('.alarm[data-alarm="clock-invalid"]').wait_for(timeout=5000)
    assert "57" in facts.inner_text() and "bắt buộc" in facts.inner_text()
    assert tile(page, "wifi-a").locator('.alarm[data-alarm="storage-high"]').count() == 1
    assert tile(page, "wifi-a").locator(".badge.on").count() == 1
    screenshot(page, "mqtt-3-status")


def test_the_events_view_says_ingest_collects_instead_of_offering_collect_now(rig):
    page = rig["page"]
    page.click("#nav-events")
    page.locator("#event-rows tr.v-allow").wait_for(timeout=5000)
    assert page.locator("#collect").is_hidden()
    assert "bzgate ingest" in page.locator("#collect-where").inner_text()
    page.select_option("#filter", f"{rig['prefix']}/wifi-b")
    assert page.locator("#collect").is_hidden()
    assert page.locator("#collect-where").inner_text().startswith("Cổng này")
    screenshot(page, "mqtt-4-events")
    page.select_option("#filter", "")
    page.click("#nav-gates")


def test_online_0_shows_the_gate_offline(rig):
    page = rig["page"]
    rig["gates"].publish("wifi-b", "online", b"0", retain=True)
    tile(page, "wifi-b").locator(".badge.off").wait_for(timeout=5000)
    assert tile(page, "wifi-b").locator('.alarm[data-alarm="offline"]').count() == 1
    assert tile(page, "wifi-a").locator(".badge.on").count() == 1
    screenshot(page, "mqtt-5-offline")


def test_a_virtual_gate_on_wifi_shows_its_press_on_the_page(rig):
    page = rig["page"]
    board = start_gate(rig["where"] / "g", config={
        **uplink_config(1883, rig["prefix"]), "gate_id": "wifi-real", "relay_pulse_ms": 200,
        "wait_s": WAIT_S}, board_args=wifi_args())
    try:
        tile(page, "wifi-real").locator(".badge.on").wait_for(timeout=30000)  # its online "1"
        def the_press():
            board.control.press(BUTTON, 0.1)
        checking = seconds_to_verdict(tile(page, "wifi-real"), "checking", the_press,
                                      "the virtual gate's press")
        start = time.monotonic()
        tile(page, "wifi-real").locator(".verdict.v-deny").wait_for(timeout=(WAIT_S + 5) * 1000)
        denied = time.monotonic() - start
        screenshot(page, "mqtt-6-virtual-gate")
        assert checking < LIVE_S, f"checking showed after {checking:.2f} s"
        assert denied < WAIT_S + LIVE_S, f"DENY showed {denied:.2f} s after checking"
    finally:
        stop_gate(board)
        rig["gates"].retained.add(f"{rig['prefix']}/wifi-real/online")  # its will: cleared after
