"""The air on its own: its wire protocol (spoken here by a plain TCP client), malformed frames,
events, the quiet office, rolling IDs at real UTC boundaries, determinism and the CLI."""

import json
import struct
import time

import pytest
from airkit import RawClient
from bzcore.adv import KIND_NONE, classify
from bzsim.air import wire
from bzsim.air.server import Air, spawn_air
from bzsim.air.world import World
from bzsim.air.scenario import parse
from scenariokit import phone, running_air, scenario, write_scenario


def scan_results(frames):
    """(address, adv_type, rssi, data) of each SCAN_RESULT frame."""
    return [(p[2:8], p[8], struct.unpack("b", p[9:10])[0], p[10:])
            for name, p in frames if name == "SCAN_RESULT"]


def test_malformed_frames_are_counted_and_ignored():
    air = Air(None).start()
    try:
        client = RawClient(air.address)
        client.send(0x3F, b"junk")  # a type nobody defined
        client.send(wire.MSG["SCAN_START"], b"\x01\x00")  # too short
        client.send(wire.MSG["SCAN_RESULT"], bytes(12))  # the air's own message, sent to it
        client.request("ADVERTISE", 100000, 1, 20, tail=b"\x02\x01")  # adv_len past the end
        client.request("HELLO", b"\x24\x0a\xc4\x00\x00\x01", tail=b"front")
        client.request("SCAN_START", 1, 1000, 30000, 30000, 0)
        frames = client.frames(1.5)
        client.close()
    finally:
        air.stop()
    assert air.bad_frames == 4
    assert scan_results(frames) and frames[-1] == ("SCAN_DONE", b"\x01")


def test_a_quiet_office_has_only_non_bluezone_devices():
    air = Air(None).start()
    try:
        client = RawClient(air.address)
        client.request("SCAN_START", 1, 1200, 30000, 30000, 0)
        results = scan_results(client.frames(1.5))
        client.close()
    finally:
        air.stop()
    assert len({addr for addr, *_ in results}) >= 3
    assert all(classify(data).kind == KIND_NONE for *_, data in results)
    assert all(-100 <= rssi <= -40 for _, _, rssi, _ in results)


def test_a_press_reaches_python_and_tcp_subscribers(tmp_path):
    data = scenario([phone("visitor", "android", path="enter", arrive_s=0.4, dwell_s=2,
                           press=True)])
    with running_air(tmp_path, data) as air:
        events = air.subscribe()
        client = RawClient(air.address)
        client.request("SUBSCRIBE")
        frames = client.frames(2.0)
        client.close()
        press = events.get(timeout=1)
    reached = 1600416300 + 0.4  # at the scanner; the press comes after a reach of 0.5-1.5 s
    assert reached + 0.5 <= press.pop("t") <= reached + 1.5
    assert press == {"event": "press", "gate": "front", "phone": "visitor",
                     "platform": "android", "app": "background", "attempt": 1}
    press["t"] = json.loads([p for name, p in frames if name == "EVENT"][0])["t"]
    assert [json.loads(p) for name, p in frames if name == "EVENT"] == [press]


def test_ids_roll_at_real_utc_slot_and_day_boundaries():
    # The vectors of docs/protocol.md §9: slot 95 of 2020-09-18, then the first ID of the next day.
    data = scenario([phone("io", "ios")], start="2020-09-18T23:59:58Z")
    (io,) = World(parse(data), 0).phones
    assert io.id_at(1.0).hex().upper() == "0AE9AB99C50104E835045ABF"
    assert io.id_at(3.0).hex().upper() == "970E23C0E19DE93F8CC4057B"


def _crowd_and_noise(seed):
    data = scenario([], seed=seed, crowd={"per_minute": 30, "gate": "back",
                                          "shares": {"android": 1, "ios": 1, "other": 1}},
                    noise={"malformed_per_s": 1, "random_bluezone_ids_per_s": 1})
    world = World(parse(data), 0)
    phones = [world.next_crowd_phone() for _ in range(5)]
    noise = [world.next_noise("malformed_per_s", 0.0) for _ in range(3)]
    return ([(p.name, p.platform, p.path.appears, p.address(0.0), p.id_at(0.0)) for p in phones],
            [(t, n.address(t), n.advert(t)) for t, n in noise])


def test_a_scenario_plays_out_the_same_for_the_same_seed():
    assert _crowd_and_noise(3) == _crowd_and_noise(3)
    assert _crowd_and_noise(3) != _crowd_and_noise(4)


def test_random_bluezone_ids_come_only_inside_their_window():
    data = scenario([], noise={"random_bluezone_ids_per_s": 50, "other_adverts_per_s": 5,
                               "random_bluezone_ids_window": [60, 70]})
    world = World(parse(data), 0)
    times, t = [], 0.0
    while (upcoming := world.next_noise("random_bluezone_ids_per_s", t)) is not None:
        t = upcoming[0]
        times.append(t)
    assert 60 <= min(times) and max(times) < 70
    assert 350 < len(times) < 650  # 50 a second for 10 s
    assert world.next_noise("other_adverts_per_s", 100.0)[0] > 100  # the other noise goes on


def test_addresses_rotate_about_every_fifteen_minutes():
    (io,) = World(parse(scenario([phone("io", "ios")])), 0).phones
    changes = [t for t in range(0, 3600, 10) if io.address(t) != io.address(t + 10)]
    assert 3 <= len(changes) <= 5
    assert all(840 <= b - a <= 970 for a, b in zip(changes, changes[1:]))


@pytest.mark.parametrize("with_scenario", [False, True])
def test_the_air_command_prints_its_address_and_stops_cleanly(tmp_path, with_scenario):
    path = write_scenario(tmp_path, scenario([])) if with_scenario else None
    process = spawn_air(path)
    client = RawClient(process.address)
    client.request("HELLO", b"\x24\x0a\xc4\x00\x00\x02", tail=b"back")
    time.sleep(0.2)
    process.stop()
    client.close()
    assert process.process.returncode == 0
    line = process.process.stdout.readline()
    assert json.loads(line)["event"] == "board" and json.loads(line)["board"] == "back"


def test_held_visitors_come_when_released_counted_from_then_and_the_crowd_stops_on_time():
    data = scenario([phone("visitor", "android", path="enter", arrive_s=0.4, dwell_s=2,
                           press=True)],
                    crowd={"per_minute": 600, "press_share": 1.0, "gate": "back",
                           "shares": {"other": 1}})
    air = Air(parse(data), hold_visitors=True).start()
    try:
        events = air.subscribe()
        while air.elapsed() < 1.0:  # the air's own clock: a second with nobody held back coming
            time.sleep(0.05)
        assert air.phones() == [], "nobody comes before the release"
        released = air.elapsed()
        air.release_visitors(crowd_s=1.0)
        press = next(e for e in iter(lambda: events.get(timeout=5), None)
                     if e["phone"] == "visitor")
        assert released + 0.4 + 0.5 <= press["t"] - 1600416300 <= released + 0.4 + 1.6
        crowd = [p for p in air.phones() if p["name"].startswith("crowd-")]
        assert 2 <= len(crowd) <= 30, "about 10 in the crowd's one second, then no more"
        arrivals = [p for p in air.world.phones if p.name.startswith("crowd-")]
        assert all(released <= p.spec.arrive_s <= released + 1.1 for p in arrivals)
    finally:
        air.stop()
