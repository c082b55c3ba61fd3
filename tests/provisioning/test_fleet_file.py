"""Fleet files and configure options with mistakes: every mistake reported at once, before any
board is touched (the ports here do not exist: touching one would fail differently)."""

import pytest
from click.testing import CliRunner

from bzgate.cli import main
from bzprov.fields import gate_config

GOOD = "port,gate_id,site,location,mode,trigger\n/dev/nope0,door-1,HQ,lobby,enforce,button\n"


def fleet(tmp_path, text, *args):
    path = tmp_path / "fleet.csv"
    path.write_text(text)
    result = CliRunner().invoke(main, ["provision", "fleet", str(path), *args],
                                env={"BZGATE_KEYS": str(tmp_path / "keys.json")})
    return result, path


@pytest.mark.parametrize("text, expected", [
    ("port,gate_id,site,mode\n/dev/nope0,door-1,HQ,enforced\n",
     ["line 2: mode: one of enforce | monitor | count"]),
    ("port,gate_id,site\n/dev/nope0,door-1,HQ\n/dev/nope1,door-1,HQ\n",
     ["line 3: gate_id door-1 is already on line 2"]),
    ("port,site\n/dev/nope0,HQ\n", ["column 'gate_id' is missing"]),
    ("gate_id,site\ndoor-1,HQ\n", ["a column 'port' or 'usb_serial' is needed"]),
    ("port,gate_id,site,near_rssi\n/dev/nope0,door-1,HQ,-20\n/dev/nope1,door-2,HQ,loud\n",
     ["line 2: near_rssi: a whole number from -100 to -30",
      'line 3: near_rssi: a whole number from -100 to -30 dBm (got "loud")']),
    ("port,gate_id,site,colour\n/dev/nope0,door-1,HQ,red\n", ["column 'colour': unknown"]),
    ("port,gate_id,site\n,door-1,HQ\n", ["line 2: no port (give port or usb_serial)"]),
    ("usb_serial,gate_id,site\n0001-NOT-PLUGGED,door-1,HQ\n", ["line 2: no board with USB serial 0001-NOT-PLUGGED"]),
    ("port,gate_id,site\n/dev/nope0,door 1,HQ\n/dev/nope0,door-2,HQ\n",
     ["line 2: gate_id:", "line 3: port /dev/nope0 is already on line 2"]),
    ("port,gate_id,site\n/dev/nope0,door-1,HQ,extra\n", ["line 2: more cells than columns"]),
    ("port,gate_id,site\n", ["no boards in it"]),
])
def test_a_bad_fleet_file_is_refused_whole_before_any_board(tmp_path, text, expected):
    result, path = fleet(tmp_path, text)
    assert result.exit_code == 2, result.output
    for message in expected:
        assert message in result.output
    assert not path.with_name("fleet.csv.state").exists()
    assert "mpremote" not in result.output


def test_all_mistakes_of_a_file_come_in_one_report(tmp_path):
    text = ("port,gate_id,site,mode,near_rssi\n/dev/nope0,door-1,HQ,enforce,-10\n"
            "/dev/nope1,door-1,HQ,strict,-60\n")
    result, _ = fleet(tmp_path, text)
    assert "3 mistake(s), no board touched" in result.output


def test_unknown_steps_are_refused(tmp_path):
    result, _ = fleet(tmp_path, GOOD, "--steps", "deploy,flash")
    assert result.exit_code == 2 and "--steps" in result.output


def test_a_board_that_fails_makes_the_exit_status_non_zero_and_others_go_on(tmp_path):
    text = GOOD + "/dev/nope1,door-2,HQ,hall,monitor,beam\n"
    result, path = fleet(tmp_path, text, "--steps", "verify")
    assert result.exit_code == 1
    assert "0 of 2 boards done, 2 failed" in result.output
    assert "[door-1] verify FAILED" in result.output and "[door-2] verify FAILED" in result.output


def test_configure_checks_every_field_before_touching_the_board(tmp_path):
    result = CliRunner().invoke(main, ["provision", "configure", "--port", "/dev/nope0", "--gate-id", "door 1",
                                       "--site", "HQ", "--near-rssi", "-10", "--set", "colour=red"],
                                env={"BZGATE_KEYS": str(tmp_path / "keys.json")})
    assert result.exit_code == 2
    assert "3 field(s) not allowed, the board is untouched" in result.output
    assert "near_rssi: a whole number from -100 to -30 dBm (got -10)" in result.output
    assert "colour: not a configuration field" in result.output
    assert not (tmp_path / "keys.json").exists()


def test_wifi_mqtt_and_the_checkpoint_beacon_are_typed_as_in_a_fleet_cell_or_a_set_option():
    fields = {"gate_id": "door-1", "site": "HQ", "checkpoint_beacon": "yes",
              "wifi": '{"ssid": "gate-lan", "password": "correct horse"}',
              "mqtt": '{"host": "10.0.0.5", "port": 1883, "tls": false, "username": null, '
                      '"password": null, "topic_prefix": "bzgate"}'}
    cfg, errors = gate_config(fields)
    assert errors == []
    assert cfg["checkpoint_beacon"] is True and cfg["wifi"]["ssid"] == "gate-lan"
    assert cfg["mqtt"]["host"] == "10.0.0.5"
    assert gate_config({**fields, "wifi": "off", "mqtt": ""})[0]["wifi"] is None
    _, errors = gate_config({**fields, "wifi": "{ssid: gate-lan}"})
    assert len(errors) == 1 and errors[0].startswith("wifi:")
