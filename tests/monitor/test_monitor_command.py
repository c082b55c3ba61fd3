"""`bzgate monitor`'s command line without gates: where it listens, which gates it watches
(--fleet names them and their sites before they answer), and mistakes as one clear line; and
`bzgate status` / `bzgate gate status` on gates answered by a fake link."""

import json
import socket

import pytest
from click.testing import CliRunner

from bzgate.cli import main
from bzgate.errors import UserError
from bzgate.commands.monitor import gates_named, parse_listen


def test_listen_takes_host_and_port():
    assert parse_listen("127.0.0.1:8080") == ("127.0.0.1", 8080)
    assert parse_listen("0.0.0.0:80") == ("0.0.0.0", 80)
    assert parse_listen(":9000") == ("127.0.0.1", 9000)
    for bad in ("8080", "host:", "host:http", "host:70000"):
        with pytest.raises(UserError):
            parse_listen(bad)


def test_a_fleet_file_names_its_gates_and_sites_after_the_ports_given(tmp_path):
    fleet = tmp_path / "fleet.csv"
    fleet.write_text("port,gate_id,site\n/dev/ttyUSB0,hq-front-1,Head office\n"
                     "/dev/ttyUSB1,hq-front-2,Tòa nhà B\n", encoding="utf-8")
    assert gates_named(("/dev/ttyACM0",), str(fleet), False) == {
        "/dev/ttyACM0": ("", ""), "/dev/ttyUSB0": ("hq-front-1", "Head office"),
        "/dev/ttyUSB1": ("hq-front-2", "Tòa nhà B")}


def test_no_gate_or_a_bad_listen_address_is_one_line_and_status_2(tmp_path):
    runner = CliRunner()
    nothing = runner.invoke(main, ["monitor", "--db", str(tmp_path / "m.db")])
    assert nothing.exit_code == 2 and "no gate to watch" in nothing.stderr
    bad = runner.invoke(main, ["monitor", "--port", "/dev/null", "--listen", "nowhere"])
    assert bad.exit_code == 2 and "--listen nowhere" in bad.stderr
    assert not (tmp_path / "m.db").exists()


def test_status_wants_a_port_or_all():
    result = CliRunner().invoke(main, ["status"])
    assert result.exit_code == 2 and "--port PATH" in result.stderr


class FakeLink:
    """A gate on a port, as GateLink answers: HELLO, CONFIG GET and STATUS."""
    statuses: dict = {}

    def __init__(self, port, **options):
        self.port = port

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False

    def hello(self):
        return {"gate_id": "gate-" + self.port[-1], "board_id": "ab", "firmware": "1.2"}

    def config_get(self):
        return {"site": "Tòa nhà A"}

    def status(self):
        return {"mode": "enforce", "clock_valid": True, "decisions": 8, "restarts": [0, 0],
                "storage": {"bytes": 10, "free_bytes": 90}, **self.statuses[self.port]}


def test_status_shows_a_gate_checking_and_the_presses_merged(monkeypatch):
    from bzgate.monitor import gate
    monkeypatch.setattr(gate, "GateLink", FakeLink)
    monkeypatch.setattr(FakeLink, "statuses", {
        "/dev/ttyUSB1": {"checking": True, "presses_merged": 3,
                         "last_decision": {"n": 8, "verdict": "deny", "rssi": None}},
        "/dev/ttyUSB2": {}})  # a gate from before: neither field
    shown = CliRunner().invoke(main, ["status", "--port", "/dev/ttyUSB1", "--port", "/dev/ttyUSB2"])
    assert shown.exit_code == 0, shown.output
    header, one, two = (line.split("  ") for line in shown.output.splitlines())
    header, one, two = ([cell.strip() for cell in row if cell.strip()] for row in (header, one, two))
    assert header == ["GATE", "SITE", "PORT", "STATE", "MODE", "LAST", "DECISIONS", "MERGED",
                      "STORAGE", "ALARMS"]
    assert one == ["gate-1", "Tòa nhà A", "/dev/ttyUSB1", "online, checking", "enforce", "DENY",
                   "8", "3", "10 %"]
    assert two == ["gate-2", "Tòa nhà A", "/dev/ttyUSB2", "online", "enforce", "8", "10 %"]
    monkeypatch.setattr(FakeLink, "statuses", {"/dev/ttyUSB2": {}})
    alone = CliRunner().invoke(main, ["status", "--port", "/dev/ttyUSB2"])
    assert "MERGED" not in alone.output and "checking" not in alone.output
    monkeypatch.setattr(FakeLink, "statuses", {"/dev/ttyUSB1": {"checking": True,
                                                                "presses_merged": 3}})
    as_json = CliRunner().invoke(main, ["status", "--port", "/dev/ttyUSB1", "--json"])
    gate = json.loads(as_json.output)["gates"][0]
    assert gate["checking"] is not None and gate["presses_merged"] == 3


def test_gate_status_shows_checking_and_presses_merged_as_the_gate_sent_them(monkeypatch):
    from bzgate.commands import gate as gatecmd
    monkeypatch.setattr(gatecmd, "GateLink", FakeLink)
    monkeypatch.setattr(FakeLink, "statuses", {"/dev/ttyUSB1": {"checking": False,
                                                                "presses_merged": 0}})
    shown = CliRunner().invoke(main, ["gate", "status", "--port", "/dev/ttyUSB1"])
    assert shown.exit_code == 0, shown.output
    lines = shown.output.splitlines()
    assert "checking:       false" in lines and "presses_merged: 0" in lines
    assert "mode:           enforce" in lines and "clock_valid:    true" in lines


def test_listening_beyond_loopback_without_guards_is_refused(tmp_path):
    runner = CliRunner()
    with socket.create_server(("0.0.0.0", 0)) as taken:  # were it not refused, it would not hang
        port = taken.getsockname()[1]
        for listen in (f"0.0.0.0:{port}", f"192.0.2.1:{port}"):
            refused = runner.invoke(main, ["monitor", "--port", "/dev/null", "--listen", listen,
                                           "--db", str(tmp_path / "m.db")])
            assert refused.exit_code == 2, refused.output
            assert f"--listen {listen} serves the page beyond this computer: give --guards " \
                "FILE" in refused.stderr
    empty = tmp_path / "guards.json"
    empty.write_text('{"version": 1, "guards": {}}')
    nobody = runner.invoke(main, ["monitor", "--port", "/dev/null", "--listen", "0.0.0.0:8080",
                                  "--guards", str(empty), "--db", str(tmp_path / "m.db")])
    assert nobody.exit_code == 2 and "no guard in" in nobody.stderr
    assert not (tmp_path / "m.db").exists()
