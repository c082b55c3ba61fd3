"""A scripted MQTT broker for the client's tests: it answers CONNECT, SUBSCRIBE, QoS 1
PUBLISH and PINGREQ as a broker does, except where a connection's plan puts other bytes in
place of an answer (garbage, or b"" to close the connection there), and keeps each
connection's packets.

    with FakeBroker([{SUBSCRIBE: b"\\xf0\\x00"}]) as broker:   # the first connection gets garbage
        ...                                                  # the next ones a broker's answers
        broker.connections[-1]                               # [packet bytes, ...]
"""

import contextlib
import socket
import threading
import time

CONNECT, PUBLISH, SUBSCRIBE, PINGREQ, DISCONNECT = 0x10, 0x30, 0x80, 0xC0, 0xE0


def length(n: int) -> bytes:
    """MQTT's remaining length (the reference the firmware's is tested against)."""
    out = bytearray()
    while True:
        n, low = divmod(n, 128)
        out.append(low | (0x80 if n else 0))
        if not n:
            return bytes(out)


def packet(kind: int, body: bytes) -> bytes:
    return bytes([kind]) + length(len(body)) + body


def publish(topic: bytes, payload: bytes, pid: int = 0, retain: bool = False) -> bytes:
    head = len(topic).to_bytes(2, "big") + topic + (pid.to_bytes(2, "big") if pid else b"")
    return packet(PUBLISH | (2 if pid else 0) | retain, head + payload)


def _read_packet(stream) -> bytes | None:
    """The next packet from the socket's file (reads wait for all they ask), or None at its end."""
    got = stream.read(2)
    while len(got) >= 2 and got[-1] & 0x80 and len(got) < 5:
        more = stream.read(1)
        if not more:
            return None
        got += more
    if len(got) < 2:
        return None
    n = shift = 0
    for byte in got[1:]:
        n |= (byte & 0x7F) << shift
        shift += 7
    body = stream.read(n)
    return got + body if len(body) == n else None


class FakeBroker:
    def __init__(self, plans=(), retained: bytes | None = None):
        self.plans = list(plans)  # per connection, in order: {packet type: bytes instead of its answer}
        self.retained = retained  # a PUBLISH sent after each SUBACK (the host's retained ack)
        self.connections: list[list[bytes]] = []
        self.accepted_at: list[float] = []  # time.monotonic() of each connection's start
        self._server = socket.create_server(("127.0.0.1", 0))
        self.port = self._server.getsockname()[1]
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._talking: socket.socket | None = None

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        # shutdown, not close alone, ends a blocked accept or read (else it goes on listening)
        for sock in (self._server, self._talking):
            if sock is not None:
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)
        self._thread.join()
        self._server.close()

    def _serve(self):
        while True:
            try:
                conn, _ = self._server.accept()
            except OSError:  # shut down: the test is over
                return
            self.accepted_at.append(time.monotonic())
            self._talking = conn
            with conn, conn.makefile("rb") as stream, contextlib.suppress(OSError):  # or a reset
                self._talk(conn, stream, self.plans.pop(0) if self.plans else {})
            self._talking = None

    def _talk(self, conn: socket.socket, stream, plan: dict):
        packets: list[bytes] = []
        self.connections.append(packets)
        while True:
            got = _read_packet(stream)
            if got is None or got[0] == DISCONNECT:
                return
            packets.append(got)
            kind = got[0] & 0xF0
            if kind in plan:
                if not plan[kind]:
                    return
                conn.sendall(plan[kind])
                continue
            body = body_of(got)
            if kind == CONNECT:
                conn.sendall(b"\x20\x02\x00\x00")
            elif kind == SUBSCRIBE:
                conn.sendall(b"\x90\x03" + body[:2] + b"\x01")
                if self.retained:
                    conn.sendall(self.retained)
            elif kind == PUBLISH and got[0] & 0x06:
                at = 2 + int.from_bytes(body[:2], "big")
                conn.sendall(b"\x40\x02" + body[at:at + 2])
            elif kind == PINGREQ:
                conn.sendall(b"\xd0\x00")


def body_of(got: bytes) -> bytes:
    """A packet's bytes after its fixed header."""
    at = 1
    while got[at] & 0x80:
        at += 1
    return got[at + 1:]
