"""The monitor's web server on its own (no gates, no browser): the page and its files come
from the package, nothing outside it is served, "collect now" checks what it is sent, and the
event stream starts with the whole state then follows changes."""

import json
import threading
import urllib.error
import urllib.request

import pytest

from bzgate.monitor.state import Board
from bzgate.monitor.web import MonitorServer

PORT = "/dev/ttyUSB0"


@pytest.fixture(scope="module")
def server():
    board = Board()
    board.add_gate(PORT, "front", "Tòa nhà A")
    asked = []

    def collect_now(port):
        ports = [p for p in (PORT,) if port in (None, "", p)]
        asked.extend(ports)
        return ports

    server = MonitorServer(("127.0.0.1", 0), board, collect_now)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}", board, asked
    server.shutdown()
    server.server_close()


def get(url):
    with urllib.request.urlopen(url, timeout=5) as reply:
        return reply.status, reply.headers["Content-Type"], reply.read()


def post(url, body: bytes):
    try:
        request = urllib.request.Request(url, body, method="POST")
        with urllib.request.urlopen(request, timeout=5) as reply:
            return reply.status, json.load(reply)
    except urllib.error.HTTPError as e:
        return e.code, json.load(e)


def test_the_page_and_its_files_come_from_the_package_and_nothing_else(server):
    base, _, _ = server
    status, kind, body = get(base + "/")
    assert status == 200 and kind.startswith("text/html") and b'src="/static/app.js"' in body
    assert b"http" not in body.replace(b'http-equiv', b"")  # no CDN, no web font
    assert get(base + "/static/app.js")[1].startswith("text/javascript")
    for path in ("/static/../monitorweb.py", "/static/.hidden", "/static/nope.js", "/etc/passwd"):
        with pytest.raises(urllib.error.HTTPError) as e:
            get(base + path)
        assert e.value.code == 404


def test_collect_now_takes_one_gate_or_all_and_refuses_nonsense(server):
    base, _, asked = server
    assert post(base + "/api/collect", b"{}") == (202, {"ports": [PORT]})
    one = json.dumps({"port": PORT}).encode()
    assert post(base + "/api/collect", one) == (202, {"ports": [PORT]})
    assert post(base + "/api/collect", b'{"port": "/dev/none"}') == (404, {"ports": []})
    assert post(base + "/api/collect", b"not json")[0] == 400
    assert post(base + "/api/collect", b'{"port": 7}')[0] == 400
    assert post(base + "/api/collect", b"[]")[0] == 400
    assert post(base + "/api/collect", b"{}" + b" " * 5000)[0] == 400  # not "all gates"
    assert asked == [PORT, PORT]


def test_the_stream_sends_the_whole_state_then_changes(server):
    base, board, _ = server
    with urllib.request.urlopen(base + "/api/stream", timeout=5) as stream:
        assert stream.headers["Content-Type"] == "text/event-stream"
        assert stream.readline() == b"retry: 2000\n" and stream.readline() == b"\n"
        kind, state = next_message(stream)
        assert kind == "state" and [g["gate_id"] for g in state["gates"]] == ["front"]
        board.hello(PORT, {"gate_id": "front", "board_id": "ab"}, {"site": "Cổng sau"})
        changes = [next_message(stream), next_message(stream)]
        assert changes[0] == ("event", {**changes[0][1], "kind": "online", "gate_id": "front"})
        assert changes[1][0] == "gate" and changes[1][1]["site"] == "Cổng sau"


def next_message(stream) -> tuple[str, dict]:
    kind = stream.readline().removeprefix(b"event: ").strip().decode()
    data = json.loads(stream.readline().removeprefix(b"data: "))
    assert stream.readline() == b"\n"
    return kind, data
