"""Visitors at a gate, on the air's own terms: where they stand, what the calibrated radio makes
of it, the Android app's duty cycles, and the queue reacting to the gate's relay and red LED.
Most run the visitors on a simulated clock (no real time passes); the last ones go through a
running air and a virtual board."""

import heapq
import math
import queue
import random
import subprocess
import sys
import time
from pathlib import Path

import pytest
from boardkit import VirtualBoard
from scenariokit import phone, scenario, write_scenario

from bzsim.air import radio as air_radio
from bzsim.air.server import Air, ask_gates
from bzsim.air.devices import POWER_1M
from bzsim.air.paths import QUEUE_STEP_M
from bzsim.air.visitors import PATIENCE_S, Visitors
from bzsim.air.world import World
from bzsim.air.scenario import ScenarioError, parse

BIN = Path(sys.executable).parent
RELAY_ON = {"relay": 1, "red": 0, "green": 0}
DENY = {"relay": 0, "red": 1, "green": 0}
OFF = {"relay": 0, "red": 0, "green": 0}


class Clock:
    """The air's timers and events without the air: run up to a time, or until an event."""

    def __init__(self):
        self.timers, self.events, self.now, self._n = [], [], 0.0, 0

    def at(self, when, action):
        heapq.heappush(self.timers, (when, self._n, action))
        self._n += 1

    def publish(self, event, t):
        self.events.append({**event, "t": t})

    def run(self, until):
        while self.timers and self.timers[0][0] <= until:
            self.now, _, action = heapq.heappop(self.timers)
            action(self.now)
        self.now = until

    def run_until(self, wanted, limit=600.0):
        """Run until an event matching `wanted` (a dict of fields) is published; return it."""
        while True:
            for event in self.events:
                if wanted.items() <= event.items():
                    return event
            assert self.timers and self.timers[0][0] <= limit, f"no {wanted} in {self.events}"
            self.run(self.timers[0][0])


def gate_world(phones, **extra):
    """(world, visitors, clock) of a scenario whose phones have entered the air at 0."""
    world = World(parse(scenario(phones, **extra)), 0)
    clock = Clock()
    visitors = Visitors(clock.at, clock.publish)
    for p in world.phones:
        if p.visitor is not None:
            visitors.start(p.visitor, 0.0)
    return world, visitors, clock


def signal_at(clock, visitors, t, levels, gate="front"):
    clock.at(t, lambda when: visitors.signal(gate, levels, when))


def dist(xy, gate=(0.0, 0.0)):
    return math.hypot(xy[0] - gate[0], xy[1] - gate[1])


def presser(name, platform="android", **fields):
    return phone(name, platform, path="enter", press=True, dwell_s=5, **fields)


# ---- scenarios ------------------------------------------------------------------------


def test_app_and_retry_load_with_defaults():
    loaded = parse(scenario([phone("an", "android"), presser("open", app="open", retry=True),
                             phone("v1", "android-v1", v1_code="aB3xY9", app="open")],
                            crowd={"per_minute": 1, "shares": {"android-open": 1}}))
    an, open_, v1 = loaded.phones
    assert (an.app, an.retry) == ("background", False)
    assert (open_.app, open_.retry, v1.app) == ("open", True, "open")
    assert loaded.crowd.shares["android-open"] == 1 and loaded.crowd.retry_share == 0


@pytest.mark.parametrize("entry, crowd, message", [
    (phone("an", "android", app="closed"), None, "phones[0].app: must be one of background, open"),
    (phone("ip", "ios", app="open"), None, "phones[0].app: only for platforms android, android-v1"),
    (phone("x", "other", app="open"), None, "phones[0].app: only for platforms"),
    (phone("an", "android", retry="yes"), None, "phones[0].retry: must be true or false"),
    (phone("an", "android", path="enter", retry=True), None, "phones[0].retry: only a visitor who presses"),
    (presser("x", "other", retry=True), None, "phones[0].retry: a phone without Bluezone"),
    (None, {"per_minute": 1, "shares": {"android": 1}, "retry_share": 1.5},
     "crowd.retry_share: must be between 0 and 1"),
    (None, {"per_minute": 1, "shares": {"android-closed": 1}}, "crowd.shares.android-closed: unknown"),
])
def test_app_and_retry_mistakes_are_named_by_field(entry, crowd, message):
    extra = {"crowd": crowd} if crowd else {}
    with pytest.raises(ScenarioError) as caught:
        parse(scenario([entry] if entry else [], **extra))
    assert str(caught.value).startswith(message)


def test_a_crowd_share_of_android_open_gives_open_android_phones_that_retry():
    data = scenario([], crowd={"per_minute": 30, "press_share": 1, "retry_share": 1,
                               "shares": {"android-open": 1, "ios": 1}})
    world = World(parse(data), 0)
    crowd = [world.next_crowd_phone() for _ in range(20)]
    androids = [p for p in crowd if p.platform == "android"]
    assert androids and all(p.app(0.0) == "open" for p in androids)
    assert all(p.spec.retry and p.visitor is not None for p in crowd)


# ---- where visitors stand ---------------------------------------------------------------


def test_visitors_stand_where_people_do():
    phones = ([phone(f"at{k}", "android", path="enter", arrive_s=10, dwell_s=10) for k in range(30)]
              + [phone(f"by{k}", "android", path="pass-by", arrive_s=20) for k in range(30)]
              + [phone("li", "android", arrive_s=10)])
    world = World(parse(scenario(phones)), 0)
    at = [p for p in world.phones if p.name.startswith("at")]
    scanner = [dist(p.path.position(15)) for p in at]
    assert all(0.10 <= d <= 0.30 for d in scanner) and max(scanner) - min(scanner) > 0.1
    for p in at:  # after dwell_s: 2-5 m inside, a 5-20 s stay, then out of range
        _, (t_in, x_in, y_in), (t_out, *_), (t_gone, *gone) = p.path.points[-4:]
        assert 2.0 <= y_in <= 5.0 and 5.0 <= t_out - t_in <= 20.0 and dist(gone) >= 15
        assert p.path.leaves == t_gone
    by = [min(dist(p.path.position(20 + dt / 10)) for dt in range(-20, 21))
          for p in world.phones if p.name.startswith("by")]
    assert all(2.0 <= d <= 4.0 for d in by) and max(by) - min(by) > 1.0
    (li,) = [p for p in world.phones if p.name == "li"]
    assert 2.9 <= dist(li.path.position(20)) <= 3.1


def test_the_next_visitor_waits_behind_and_further_ones_further_back():
    phones = [presser(f"v{k}", arrive_s=5 + k) for k in range(4)]
    world, visitors, clock = gate_world(phones)
    clock.run(20)
    where = [dist(p.path.position(20)) for p in world.phones]
    assert 0.10 <= where[0] <= 0.30
    assert 1.0 <= where[1] <= 1.5
    assert 1.0 + QUEUE_STEP_M <= where[2] <= 1.5 + QUEUE_STEP_M
    assert 1.0 + 2 * QUEUE_STEP_M <= where[3] <= 1.5 + 2 * QUEUE_STEP_M
    assert [e["phone"] for e in clock.events] == ["v0"]  # only the one at the scanner pressed


# ---- the radio --------------------------------------------------------------------------


def test_the_calibrated_mean_rssi_table():
    android = {d: row["android"] for d, row in air_radio.calibration_table((0.1, 0.3, 1.0, 1.5, 3.0))}
    assert -47 <= android[0.1] <= -43
    assert -57 <= android[0.3] <= -53
    assert -68 <= android[1.0] <= -65
    assert -73 <= android[1.5] <= -69
    assert -81 <= android[3.0] <= -76
    assert POWER_1M["ios"] > POWER_1M["android"]
    assert air_radio.MIN_DISTANCE_M <= 0.05


def test_phones_differ_by_a_small_fixed_offset():
    world = World(parse(scenario([phone(f"p{k}", "android") for k in range(40)])), 0)
    offsets = [p.power_1m - POWER_1M["android"] for p in world.phones]
    assert all(abs(o) <= air_radio.TX_OFFSET_DB for o in offsets)
    assert max(offsets) - min(offsets) > air_radio.TX_OFFSET_DB


def test_a_body_in_front_costs_the_phone_behind_it_body_loss():
    gate = (0.0, 0.0)
    front, behind, aside = (0.0, -0.2), (0.0, -1.25), (1.0, -1.25)
    assert 6 <= air_radio.BODY_LOSS_DB <= 10
    assert air_radio.body_loss(behind, gate, [front]) == air_radio.BODY_LOSS_DB
    assert air_radio.body_loss(front, gate, [behind]) == 0  # the one behind is not in the way
    assert air_radio.body_loss(aside, gate, [(0.0, -0.8)]) == 0  # 0.5 m off the line
    assert air_radio.body_loss(behind, gate, [front, (0.0, -0.8), (0.0, -1.0)]) == \
        air_radio.MAX_BODIES * air_radio.BODY_LOSS_DB
    assert air_radio.body_loss((0.0, -0.3), gate, [(0.0, -0.1)]) == 0  # side by side at the scanner


def test_at_the_scanner_a_phone_is_near_and_one_waiting_behind_it_is_not():
    # The firmware's default near_rssi is -60: means of 20 packets (smoothing), per-phone
    # offsets, shadowing and a body in the way included.
    rng = random.Random(1)
    for family in ("android", "ios"):
        for offset in (-air_radio.TX_OFFSET_DB, air_radio.TX_OFFSET_DB):
            power = POWER_1M[family] + offset
            for shadow in (-air_radio.SHADOW_AMPLITUDE_DB, air_radio.SHADOW_AMPLITUDE_DB):
                near = sum(air_radio.rssi(power, 0.30, shadow, rng) for _ in range(20)) / 20
                waiting = sum(air_radio.rssi(power, 1.0, shadow, rng, air_radio.BODY_LOSS_DB)
                              for _ in range(20)) / 20
                assert near >= -60 > waiting, (family, offset, shadow, near, waiting)


# ---- the app's duty cycles ----------------------------------------------------------------


def _on_windows(p, start, end, step=0.1):
    """[(from, to)] of the phone's advertising between start and end."""
    windows, since = [], None
    for k in range(int((end - start) / step) + 1):
        t = start + k * step
        if p.advertising(t) and since is None:
            since = t
        elif not p.advertising(t) and since is not None:
            windows.append((since, t))
            since = None
    return windows


@pytest.mark.parametrize("app, on_s, off_s", [("background", 15, 15), ("open", 60, 5)])
def test_android_advertises_15_on_15_off_in_the_background_and_60_on_5_off_open(app, on_s, off_s):
    world = World(parse(scenario([phone("an", "android", app=app, dwell_s=3600)])), 0)
    (an,) = world.phones
    windows = _on_windows(an, 1, 400)
    middle = windows[1:-1]
    assert middle and all(abs(b - a - on_s) < 0.15 for a, b in middle)
    assert all(abs(b[0] - a[1] - off_s) < 0.15 for a, b in zip(windows, windows[1:]))


def test_opening_the_app_starts_foreground_advertising_at_once():
    world = World(parse(scenario([phone("an", "android", dwell_s=3600)])), 0)
    (an,) = world.phones
    off = next(t / 10 for t in range(10, 400) if not an.advertising(t / 10) and an.advertising(t / 10 - 1))
    assert an.app(off) == "background"
    an.open_app(off + 1)
    assert an.app(off + 1) == "open" and an.advertising(off + 1)
    assert an.cycle_started(off + 1) == off + 1  # the ID is read again now
    assert an.advertising(off + 60.9) and not an.advertising(off + 61.1)
    assert not an.advertising(off + 0.5)  # before it was opened, still off


# ---- the queue and the gate's answer ---------------------------------------------------------


def test_two_visitors_are_served_in_order():
    world, visitors, clock = gate_world([presser("first", arrive_s=3), presser("second", arrive_s=4)])
    first = clock.run_until({"event": "press", "phone": "first"})
    assert not [e for e in clock.events if e["phone"] == "second"]
    signal_at(clock, visitors, first["t"] + 1, RELAY_ON)
    signal_at(clock, visitors, first["t"] + 4, OFF)
    entered = clock.run_until({"event": "visitor", "phone": "first"})
    assert entered["outcome"] == "entered" and entered["attempts"] == 1
    second = clock.run_until({"event": "press", "phone": "second"})
    # It steps up from 1.0-1.5 m (about a second), then reaches for the button (0.5-1.5 s).
    assert entered["t"] + 1.2 <= second["t"] <= entered["t"] + 2.8
    _, a, b = world.phones[0], *world.phones
    assert dist(b.path.position(second["t"])) <= 0.30
    assert dist(a.path.position(entered["t"] + 5)) >= 2.0  # inside


def test_a_denied_visitor_who_retries_opens_the_app_and_presses_again():
    world, visitors, clock = gate_world([presser("an", arrive_s=3, retry=True)])
    (an,) = world.phones
    an._cycle_phase = 0.0  # background: on 0-15 s, 30-45 s, ...; off when it is denied
    first = clock.run_until({"event": "press", "phone": "an"})
    assert (first["app"], first["attempt"]) == ("background", 1)
    signal_at(clock, visitors, 16, DENY)
    signal_at(clock, visitors, 18, OFF)
    second = clock.run_until({"event": "press", "phone": "an", "attempt": 2})
    assert second["app"] == "open" and 16.5 + 3.5 <= second["t"] <= 16.5 + 9.5
    opened = an._open_from
    assert 16.5 + 3 <= opened <= 16.5 + 8 and an.advertising(opened) and not an.advertising(opened - 0.1)
    signal_at(clock, visitors, second["t"] + 1, DENY)
    gone = clock.run_until({"event": "visitor", "phone": "an"})
    assert (gone["outcome"], gone["attempts"]) == ("turned-away", 2)
    assert dist(an.path.position(gone["t"] + 15)) >= 10 and an.path.leaves < gone["t"] + 20


def test_an_ios_background_visitor_who_retries_becomes_a_foreground_iphone():
    world, visitors, clock = gate_world([presser("ip", "ios-background", arrive_s=2, retry=True)])
    (ip,) = world.phones
    first = clock.run_until({"event": "press"})
    signal_at(clock, visitors, first["t"] + 0.2, DENY)
    second = clock.run_until({"event": "press", "attempt": 2})
    assert (first["app"], second["app"], second["platform"]) == ("background", "open", "ios-background")
    assert ip.interval_s == 0.1 and b"Bluezone" in ip.advert(second["t"]).resp


def test_no_retry_turns_away_at_once_and_no_answer_gives_up():
    world, visitors, clock = gate_world([presser("a", arrive_s=2), presser("b", arrive_s=3)])
    first = clock.run_until({"event": "press", "phone": "a"})
    signal_at(clock, visitors, first["t"] + 0.3, DENY)
    away = clock.run_until({"event": "visitor", "phone": "a"})
    assert away["outcome"] == "turned-away" and away["t"] == pytest.approx(first["t"] + 0.8)
    second = clock.run_until({"event": "press", "phone": "b"})
    gave_up = clock.run_until({"event": "visitor", "phone": "b"})
    assert (gave_up["outcome"], gave_up["attempts"]) == ("gave-up", 1)
    assert gave_up["t"] == pytest.approx(second["t"] + PATIENCE_S)


def test_the_red_led_with_the_door_open_is_an_open_door_and_green_is_no_answer():
    # Monitor mode opens with the red LED; a blinking green while the gate checks is no verdict.
    world, visitors, clock = gate_world([presser("a", arrive_s=2), presser("b", arrive_s=2.5)])
    first = clock.run_until({"event": "press", "phone": "a"})
    signal_at(clock, visitors, first["t"] + 0.1, {"relay": 0, "red": 0, "green": 1})
    signal_at(clock, visitors, first["t"] + 0.2, OFF)
    signal_at(clock, visitors, first["t"] + 0.3, {"relay": 0, "red": 1, "green": 0})
    signal_at(clock, visitors, first["t"] + 0.32, {"relay": 1, "red": 1, "green": 0})
    entered = clock.run_until({"event": "visitor", "phone": "a"})
    assert entered["outcome"] == "entered"


# ---- through a running air and a board ---------------------------------------------------


def _next_event(events, wanted, timeout):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        try:
            event = events.get(timeout=max(0.01, end - time.monotonic()))
        except queue.Empty:
            break
        if wanted.items() <= event.items():
            return event
    raise AssertionError(f"no {wanted} within {timeout} s")


def test_the_air_lets_its_visitors_react_to_injected_gate_signals(tmp_path):
    data = scenario([presser("in", arrive_s=0.2), presser("retry", arrive_s=0.5, retry=True)])
    air = Air(parse(data)).start()
    try:
        events = air.subscribe()
        _next_event(events, {"event": "press", "phone": "in"}, 5)
        air.gate_signal("front", 1, 0)
        entered = _next_event(events, {"event": "visitor", "phone": "in"}, 5)
        assert (entered["outcome"], entered["platform"], entered["attempts"]) == ("entered", "android", 1)
        air.gate_signal("front", 0, 0)
        _next_event(events, {"event": "press", "phone": "retry", "attempt": 1}, 5)
        air.gate_signal("front", 0, 1)
        second = _next_event(events, {"event": "press", "phone": "retry", "attempt": 2}, 12)
        row = next(r for r in air.phones() if r["name"] == "retry")
        assert second["app"] == "open" and row["app"] == "open" and row["advertising"]
        assert ask_gates(air.address) == ["front", "back"]
    finally:
        air.stop()


RELAY_ON_PRESS = """
import machine, time
button = machine.Pin(0, machine.Pin.IN, machine.Pin.PULL_UP)
relay = machine.Pin(26, machine.Pin.OUT, value=0)
while button.value() == 1:
    time.sleep_ms(10)
relay.value(1)
print("relay on")
while True:
    time.sleep_ms(100)
"""


def test_a_visitor_walks_in_when_a_real_board_opens_its_relay(tmp_path):
    flash = tmp_path / "flash"
    flash.mkdir()
    (flash / "main.py").write_text(RELAY_ON_PRESS)
    air = Air(parse(scenario([presser("visitor", arrive_s=6)]))).start()
    events = air.subscribe()
    try:
        board = VirtualBoard(flash, "--air", air.address, "--name", "front")
        try:
            assert air.elapsed() < 6, "the board started after the visitor pressed"
            _next_event(events, {"event": "press", "phone": "visitor"}, 10)
            board.control.wait_console("relay on", timeout=10)
            entered = _next_event(events, {"event": "visitor", "phone": "visitor"}, 10)
            assert entered["outcome"] == "entered"
        finally:
            board.stop()
    finally:
        air.stop()


# ---- bzgate sim board --name -----------------------------------------------------------------


def _board_command(flash, *args):
    return subprocess.run([str(BIN / "bzgate"), "sim", "board", "--flash", str(flash), *args],
                          capture_output=True, text=True, timeout=30)


def test_a_board_named_after_no_gate_of_its_scenario_is_refused(tmp_path):
    path = write_scenario(tmp_path, scenario([]))
    run = _board_command(tmp_path / "flash", "--scenario", str(path), "--name", "side")
    assert run.returncode == 2 and run.stdout == ""
    assert "--name 'side'" in run.stderr and "front, back" in run.stderr
    air = Air(parse(scenario([]))).start()
    try:
        run = _board_command(tmp_path / "flash", "--air", air.address, "--name", "side")
        assert run.returncode == 2 and "front, back" in run.stderr
        run = _board_command(tmp_path / "flash", "--air", air.address)  # two gates: say which
        assert run.returncode == 2 and "front, back" in run.stderr
    finally:
        air.stop()
    quiet = Air(None).start()
    try:
        assert ask_gates(quiet.address) == []
    finally:
        quiet.stop()


WATCH_BUTTON = """
import machine, time
pin = machine.Pin(0, machine.Pin.IN, machine.Pin.PULL_UP)
while pin.value() == 1:
    time.sleep_ms(10)
print("input 0 went low")
"""


def test_a_scenario_with_one_gate_names_the_board_after_it(tmp_path):
    flash = tmp_path / "flash"
    flash.mkdir()
    (flash / "main.py").write_text(WATCH_BUTTON)
    data = scenario([presser("visitor", gate="solo", arrive_s=2)],
                    gates=[{"name": "solo", "x": 0, "y": 0}])
    board = VirtualBoard(flash, "--scenario", str(write_scenario(tmp_path, data)))
    try:
        board.control.wait_console("input 0 went low", timeout=10)
    finally:
        board.stop()
