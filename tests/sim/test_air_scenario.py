"""Scenario files: a valid one loads with defaults; each kind of mistake is named precisely."""

import json
import subprocess
import sys

import pytest
from scenariokit import BACK, DK, DK_HEX, FRONT, phone, scenario, write_scenario
from bzsim.air.scenario import ScenarioError, Wifi, load, parse


def test_a_valid_scenario_loads_with_defaults(tmp_path):
    data = scenario([phone("an", "android"), {"name": "x", "platform": "other"}],
                    crowd={"per_minute": 6, "shares": {"android": 1}, "gate": "back"},
                    noise={"malformed_per_s": 0.5}, faults={"gatt_fail_share": 0.2})
    loaded = load(write_scenario(tmp_path, data))
    assert loaded.start == 1600416300 and loaded.seed == 7
    assert [g.name for g in loaded.gates] == ["front", "back"]
    assert loaded.phones[0].daily_key == DK and loaded.phones[0].max == 96
    other = loaded.phones[1]
    assert (other.gate, other.path, other.press, other.daily_key) == ("front", "enter", False, None)
    assert loaded.crowd.shares["ios"] == 0 and loaded.crowd.gate == "back"
    assert loaded.noise.malformed_per_s == 0.5 and loaded.noise.other_adverts_per_s == 0
    assert loaded.faults.gatt_fail_share == 0.2


def test_a_gates_access_point_loads_with_its_outages(tmp_path):
    office = {"ssid": "Office", "outages": [[60, 120], [300, 310.5]]}
    data = scenario([], gates=[FRONT, {**BACK, "wifi": office}])
    front, back = load(write_scenario(tmp_path, data)).gates
    assert front.wifi is None
    assert back.wifi == Wifi("Office", "", ((60.0, 120.0), (300.0, 310.5)))  # "": an open network


def _with(change):
    data = scenario([phone("an", "android")])
    change(data)
    return data


def _phone_field(key, value):
    return lambda data: data["phones"][0].__setitem__(key, value)


def _wifi(**wifi):
    return lambda data: data["gates"][0].__setitem__("wifi", wifi)


@pytest.mark.parametrize("change, message", [
    (lambda d: d.pop("start"), "start: required"),
    (lambda d: d.__setitem__("start", "yesterday"), "start: not an ISO 8601 time"),
    (lambda d: d.__setitem__("start", "2020-09-18T08:00:00"), "start: give the UTC offset"),
    (lambda d: d.__setitem__("seed", "1"), "seed: must be an integer"),
    (lambda d: d.__setitem__("gates", []), "gates: at least one gate"),
    (lambda d: d["gates"][1].pop("x"), "gates[1].x: required"),
    (lambda d: d["gates"][1].__setitem__("name", "front"), "gates[1].name: 'front' is used twice"),
    (lambda d: d.__setitem__("colour", 1), "scenario.colour: unknown field"),
    (_phone_field("platform", "nokia"), "phones[0].platform: must be one of"),
    (lambda d: d["phones"][0].pop("daily_key"), "phones[0].daily_key: required for platform android"),
    (_phone_field("daily_key", DK_HEX[:-2]), "phones[0].daily_key: must be 64 hex digits"),
    (_phone_field("max", 7), "phones[0].max: max must divide 86400"),
    (_phone_field("platform", "ios-v1"), "phones[0].v1_code: required for platform ios-v1"),
    (_phone_field("v1_code", "abc"), "phones[0].v1_code: must be 6 characters"),
    (_phone_field("gate", "side"), "phones[0].gate: no gate named 'side'"),
    (_phone_field("path", "run"), "phones[0].path: must be one of enter, pass-by, linger"),
    (_phone_field("arrive_s", -1), "phones[0].arrive_s: must not be negative"),
    (_phone_field("press", "yes"), "phones[0].press: must be true or false"),
    (lambda d: d["phones"][0].update(path="pass-by", press=True), "phones[0].press: a pass-by"),
    (lambda d: d.__setitem__("crowd", {"shares": {"ios": 1}}), "crowd.per_minute: required"),
    (lambda d: d.__setitem__("crowd", {"per_minute": 1, "shares": {"android": 0}}),
     "crowd.shares: at least one share must be positive"),
    (lambda d: d.__setitem__("crowd", {"per_minute": 1, "shares": {"tablet": 1}}),
     "crowd.shares.tablet: unknown field"),
    (lambda d: d.__setitem__("noise", {"other_adverts_per_s": "lots"}),
     "noise.other_adverts_per_s: must be a number"),
    (lambda d: d.__setitem__("noise", {"random_bluezone_ids_window": [60]}),
     "noise.random_bluezone_ids_window: must be [from_s, to_s], not [60]"),
    (lambda d: d.__setitem__("noise", {"random_bluezone_ids_window": [120, 60]}),
     "noise.random_bluezone_ids_window: must end after it starts"),
    (lambda d: d.__setitem__("faults", {"gatt_fail_share": 1.5}),
     "faults.gatt_fail_share: must be between 0 and 1"),
    (lambda d: d.__setitem__("faults", {"gatt_fail_share": 0.6, "gatt_timeout_share": 0.6}),
     "faults: gatt_fail_share + gatt_timeout_share must not exceed 1"),
    (_wifi(password="secret123"), "gates[0].wifi.ssid: required"),
    (_wifi(ssid=""), "gates[0].wifi.ssid: must be 1 to 32 bytes"),
    (_wifi(ssid="Office", password="short"), "gates[0].wifi.password: must be 8 to 63 characters"),
    (_wifi(ssid="Office", channel=6), "gates[0].wifi.channel: unknown field"),
    (_wifi(ssid="Office", outages=[60, 120]), "gates[0].wifi.outages[0]: must be [from_s, to_s], not 60"),
    (_wifi(ssid="Office", outages=[[60, "2m"]]), "gates[0].wifi.outages[0]: must be [from_s, to_s]"),
    (_wifi(ssid="Office", outages=[[-5, 10]]), "gates[0].wifi.outages[0]: must not start before"),
    (_wifi(ssid="Office", outages=[[60, 120], [130, 130]]),
     "gates[0].wifi.outages[1]: must end after it starts"),
    (_wifi(ssid="Office", outages=[[60, 120], [100, 130]]),
     "gates[0].wifi.outages[1]: must start after the previous outage ends"),
    (_wifi(ssid="Office", outages=[[300, 310], [60, 120]]),
     "gates[0].wifi.outages[1]: must start after the previous outage ends"),
])
def test_mistakes_are_named_by_field(change, message):
    with pytest.raises(ScenarioError) as caught:
        parse(_with(change))
    assert str(caught.value).startswith(message)


def test_unreadable_files_are_clear_errors(tmp_path):
    broken = tmp_path / "broken.json"
    broken.write_text('{"start": ')
    with pytest.raises(ScenarioError, match="broken.json: not valid JSON"):
        load(broken)
    with pytest.raises(ScenarioError, match="missing.json: cannot read"):
        load(tmp_path / "missing.json")
    with pytest.raises(ScenarioError, match="scenario: must be an object"):
        parse([1, 2])


def test_the_air_command_refuses_a_broken_scenario_with_status_2(tmp_path):
    path = write_scenario(tmp_path, _with(_phone_field("platform", "nokia")))
    run = subprocess.run([sys.executable, "-m", "bzsim.air.cli", "--scenario", str(path)],
                         capture_output=True, text=True, timeout=20)
    assert run.returncode == 2
    assert "phones[0].platform: must be one of" in run.stderr and run.stdout == ""
    assert json.loads(path.read_text())  # the file itself is left alone
