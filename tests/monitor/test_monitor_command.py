"""`bzgate monitor`'s command line without gates: where it listens, which gates it watches
(--fleet names them and their sites before they answer), and mistakes as one clear line."""

import pytest
from click.testing import CliRunner

from bzgate.cli import main
from bzgate.errors import UserError
from bzgate.monitor import gates_named, parse_listen


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
