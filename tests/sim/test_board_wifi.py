"""The virtual board's Wi-Fi station (network and socket shims): it joins the access point the
board was given, with the ESP32's status codes when it cannot; its sockets reach this machine's
loopback; when the access point goes, they are reset and names no longer resolve."""

import errno
import socket
import threading

import pytest
from boardkit import VirtualBoard

SSID, PASSWORD = "gate-lan", "correct horse"
JOIN = "import network\nw = network.WLAN(network.STA_IF)\nw.active(True)\n"


@pytest.fixture
def board(tmp_path):
    board = VirtualBoard(tmp_path / "flash", "--wifi", f"{SSID}:{PASSWORD}")
    yield board
    board.stop()


def run(board, code):
    return board.mpremote("exec", code).stdout.split()


def test_the_station_joins_its_access_point_or_says_why_not(board):
    out = run(board, JOIN + f"w.connect('elsewhere', {PASSWORD!r}); print(w.status(), w.isconnected())\n"
                            f"w.connect({SSID!r}, 'wrong pass'); print(w.status(), w.isconnected())\n"
                            f"w.connect({SSID!r}, {PASSWORD!r}); print(w.status(), w.isconnected())\n"
                            "print(w.ifconfig()[0], w.config('ssid'))")
    assert out == ["201", "False", "202", "False", "1010", "True", "192.168.4.2", SSID]


def test_sockets_reach_the_loopback_and_are_reset_when_the_access_point_goes(board):
    server = socket.create_server(("127.0.0.1", 0))
    server.settimeout(10)
    code = JOIN + (f"w.connect({SSID!r}, {PASSWORD!r})\nimport socket, time\n"
                   f"s = socket.socket()\ns.connect(socket.getaddrinfo('127.0.0.1', {server.getsockname()[1]})[0][-1])\n"
                   "s.write(b'hello')\n"
                   "while w.isconnected():\n time.sleep_ms(20)\n"
                   "try:\n s.write(b'more')\nexcept OSError as e:\n print('write', e.errno)\n"
                   "try:\n socket.getaddrinfo('127.0.0.1', 1883)\nexcept OSError as e:\n print('lookup', e.errno)\n"
                   f"w.connect({SSID!r}, {PASSWORD!r}); print(w.status())")
    result = []
    session = threading.Thread(target=lambda: result.append(run(board, code)))
    session.start()
    peer = server.accept()[0]
    peer.settimeout(10)
    assert peer.recv(5) == b"hello"
    board.control.wifi(False)
    with pytest.raises(ConnectionResetError):  # reset, as lwIP aborts a lost address's sockets
        peer.recv(5)
    session.join(30)
    assert result == [["write", str(errno.ECONNABORTED), "lookup", "-202", "201"]]  # no AP to join
    board.control.wifi(True)
    assert run(board, JOIN + f"w.connect({SSID!r}, {PASSWORD!r}); print(w.isconnected())") == ["True"]
    server.close()
