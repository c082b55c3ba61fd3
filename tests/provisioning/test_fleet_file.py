"""Fleet files and configure options with mistakes: every mistake reported at once, before any
board is touched (the ports here do not exist, or are ptys whose far end shows that nothing
was sent)."""

import os
import pty

import pytest
from click.testing import CliRunner
from linkkit import ok

from bzcore import wire, wirehost
from bzgate.cli import main
from bzprov.fields import given_fields

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
    assert "5 mistake(s), no board touched" in result.output  # the two ports that do not exist too
    assert "line 3: port /dev/nope1 does not exist" in result.output


def test_unknown_steps_are_refused(tmp_path):
    result, _ = fleet(tmp_path, GOOD, "--steps", "deploy,flash")
    assert result.exit_code == 2 and "--steps" in result.output


def test_a_board_that_fails_makes_the_exit_status_non_zero_and_others_go_on(tmp_path, scripted):
    refusing = [scripted(lambda req_id, *_: wirehost.reply(req_id, wire.ERR, {"error": "busy", "message": "no"}))
                for _ in range(2)]
    text = (f"port,gate_id,site,location,mode,trigger\n{refusing[0].path},door-1,HQ,lobby,enforce,button\n"
            f"{refusing[1].path},door-2,HQ,hall,monitor,beam\n")
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
    cfg, errors = given_fields(fields)
    assert errors == []
    assert cfg["checkpoint_beacon"] is True and cfg["wifi"]["ssid"] == "gate-lan"
    assert cfg["mqtt"]["host"] == "10.0.0.5"
    assert given_fields({**fields, "wifi": "off", "mqtt": ""})[0]["wifi"] is None
    _, errors = given_fields({**fields, "wifi": "{ssid: gate-lan}"})
    assert len(errors) == 1 and errors[0].startswith("wifi:")


def configure(tmp_path, *args):
    return CliRunner().invoke(main, ["provision", "configure", "--port", "/dev/nope0", "--gate-id", "door-1",
                                     *args], env={"BZGATE_KEYS": str(tmp_path / "keys.json")})


def test_json_nested_thousands_deep_is_refused_in_one_line(tmp_path):
    deep = "[" * 5000
    for field in ("mqtt", "wifi", "board", "scan"):
        result = configure(tmp_path, "--site", "HQ", "--set", f"{field}={deep}")
        assert result.exit_code == 2, result.output
        assert "1 field(s) not allowed, the board is untouched" in result.output
        assert f"\n  {field}: " in result.output and "Traceback" not in result.output
    nested = configure(tmp_path, "--site", "HQ", "--set", "mqtt=" + "[" * 950 + "]" * 950)
    assert nested.exit_code == 2 and "mqtt: an object or null" in nested.output
    result, _ = fleet(tmp_path, f'port,gate_id,site,mqtt\n/dev/nope0,door-1,HQ,"{{""host"": {deep}"\n')
    assert result.exit_code == 2 and "line 2: mqtt: " in result.output


HOSTILE = ("Head office\nbzgate: all gates OK", "HQ\x1b]0;owned\x07", "HQ\x1b[2J\x1b[1;1H", "HQ\x9b31m")


@pytest.mark.parametrize("text", HOSTILE)
def test_control_characters_in_site_gate_id_and_location_are_refused(tmp_path, text):
    for option in ("--site", "--location", "--gate-id"):
        result = configure(tmp_path, "--site", "HQ", option, text)
        assert result.exit_code == 2, result.output
        field = option[2:].replace("-", "_")
        assert f"\n  {field}: " in result.output
        assert "\x1b" not in result.output and "\x07" not in result.output
    quoted = text.replace('"', '""')
    for column in ("site", "location", "gate_id"):
        cells = {"site": "HQ", "location": "lobby", "gate_id": "door-1", column: f'"{quoted}"'}
        result, _ = fleet(tmp_path, "port,gate_id,site,location\n"
                                    f"/dev/nope0,{cells['gate_id']},{cells['site']},{cells['location']}\n")
        assert result.exit_code == 2 and f": {column}: " in result.output


def test_an_empty_gate_id_cell_is_refused(tmp_path):
    result, _ = fleet(tmp_path, "port,gate_id,site\n/dev/nope0,,HQ\n")
    assert result.exit_code == 2 and "line 2: gate_id: empty" in result.output


def _far_end():
    """A pty (a port that exists and opens): its far end, and its path."""
    master, slave = pty.openpty()
    os.set_blocking(master, False)
    return master, slave, os.ttyname(slave)


def test_every_port_is_checked_before_any_board_is_touched(tmp_path):
    master, slave, path = _far_end()
    try:
        text = f"port,gate_id,site\n{path},door-1,HQ\n/dev/ttyUSB9,door-2,HQ\n/dev/ttyUSB8,door-3,HQ\n"
        for steps in ("deploy,configure,verify", "verify"):
            result, state = fleet(tmp_path, text, "--steps", steps)
            assert result.exit_code == 2, result.output
            assert "2 mistake(s), no board touched" in result.output
            assert "line 3: port /dev/ttyUSB9 does not exist" in result.output
            assert "line 4: port /dev/ttyUSB8 does not exist" in result.output
            assert not state.with_name("fleet.csv.state").exists()
            with pytest.raises(BlockingIOError):  # not one byte reached the board that is there
                os.read(master, 100)
    finally:
        os.close(master)
        os.close(slave)
