"""The monitor's web server (stdlib ThreadingHTTPServer): the page and its static files from
the package, the state as JSON, live changes as Server-Sent Events, a guard's login, and what
a logged-in guard may ask: collect now and an exempt entry.

    GET  /                 the page (static/index.html); /static/<file> the rest
    GET  /api/state        {"gates": [tile], "events": [newest first], "sites": [inside now]}
    GET  /api/stream       text/event-stream: "state" (everything) first, then "gate", "event"
                           and "sites" changes; the browser's EventSource reconnects by itself
                           and gets the whole state again
    GET  /api/session      {"guard": NAME or null, "csrf", "logins": bool, "reasons": [...]}
    POST /api/login        {"name", "password"}: 200 {"guard", "csrf"} and the session cookie,
                           401 {"error"} (a lockout too, saying so)
    POST /api/logout       200 {}
    POST /api/collect      {"port": PATH} or {} for every gate: 202 {"ports": [...]}
    POST /api/exempt       {"port", "reason", "note"}: 200 {"reply": the gate's}, 400 a reason
                           or note refused, 404 no serial gate there, 502 the gate refused

Without a guard's login the state and the stream carry no Bluezone ID and no phone's address
(bzgate.monitor.privacy), and every POST but the login is refused (401). Every request's Host
must be a name the page is served under (421); every POST must come from the page itself, as
JSON (403), and a logged-in one must carry the session's CSRF token in X-CSRF-Token (403).

Connections: each waits at most idle_timeout_s for what the client sends (the stream reads
nothing, so only a page that stops reading what it is sent ends it that way), at most max_connections are served at once (one more is closed
at once, unanswered), and the listen backlog is BACKLOG.
"""

import json
import queue
import threading
from http import HTTPStatus
from http.cookies import CookieError, SimpleCookie
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from importlib import resources

from bzgate.exempt import REASONS, ExemptError
from bzgate.link.serial import LinkError
from bzgate.monitor import webchecks
from bzgate.monitor.access import Access
from bzgate.monitor.actions import NoDoorHere
from bzgate.monitor.privacy import for_anonymous
from bzgate.monitor.state import Board

KEEPALIVE_S = 15.0  # a comment line so proxies and the browser keep the stream open
RETRY_MS = 2000  # how soon EventSource reconnects after the server went away
MAX_BODY = 4096  # of a POST
IDLE_TIMEOUT_S = 10.0
MAX_CONNECTIONS = 64  # pages of every guard's tablet and desk, with room to spare
BACKLOG = 128
COOKIE = "bzgate_session"
CSRF_HEADER = "X-CSRF-Token"
_TYPES = {".html": "text/html; charset=utf-8", ".css": "text/css; charset=utf-8",
          ".js": "text/javascript; charset=utf-8", ".png": "image/png", ".svg": "image/svg+xml"}


class MonitorServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = BACKLOG

    def __init__(self, address: tuple[str, int], board: Board, actions, access: Access,
                 hostnames: tuple = (), idle_timeout_s: float = IDLE_TIMEOUT_S,
                 max_connections: int = MAX_CONNECTIONS):
        """actions: collect_now(port or None, by) -> the ports asked, and exempt(port, reason,
        note, by) -> the gate's reply (bzgate.monitor.actions.GateActions)."""
        super().__init__(address, _Handler)
        self.board, self.actions, self.access = board, actions, access
        self.names = webchecks.served_names(address[0], hostnames)
        self.idle_timeout_s, self.max_connections = idle_timeout_s, max_connections
        self.closing = threading.Event()
        self._count_lock = threading.Lock()
        self.connections = 0

    def shutdown(self) -> None:
        self.closing.set()  # ends the open streams
        super().shutdown()

    def process_request(self, request, client_address) -> None:
        with self._count_lock:
            full = self.connections >= self.max_connections
            if not full:
                self.connections += 1
        if full:
            self.shutdown_request(request)  # no thread, no answer: the page tries again
            return
        super().process_request(request, client_address)

    def process_request_thread(self, request, client_address) -> None:
        try:
            super().process_request_thread(request, client_address)
        finally:
            with self._count_lock:
                self.connections -= 1


def static_file(name: str) -> bytes | None:
    """A file of static/, or None (no path outside it)."""
    if not name or "/" in name or name.startswith("."):
        return None
    item = resources.files("bzgate").joinpath("monitor", "static", name)
    return item.read_bytes() if item.is_file() else None


class _Refused(Exception):
    def __init__(self, status: HTTPStatus, message: str):
        super().__init__(message)
        self.status, self.message = status, message


class _Handler(BaseHTTPRequestHandler):
    server: MonitorServer
    protocol_version = "HTTP/1.1"

    @property
    def timeout(self) -> float:  # read by StreamRequestHandler.setup() for the socket
        return self.server.idle_timeout_s

    def log_message(self, format, *args) -> None:  # noqa: A002 - the base class's name
        pass  # one line per request would drown the terminal

    # --- the checks every request goes through ---------------------------------------------
    def _host_served(self) -> bool:
        if webchecks.host_name(self.headers.get("Host")) in self.server.names:
            return True
        self.close_connection = True
        self._send(HTTPStatus.MISDIRECTED_REQUEST,
                   b"this monitor is not served under that name: open it at its own address "
                   b"(bzgate monitor --hostname NAME adds a name)\n", "text/plain")
        return False

    def _token(self) -> str | None:
        try:
            morsel = SimpleCookie(self.headers.get("Cookie", "")).get(COOKIE)
        except CookieError:
            return None
        return morsel.value if morsel else None

    def _session(self):
        return self.server.access.session(self._token())

    # --- GET ---------------------------------------------------------------------------
    def do_GET(self) -> None:
        if not self._host_served():
            return
        path = self.path.split("?", 1)[0]
        if path == "/api/state":
            state = self.server.board.snapshot()
            if self._session() is None:
                state = for_anonymous("state", state)
            self._json(HTTPStatus.OK, state)
        elif path == "/api/stream":
            self._stream()
        elif path == "/api/session":
            session = self._session()
            self._json(HTTPStatus.OK, {"guard": session.guard if session else None,
                                       "csrf": session.csrf if session else None,
                                       "logins": self.server.access.enabled,
                                       "reasons": list(REASONS)})
        else:
            name = "index.html" if path == "/" else path.removeprefix("/static/")
            body = static_file(name) if path == "/" or path.startswith("/static/") else None
            if body is None:
                self._send(HTTPStatus.NOT_FOUND, b"not found\n", "text/plain")
            else:
                self._send(HTTPStatus.OK, body, _TYPES.get("." + name.rsplit(".", 1)[-1],
                                                           "application/octet-stream"))

    # --- POST --------------------------------------------------------------------------
    def do_POST(self) -> None:
        if not self._host_served():
            return
        routes = {"/api/login": self._login, "/api/logout": self._logout,
                  "/api/collect": self._collect, "/api/exempt": self._exempt}
        try:
            route = routes.get(self.path)
            if route is None:
                raise _Refused(HTTPStatus.NOT_FOUND, "not found")
            if not (webchecks.same_origin(self.headers, self.headers["Host"])
                    and webchecks.is_json(self.headers)):
                raise _Refused(HTTPStatus.FORBIDDEN, "only the monitor's own page may ask this "
                                                     "(same origin, application/json)")
            asked = self._body()
            session = None
            if route != self._login:
                session = self._session()
                if session is None:
                    raise _Refused(HTTPStatus.UNAUTHORIZED, "log in as a guard first")
                if not webchecks.tokens_equal(self.headers.get(CSRF_HEADER), session.csrf):
                    raise _Refused(HTTPStatus.FORBIDDEN, "the page's CSRF token is missing or "
                                                         "wrong: reload the page")
            route(asked, session)
        except _Refused as e:
            self.close_connection = True  # a body left unread must not be taken for a request
            self._json(e.status, {"error": e.message})

    def _body(self) -> dict:
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            length = -1
        if not 0 <= length <= MAX_BODY:
            raise _Refused(HTTPStatus.BAD_REQUEST, f"a body of up to {MAX_BODY} bytes")
        try:
            asked = webchecks.parse_json(self.rfile.read(length))
        except ValueError as e:
            raise _Refused(HTTPStatus.BAD_REQUEST, f"not JSON: {e}"[:200]) from None
        if not isinstance(asked, dict):
            raise _Refused(HTTPStatus.BAD_REQUEST, "expected a JSON object")
        return asked

    def _login(self, asked: dict, _session) -> None:
        name, password = asked.get("name"), asked.get("password")
        if not isinstance(name, str) or not isinstance(password, str):
            raise _Refused(HTTPStatus.BAD_REQUEST, 'expected {"name", "password"}')
        token, refusal = self.server.access.login(name, password, self.client_address[0])
        if token is None:
            raise _Refused(HTTPStatus.UNAUTHORIZED, refusal)
        session = self.server.access.session(token)
        self._json(HTTPStatus.OK, {"guard": session.guard, "csrf": session.csrf},
                   cookie=f"{COOKIE}={token}; HttpOnly; SameSite=Strict; Path=/")

    def _logout(self, _asked: dict, _session) -> None:
        self.server.access.logout(self._token())
        self._json(HTTPStatus.OK, {},
                   cookie=f"{COOKIE}=; HttpOnly; SameSite=Strict; Path=/; Max-Age=0")

    def _collect(self, asked: dict, session) -> None:
        port = asked.get("port")
        if port is not None and not isinstance(port, str):
            raise _Refused(HTTPStatus.BAD_REQUEST, 'expected {"port": PATH} or {}')
        ports = self.server.actions.collect_now(port, by=session.guard)
        self._json(HTTPStatus.ACCEPTED if ports else HTTPStatus.NOT_FOUND, {"ports": ports})

    def _exempt(self, asked: dict, session) -> None:
        port, reason, note = asked.get("port"), asked.get("reason"), asked.get("note")
        if not (isinstance(port, str) and isinstance(reason, str)
                and (note is None or isinstance(note, str))):
            raise _Refused(HTTPStatus.BAD_REQUEST, 'expected {"port", "reason", "note"}')
        try:
            reply = self.server.actions.exempt(port, reason, note, by=session.guard)
        except ExemptError as e:
            raise _Refused(HTTPStatus.BAD_REQUEST, str(e)) from None
        except NoDoorHere:
            raise _Refused(HTTPStatus.NOT_FOUND, f"no gate on a serial link at {port}: a Wi-Fi "
                                                 "gate takes no door commands") from None
        except LinkError as e:
            raise _Refused(HTTPStatus.BAD_GATEWAY, f"the gate refused: {e}") from None
        self._json(HTTPStatus.OK, {"reply": reply})

    # --- answers -----------------------------------------------------------------------
    def _json(self, status: HTTPStatus, data: dict, cookie: str | None = None) -> None:
        self._send(status, json.dumps(data).encode(), "application/json", cookie)

    def _send(self, status: HTTPStatus, body: bytes, content_type: str,
              cookie: str | None = None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        if cookie is not None:
            self.send_header("Set-Cookie", cookie)
        self.end_headers()
        self.wfile.write(body)

    def _stream(self) -> None:
        token = self._token()
        logged_in = self._session() is not None
        self.send_response(HTTPStatus.OK)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Cache-Control", "no-store")
        self.send_header("Connection", "close")
        self.end_headers()
        self.close_connection = True
        changes = self.server.board.subscribe()
        try:
            self.wfile.write(f"retry: {RETRY_MS}\n\n".encode())
            while not self.server.closing.is_set():
                try:
                    kind, data = changes.get(timeout=KEEPALIVE_S)
                except queue.Empty:
                    self.wfile.write(b": keepalive\n\n")
                    self.wfile.flush()
                    continue
                # a login that expired or logged out meanwhile sees what anyone sees
                if not (logged_in and self.server.access.sessions.get(token)):
                    data = for_anonymous(kind, data)
                self.wfile.write(f"event: {kind}\ndata: {json.dumps(data)}\n\n".encode())
                self.wfile.flush()
        except OSError:  # the page was closed
            pass
        finally:
            self.server.board.unsubscribe(changes)
