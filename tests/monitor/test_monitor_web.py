"""The monitor's web server on its own (no gates, no browser): the page and its files come
from the package, nothing outside it is served, the event stream starts with the whole state
then follows changes; a guard logs in (a lockout after repeated failures), and only a logged-in
guard's page may collect now or open a door, from the page itself (its Host, its Origin, JSON,
its CSRF token); a page without a login gets no Bluezone ID; a body nested too deep is a 400;
idle connections are bounded and closed."""

import http.client
import json
import select
import socket
import threading
import urllib.request

import pytest
from gatekit import wait_until
from monitorkit import guards_file

from bzgate.exempt import ExemptError
from bzgate.link.serial import LinkError
from bzgate.monitor.access import Access
from bzgate.monitor.actions import NoDoorHere
from bzgate.monitor.auditlog import AuditLog
from bzgate.monitor.guards import Guards
from bzgate.monitor.lockout import FAILURES_MAX
from bzgate.monitor.state import Board
from bzgate.monitor.web import MonitorServer
from bzgate import store

PORT = "/dev/ttyUSB0"
WIFI = "bzgate/side"
PASSWORDS = {"lan": "cổng-chính-1", "minh": "cổng-phụ-22", "tuan": "cổng-sau-333"}
ID = "130CEA6472130C185D8643DF"


class FakeActions:
    """What the page asks of the gates, kept; exempt answers as the gate on PORT would."""

    def __init__(self):
        self.asked = []

    def collect_now(self, port, by):
        ports = [p for p in (PORT,) if port in (None, "", p)]
        self.asked.append(("collect", ports, by))
        return ports

    def exempt(self, port, reason, note, by):
        self.asked.append(("exempt", port, reason, note, by))
        if port == WIFI:
            raise NoDoorHere(port)
        if reason == "staff-override" and not note:
            raise ExemptError("a staff-override needs a note")
        if reason == "count-mode":
            raise LinkError("count-mode", "a counting gate opens no door")
        return {"verdict": "exempt", "reason": reason, "n": 3, "seq": 9, "board_id": "ab"}


def serve(tmp_path, **options):
    board = Board()
    board.add_gate(PORT, "front", "Tòa nhà A")
    actions = FakeActions()
    db = tmp_path / "m.db"
    access = Access(Guards(guards_file(tmp_path, PASSWORDS)), AuditLog(db))
    server = MonitorServer(("127.0.0.1", 0), board, actions, access, **options)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, board, actions, db


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    server, board, actions, db = serve(tmp_path_factory.mktemp("web"))
    yield Client(server.server_address[1]), board, actions, db
    server.shutdown()
    server.server_close()


class Client:
    """HTTP as the page sends it (its Host and Origin, JSON, its cookie and CSRF token), every
    part of which a test may change."""

    def __init__(self, port: int):
        self.port, self.host = port, f"127.0.0.1:{port}"
        self.cookie, self.csrf = None, None

    def request(self, method, path, body=None, **headers):
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=5)
        sent = {"Host": self.host}
        if method == "POST":
            sent.update({"Origin": f"http://{self.host}", "Content-Type": "application/json"})
            if self.csrf:
                sent["X-CSRF-Token"] = self.csrf
        if self.cookie:
            sent["Cookie"] = self.cookie
        sent.update({k.replace("_", "-"): v for k, v in headers.items()})
        data = body if isinstance(body, bytes) or body is None else json.dumps(body).encode()
        conn.putrequest(method, path, skip_host=True, skip_accept_encoding=True)
        for name, value in sent.items():
            if value is not None:
                conn.putheader(name, value)
        conn.putheader("Content-Length", str(len(data or b"")))
        conn.endheaders(data)
        reply = conn.getresponse()
        content = reply.read()
        conn.close()
        kind = reply.headers.get("Content-Type", "")
        return reply.status, json.loads(content) if kind == "application/json" else content, reply

    def post(self, path, body=None, **headers):
        status, data, _ = self.request("POST", path, {} if body is None else body, **headers)
        return status, data

    def login(self, name="lan", password=None):
        status, data, reply = self.request("POST", "/api/login",
                                           {"name": name, "password": password or PASSWORDS[name]})
        if status == 200:
            self.cookie = reply.headers["Set-Cookie"].split(";")[0]
            self.csrf = data["csrf"]
        return status, data, reply


def logged_in(server, name="lan") -> Client:
    client = Client(server[0].port)
    assert client.login(name)[0] == 200
    return client


def audit_rows(db, action):
    conn = store.open_store(db)
    try:
        return [json.loads(detail) for (detail,) in conn.execute(
            "SELECT detail FROM audit WHERE action = ? ORDER BY rowid", (action,)).fetchall()]
    finally:
        conn.close()


def test_the_page_and_its_files_come_from_the_package_and_nothing_else(server):
    client = server[0]
    status, body, reply = client.request("GET", "/")
    assert status == 200 and reply.headers["Content-Type"].startswith("text/html")
    assert b'src="/static/app.js"' in body
    assert b"http" not in body.replace(b'http-equiv', b"")  # no CDN, no web font
    assert client.request("GET", "/static/app.js")[2].headers["Content-Type"].startswith(
        "text/javascript")
    for path in ("/static/../monitorweb.py", "/static/.hidden", "/static/nope.js", "/etc/passwd"):
        assert client.request("GET", path)[0] == 404


def test_the_stream_sends_the_whole_state_then_changes(server):
    client, board, _, _ = server
    with open_stream(client) as stream:
        kind, state = next_message(stream)
        assert kind == "state" and [g["gate_id"] for g in state["gates"]] == ["front"]
        assert state["sites"] == [{"site": "Tòa nhà A", "inside": 0}]
        board.hello(PORT, {"gate_id": "front", "board_id": "ab"}, {"site": "Cổng sau"})
        changes = [next_message(stream) for _ in range(3)]
        assert changes[0] == ("event", {**changes[0][1], "kind": "online", "gate_id": "front"})
        assert changes[1][0] == "gate" and changes[1][1]["site"] == "Cổng sau"
        assert changes[2] == ("sites", [{"site": "Cổng sau", "inside": 0}])


def test_a_guard_logs_in_with_an_httponly_strict_cookie_and_logs_out(server):
    client, _, _, db = server
    assert client.request("GET", "/api/session")[1]["guard"] is None
    status, data, reply = client.login("minh")
    assert status == 200 and data["guard"] == "minh" and len(data["csrf"]) >= 32
    cookie = reply.headers["Set-Cookie"]
    assert {"HttpOnly", "SameSite=Strict", "Path=/"} <= {part.strip() for part in cookie.split(";")}
    assert len(client.cookie.split("=", 1)[1]) >= 32  # a random token, not the name
    session = client.request("GET", "/api/session")[1]
    assert session["guard"] == "minh" and session["csrf"] == data["csrf"]
    assert session["reasons"] == ["no-smartphone", "paper-declaration", "staff-override"]
    assert client.post("/api/logout") == (200, {})
    assert client.post("/api/collect") == (401, {"error": "log in as a guard first"})
    assert [row["by"] for row in audit_rows(db, "guard-login")][-1] == "minh"
    assert audit_rows(db, "guard-logout")[-1]["by"] == "minh"


def test_a_wrong_password_is_refused_and_repeated_failures_lock_the_name(server):
    client, _, _, db = server
    stranger = Client(client.port)
    status, data, _ = stranger.login("tuan", "wrong-password")
    assert (status, data) == (401, {"error": "wrong name or password"})
    assert stranger.login("nobody", "wrong-password")[1] == {"error": "wrong name or password"}
    for _ in range(FAILURES_MAX - 1):
        status, data, _ = stranger.login("tuan", "wrong-password")
    assert status == 401 and "locked for 5 minutes" in data["error"]
    status, data, _ = stranger.login("tuan")  # the right password, locked all the same
    assert status == 401 and "locked" in data["error"] and stranger.cookie is None
    assert logged_in(server, "minh")  # another guard from the same computer still can
    failed = audit_rows(db, "guard-login-failed")
    assert [row["by"] for row in failed][-FAILURES_MAX - 1:] == ["tuan", "nobody"] + ["tuan"] * 4
    assert audit_rows(db, "guard-lockout")[-1]["by"] == "tuan"
    assert audit_rows(db, "guard-login-locked")[-1]["by"] == "tuan"


def test_posts_without_a_login_are_refused(server):
    client, _, actions, _ = server
    anonymous = Client(client.port)
    asked = len(actions.asked)
    for path in ("/api/collect", "/api/exempt", "/api/logout"):
        assert anonymous.post(path, {"port": PORT, "reason": "no-smartphone"})[0] == 401
    assert len(actions.asked) == asked


def test_collect_now_takes_one_gate_or_all_and_refuses_nonsense(server):
    client, _, actions, db = server
    guard = logged_in(server)
    assert guard.post("/api/collect") == (202, {"ports": [PORT]})
    assert guard.post("/api/collect", {"port": PORT}) == (202, {"ports": [PORT]})
    assert guard.post("/api/collect", {"port": "/dev/none"}) == (404, {"ports": []})
    assert guard.post("/api/collect", b"not json")[0] == 400
    assert guard.post("/api/collect", {"port": 7})[0] == 400
    assert guard.post("/api/collect", [])[0] == 400
    assert guard.post("/api/collect", b"{}" + b" " * 5000)[0] == 400  # not "all gates"
    assert [a for a in actions.asked if a[0] == "collect"][-3:] == [
        ("collect", [PORT], "lan"), ("collect", [PORT], "lan"), ("collect", [], "lan")]


def test_exempt_opens_a_serial_gates_door_for_a_guard_and_says_why_not_otherwise(server):
    _, _, actions, _ = server
    guard = logged_in(server)
    assert guard.post("/api/exempt", {"port": PORT, "reason": "paper-declaration"}) == (
        200, {"reply": {"verdict": "exempt", "reason": "paper-declaration", "n": 3, "seq": 9,
                        "board_id": "ab"}})
    assert actions.asked[-1] == ("exempt", PORT, "paper-declaration", None, "lan")
    status, data = guard.post("/api/exempt", {"port": PORT, "reason": "staff-override"})
    assert status == 400 and "needs a note" in data["error"]
    status, data = guard.post("/api/exempt", {"port": WIFI, "reason": "no-smartphone"})
    assert status == 404 and "Wi-Fi gate takes no door commands" in data["error"]
    status, data = guard.post("/api/exempt", {"port": PORT, "reason": "count-mode"})
    assert status == 502 and "count-mode" in data["error"]
    assert guard.post("/api/exempt", {"port": PORT, "reason": 4})[0] == 400
    assert guard.post("/api/exempt", {"port": PORT, "reason": "no-smartphone", "note": 1})[0] == 400


def test_a_request_under_another_host_name_is_refused(server):
    client = server[0]
    for path in ("/api/state", "/api/session", "/"):
        assert client.request("GET", path, Host="attacker.example")[0] == 421
        assert client.request("GET", path, Host=f"attacker.example:{client.port}")[0] == 421
        assert client.request("GET", path, Host=None)[0] == 421
    assert client.request("GET", "/api/state", Host=f"localhost:{client.port}")[0] == 200
    assert client.request("GET", "/api/state", Host=f"[::1]:{client.port}")[0] == 200
    guard = logged_in(server)
    assert guard.post("/api/collect", Host="attacker.example")[0] == 421


def test_a_cross_site_post_is_refused(server):
    guard = logged_in(server)
    for headers in ({"Origin": "http://attacker.example"},
                    {"Origin": f"http://attacker.example:{guard.port}"},
                    {"Origin": f"https://{guard.host}"},
                    {"Origin": None},  # neither Origin nor Referer
                    {"Origin": None, "Referer": "http://attacker.example/page"},
                    {"Content_Type": "text/plain"},  # a form of another site can send this
                    {"Content_Type": "application/x-www-form-urlencoded"}):
        status, data = guard.post("/api/collect", **headers)
        assert status == 403 and "same origin" in data["error"], headers
    status, _ = guard.post("/api/collect", Origin=None, Referer=f"http://{guard.host}/")
    assert status == 202
    anonymous = Client(guard.port)
    status, _ = anonymous.post("/api/login", {"name": "lan", "password": PASSWORDS["lan"]},
                               Origin="http://attacker.example")
    assert status == 403 and anonymous.cookie is None


def test_a_guards_post_without_the_pages_csrf_token_is_refused(server):
    guard = logged_in(server)
    token = guard.csrf
    guard.csrf = None
    assert guard.post("/api/collect")[0] == 403
    guard.csrf = "x" * len(token)
    status, data = guard.post("/api/exempt", {"port": PORT, "reason": "no-smartphone"})
    assert status == 403 and "CSRF" in data["error"]
    other = logged_in(server, "minh")
    guard.csrf = other.csrf  # another session's token
    assert guard.post("/api/collect")[0] == 403
    guard.csrf = token
    assert guard.post("/api/collect")[0] == 202


def test_a_body_nested_too_deep_is_a_clear_400_and_the_server_goes_on(server):
    guard = logged_in(server)
    for body in (b"[" * 2000, b'{"a":[' * 600):
        status, data = guard.post("/api/collect", body)
        assert status == 400 and "nested too deep" in data["error"]
    assert guard.request("GET", "/api/state")[0] == 200


def test_a_page_without_a_login_gets_no_bluezone_id_nor_address(server):
    client, board, _, _ = server
    board.event(PORT, {"n": 1, "verdict": "allow", "id": ID, "rssi": -58, "platform": "android"})
    board.event(PORT, {"n": 2, "verdict": "allow", "id": None, "addr": "7a1b2c3d4e5f",
                       "rssi": -61, "platform": "ios"})
    anonymous = Client(client.port)
    status, body, _ = anonymous.request("GET", "/api/state")
    shown = json.dumps(body)
    assert status == 200 and ID not in shown and "7a1b2c3d4e5f" not in shown
    assert '"id"' not in shown and '"addr"' not in shown
    assert body["gates"][0]["last"]["platform"] == "ios"  # what the tile shows stays
    assert [e["verdict"] for e in body["events"] if e["kind"] == "decision"][:2] == ["allow"] * 2
    guard = logged_in(server)
    shown = json.dumps(guard.request("GET", "/api/state")[1])
    assert ID in shown and "7a1b2c3d4e5f" in shown
    for n, (viewer, sees) in enumerate(((anonymous, False), (guard, True)), 3):
        stream = open_stream(viewer)
        kind, state = next_message(stream)
        board.event(PORT, {"n": n, "verdict": "allow", "id": ID, "rssi": -50,
                           "platform": "android"})
        messages = [next_message(stream) for _ in range(3)]  # the event, the tile, the sites
        stream.close()
        text = json.dumps([state, messages])
        assert kind == "state" and (ID in text) is sees and ("7a1b2c3d4e5f" in text) is sees


def open_stream(client: Client):
    request = urllib.request.Request(f"http://{client.host}/api/stream",
                                     headers={"Cookie": client.cookie} if client.cookie else {})
    stream = urllib.request.urlopen(request, timeout=5)
    assert stream.headers["Content-Type"] == "text/event-stream"
    assert stream.readline() == b"retry: 2000\n" and stream.readline() == b"\n"
    return stream


def next_message(stream) -> tuple[str, dict]:
    kind = stream.readline().removeprefix(b"event: ").strip().decode()
    data = json.loads(stream.readline().removeprefix(b"data: "))
    assert stream.readline() == b"\n"
    return kind, data


def closed_by_server(sockets) -> int:
    """How many of these connections the server has closed (it never sent them a byte)."""
    readable, _, _ = select.select(sockets, [], [], 0)
    return len(readable)


def test_idle_connections_are_bounded_and_closed(tmp_path):
    bound, idle_s = 20, 4.0
    server, _, _, _ = serve(tmp_path, idle_timeout_s=idle_s, max_connections=bound)
    threads_before = threading.active_count()
    idle = [socket.create_connection(server.server_address, timeout=10) for _ in range(150)]
    try:
        # Past the bound, a connection is closed at once, unanswered: no thread for it.
        assert wait_until(lambda: closed_by_server(idle) >= 150 - bound, idle_s - 1), \
            f"{closed_by_server(idle)} of 150 idle connections closed"
        assert threading.active_count() <= threads_before + bound
        # And the ones served are closed once idle for idle_s.
        assert wait_until(lambda: closed_by_server(idle) == 150, idle_s + 5), \
            f"{closed_by_server(idle)} of 150 idle connections closed"
        assert wait_until(lambda: threading.active_count() <= threads_before, 5)
        with urllib.request.urlopen(f"http://127.0.0.1:{server.server_address[1]}/api/state",
                                    timeout=5) as reply:
            assert reply.status == 200  # served as ever once they are gone
    finally:
        for sock in idle:
            sock.close()
        server.shutdown()
        server.server_close()
