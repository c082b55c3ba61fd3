"""Wi-Fi from the scenario: a board attached to the air at a gate with an access point gets it,
and loses it during the gate's outages on the air's clock (its sockets reset, as `bzgate sim
wifi down` does); a gate without one has none in range."""

import errno
import socket
import subprocess
import threading

import pytest
from boardkit import BIN, VirtualBoard
from scenariokit import BACK, FRONT, running_air, scenario

SSID, PASSWORD = "Office", "secret123"
OUTAGE = (10.0, 12.0)  # scenario seconds: after the board has joined, even on a busy machine
JOIN = f"import network\nw = network.WLAN(network.STA_IF)\nw.active(True)\nw.connect({SSID!r}, {PASSWORD!r})\n"


def office(outages):
    wifi = {"ssid": SSID, "password": PASSWORD, "outages": [list(o) for o in outages]}
    return scenario([], gates=[{**FRONT, "wifi": wifi}, BACK])


@pytest.fixture
def board_at(tmp_path):
    boards = []

    def start(air, name):
        boards.append(VirtualBoard(tmp_path / name, "--air", air.address, "--name", name))
        return boards[-1]

    yield start
    for board in boards:
        board.stop()


def test_the_station_loses_the_access_point_during_the_gates_outage(tmp_path, board_at):
    server = socket.create_server(("127.0.0.1", 0))
    server.settimeout(15)
    address = f"socket.getaddrinfo('127.0.0.1', {server.getsockname()[1]})[0][-1]"
    code = JOIN + ("print('joined', w.status())\nimport socket, time\n"
                   f"s = socket.socket()\ns.connect({address})\ns.write(b'hello')\n"
                   "while w.isconnected():\n time.sleep_ms(20)\n"
                   "print('lost', w.status())\n"
                   "try:\n s.write(b'more')\nexcept OSError as e:\n print('write', e.errno)\n"
                   f"w.connect({SSID!r}, {PASSWORD!r}); print('outage', w.status())\n"
                   "while not w.isconnected():\n"
                   f" time.sleep_ms(50)\n w.connect({SSID!r}, {PASSWORD!r})\n"
                   f"print('back', w.status())\ns = socket.socket()\ns.connect({address})\ns.write(b'again')\n")
    with running_air(tmp_path, office([OUTAGE])) as air:
        events = air.subscribe()
        board = board_at(air, "front")
        result = []
        session = threading.Thread(target=lambda: result.append(board.mpremote("exec", code).stdout.split()))
        session.start()
        peer = server.accept()[0]
        peer.settimeout(15)
        assert peer.recv(5) == b"hello"
        joined = air.elapsed()
        with pytest.raises(ConnectionResetError):  # as lwIP aborts a lost address's sockets
            peer.recv(5)
        lost = air.elapsed()
        again = server.accept()[0]
        again.settimeout(15)
        assert again.recv(5) == b"again"
        back = air.elapsed()
        session.join(15)
        wifi_events = [events.get(timeout=1) for _ in range(2)]
    server.close()
    assert joined < OUTAGE[0], "the board took too long to start for this test's outage"
    assert OUTAGE[0] <= lost < OUTAGE[0] + 1.5  # on the air's clock, not from the board's start
    assert back >= OUTAGE[1]
    assert result == [["joined", "1010", "lost", "200", "write", str(errno.ECONNABORTED),
                       "outage", "201", "back", "1010"]]
    assert [(e["gate"], e["up"], e["t"] - air.world.start) for e in wifi_events] == [
        ("front", False, OUTAGE[0]), ("front", True, OUTAGE[1])]


def test_a_gate_without_wifi_has_no_access_point_and_the_command_line_cannot_add_one(tmp_path, board_at):
    with running_air(tmp_path, office([])) as air:
        board = board_at(air, "back")
        out = board.mpremote("exec", JOIN + "print(w.status(), w.isconnected())").stdout.split()
        assert out == ["201", "False"]  # STAT_NO_AP_FOUND
        refused = subprocess.run(
            [str(BIN / "bzgate"), "sim", "board", "--flash", str(tmp_path / "other"), "--air", air.address,
             "--name", "front", "--wifi", "elsewhere:password1"], capture_output=True, text=True, timeout=20)
    assert refused.returncode == 2 and refused.stdout == ""
    assert "--wifi: gate 'front' has its access point in the scenario" in refused.stderr
