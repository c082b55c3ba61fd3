"""The monitor's web server (stdlib ThreadingHTTPServer): the page and its static files from
the package, the state as JSON, live changes as Server-Sent Events, and "collect now".

    GET  /                 the page (static/index.html); /static/<file> the rest
    GET  /api/state        {"gates": [tile], "events": [newest first]}
    GET  /api/stream       text/event-stream: "state" (everything) first, then "gate" and
                           "event" changes; the browser's EventSource reconnects by itself
                           and gets the whole state again
    POST /api/collect      {"port": PATH} or {} for every gate: 202 {"ports": [...]}
"""

import json
import queue
import threading
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from importlib import resources

from bzgate.monitor.state import Board

KEEPALIVE_S = 15.0  # a comment line so proxies and the browser keep the stream open
RETRY_MS = 2000  # how soon EventSource reconnects after the server went away
MAX_BODY = 4096  # of a "collect now" request
_TYPES = {".html": "text/html; charset=utf-8", ".css": "text/css; charset=utf-8",
          ".js": "text/javascript; charset=utf-8", ".png": "image/png", ".svg": "image/svg+xml"}


class MonitorServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], board: Board, collect_now):
        """collect_now(port or None) -> the ports asked to collect."""
        super().__init__(address, _Handler)
        self.board, self.collect_now = board, collect_now
        self.closing = threading.Event()

    def shutdown(self) -> None:
        self.closing.set()  # ends the open streams
        super().shutdown()


def static_file(name: str) -> bytes | None:
    """A file of static/, or None (no path outside it)."""
    if not name or "/" in name or name.startswith("."):
        return None
    item = resources.files("bzgate").joinpath("monitor", "static", name)
    return item.read_bytes() if item.is_file() else None


class _Handler(BaseHTTPRequestHandler):
    server: MonitorServer
    protocol_version = "HTTP/1.1"

    def log_message(self, format, *args) -> None:  # noqa: A002 - the base class's name
        pass  # one line per request would drown the terminal

    def do_GET(self) -> None:
        path = self.path.split("?", 1)[0]
        if path == "/api/state":
            self._send(HTTPStatus.OK, json.dumps(self.server.board.snapshot()).encode(),
                       "application/json")
        elif path == "/api/stream":
            self._stream()
        else:
            name = "index.html" if path == "/" else path.removeprefix("/static/")
            body = static_file(name) if path == "/" or path.startswith("/static/") else None
            if body is None:
                self._send(HTTPStatus.NOT_FOUND, b"not found\n", "text/plain")
            else:
                self._send(HTTPStatus.OK, body, _TYPES.get("." + name.rsplit(".", 1)[-1],
                                                           "application/octet-stream"))

    def do_POST(self) -> None:
        if self.path != "/api/collect":
            self._send(HTTPStatus.NOT_FOUND, b"not found\n", "text/plain")
            return
        try:
            length = int(self.headers.get("Content-Length") or 0)
            if not 0 <= length <= MAX_BODY:
                raise ValueError("size")
            asked = json.loads(self.rfile.read(length) or b"{}")
            port = asked.get("port") if isinstance(asked, dict) else 0
            if port is not None and not isinstance(port, str):
                raise ValueError("port")
        except ValueError:
            self.close_connection = True  # a body left unread must not be taken for a request
            self._send(HTTPStatus.BAD_REQUEST, b'{"error": "expected {\\"port\\": PATH} or {}"}',
                       "application/json")
            return
        ports = self.server.collect_now(port)
        status = HTTPStatus.ACCEPTED if ports else HTTPStatus.NOT_FOUND
        self._send(status, json.dumps({"ports": ports}).encode(), "application/json")

    def _send(self, status: HTTPStatus, body: bytes, content_type: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        self.wfile.write(body)

    def _stream(self) -> None:
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
                self.wfile.write(f"event: {kind}\ndata: {json.dumps(data)}\n\n".encode())
                self.wfile.flush()
        except OSError:  # the page was closed
            pass
        finally:
            self.server.board.unsubscribe(changes)
