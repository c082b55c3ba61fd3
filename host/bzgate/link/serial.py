"""The host's end of a gate's serial link (framing: bzcore.wire; commands: gate/hostlink.py).

    with GateLink("/dev/ttyUSB0") as gate:
        gate.hello()                      # {"firmware", "gate_id", "mpy", "board_id"}
        gate.request("STATUS")            # any command: its reply's JSON
        gate.time_set()                   # the host's UTC now
        gate.config_set({"mode": "monitor"})
        for raw in gate.pull(0): ...      # 48-byte journal records, chunk by chunk
        gate.ack(seq)
        gate.key_prove(nonce); gate.outputs_test()   # provisioning's verify

Opening the port does not reset the board: DTR and RTS are set low before open()
(docs/esp32-notes.md, note 25; pyserial itself skips those ioctls on ports without modem lines,
such as ptys). One request at a time, each waiting for its reply (the board's input ring is
small: docs/esp32-notes.md, note 24). Lines that are not a reply to the request in hand (console
prints, a cancelled stream, garbage) are skipped; a reply that fails its checksum, a timeout or
a board that says its copy was garbled is retried with a fresh id. The link never sends Ctrl-C.
"""

import errno
import glob
import json
import os
import secrets
import time
from collections.abc import Iterator

import serial

from bzcore import wire, wirehost

DEFAULT_BAUD = 115200
DEFAULT_TIMEOUT = 3.0
RETRIES = 3
EXEMPT_TOKEN_BYTES = 4  # tells the gate a resent EXEMPT from a new one
_RETRY_CODES = (wire.ERR_CRC, wire.ERR_FORMAT, wire.ERR_TOO_LONG)  # the request arrived damaged


class LinkError(Exception):
    """The gate refused a request (code from bzcore.wire, its message, the reply's data) or
    could not be reached (code "no-reply" / "port", or "busy": another bzgate process holds it)."""

    def __init__(self, code: str, message: str, data: dict | None = None):
        super().__init__(f"{code}: {message}")
        self.code, self.message, self.data = code, message, data or {}


def open_port(path: str, baud: int = DEFAULT_BAUD, exclusive: bool = False) -> serial.Serial:
    """The port, opened without resetting the board; `exclusive` takes its flock, so that a
    second bzgate process (collect while a monitor runs) gets LinkError "busy"."""
    port = serial.Serial()
    port.port, port.baudrate, port.timeout = path, baud, 0.2
    port.dtr = False  # before open(): opening must not pulse the board's EN / IO0
    port.rts = False
    port.exclusive = exclusive or None  # None: no flock call at all
    try:
        port.open()
    except (OSError, serial.SerialException) as e:
        if getattr(e, "errno", None) in (errno.EAGAIN, errno.EWOULDBLOCK):
            raise LinkError("busy", f"{path} is held by {_holder(path)}") from e
        raise LinkError("port", f"cannot open {path}: {e}") from e
    return port


def _holder(path: str) -> str:
    """Who holds a port, as far as /proc tells (Linux), for the "busy" message."""
    target, others = os.path.realpath(path), []
    for fd in glob.glob("/proc/[0-9]*/fd/*"):
        pid = fd.split("/")[2]
        try:
            if pid == str(os.getpid()) or os.readlink(fd) != target:
                continue
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                words = f.read().split(b"\0")
        except OSError:
            continue
        if b"monitor" in words:
            return f"a running bzgate monitor (pid {pid})"
        others.append(pid)
    return f"another program (pid {others[0]})" if others else "another program"


class GateLink:
    def __init__(self, path: str, baud: int = DEFAULT_BAUD, timeout: float = DEFAULT_TIMEOUT,
                 retries: int = RETRIES, exclusive: bool = False):
        self.port = open_port(path, baud, exclusive)
        self.timeout, self.retries = timeout, retries
        self._next_id = int(time.time()) % wire.ID_MAX + 1  # ids of an earlier session differ
        self._buffer = bytearray()
        self._stream_id = 0  # the last EVENTS request's id
        self._late: list[dict] = []  # its events that came after events() stopped reading
        self.skipped = 0  # lines read that were not the awaited reply

    def __enter__(self) -> "GateLink":
        return self

    def __exit__(self, *_exc) -> None:
        self.close()

    def close(self) -> None:
        self.port.close()

    # --- lines ------------------------------------------------------------------------
    def _new_id(self) -> int:
        req_id = self._next_id
        self._next_id = req_id % wire.ID_MAX + 1
        return req_id

    def _read_line(self, deadline: float) -> bytes | None:
        while b"\n" not in self._buffer:
            if time.monotonic() >= deadline:
                return None
            self._buffer += self.port.read(max(1, self.port.in_waiting))
        line, _, rest = bytes(self._buffer).partition(b"\n")
        self._buffer[:] = rest
        return line

    def _reply_for(self, req_id: int, deadline: float,
                   statuses: tuple = (wire.OK, wire.ERR)) -> tuple[str, object] | None:
        """(status, data) of the next line answering req_id (or id 0: a garbled request)."""
        while (line := self._read_line(deadline)) is not None:
            got_id, status, data, error = wirehost.parse_reply(line)
            if error is None and status in statuses and got_id in (req_id, 0):
                return status, data
            if error is None and status == wire.EV and got_id == self._stream_id and isinstance(data, dict):
                self._late.append(data)  # sent before the gate saw the request ending its stream
                continue
            self.skipped += 1
        return None

    def _send(self, command: str, args: str) -> int:
        if any(ord(c) < 32 or ord(c) == 127 for c in args):
            raise ValueError("control characters in a request")
        req_id = self._new_id()
        line = wirehost.request(req_id, command, args)
        if len(line) > wire.REQUEST_MAX:
            raise ValueError(f"{command} request of {len(line)} bytes; the gate takes {wire.REQUEST_MAX}")
        self.port.write(line)
        self.port.flush()
        return req_id

    # --- requests ---------------------------------------------------------------------
    def request(self, command: str, args: str = "") -> object:
        """The data of the gate's OK reply; LinkError for an ERR reply or no reply at all."""
        last = LinkError("no-reply", f"no reply to {command} from {self.port.port}: is the gate running?")
        for _ in range(1 + self.retries):
            req_id = self._send(command, args)
            answer = self._reply_for(req_id, time.monotonic() + self.timeout)
            if answer is None:
                continue
            status, data = answer
            if status == wire.OK:
                return data
            info = data if isinstance(data, dict) else {}
            last = LinkError(str(info.get("error", "format")), str(info.get("message", "")), info)
            if status != wire.ERR or last.code not in _RETRY_CODES:
                raise last
        raise last

    def hello(self) -> dict:
        """The gate's names; a new session: events from before are dropped here and on the gate."""
        self._late = []
        return self._object(self.request("HELLO"))

    def status(self) -> dict:
        return self._object(self.request("STATUS"))

    def time_set(self, unix_seconds: int | None = None) -> dict:
        t = int(time.time()) if unix_seconds is None else unix_seconds
        return self._object(self.request("TIME SET", str(t)))

    def config_get(self) -> dict:
        return self._object(self._object(self.request("CONFIG GET"))["config"])

    def config_set(self, fields: dict) -> dict:
        """Change fields as one whole: staged over as many lines as they need, applied by the
        last. LinkError code "refused" carries data["errors"], one per field."""
        chunks: list[dict] = [{}]
        for name, value in _line_sized_parts(fields):
            trial = {**chunks[-1], name: value}
            if _fits(trial):
                chunks[-1] = trial
            else:
                chunks.append({name: value})
        for chunk in chunks[:-1]:
            self.request("CONFIG STAGE", _compact(chunk))
        return self._object(self.request("CONFIG SET", _compact(chunks[-1])))

    def key_prove(self, nonce: bytes) -> str:
        """The gate's proof (hex) that it holds its key: HMAC-SHA256(key, KEY_PROOF_TAG + nonce)."""
        return str(self._object(self.request("KEY PROVE", nonce.hex())).get("proof", ""))

    def outputs_test(self) -> dict:
        """Each output cycled on the gate: {role: the pin followed} (the door opens briefly)."""
        return self._object(self._object(self.request("OUTPUTS TEST")).get("outputs"))

    def exempt(self, reason: str) -> dict:
        """Let a person without a smartphone in now, on the guard's word (reason: one of
        bzcore.record.REASON_CODES): {"verdict": "exempt", "reason", "n", "seq", "board_id"}.
        LinkError code "bad-reason" for an unknown reason, "count-mode" on a counting gate.
        A retry after a lost reply carries the same token: the gate answers it without opening
        the door a second time."""
        return self._object(self.request("EXEMPT", f"{reason} {secrets.token_hex(EXEMPT_TOKEN_BYTES)}"))

    def pull(self, seq: int) -> Iterator[bytes]:
        """Journal records from seq on, chunk by chunk, until the gate has no more."""
        while True:
            data = self._object(self.request("LOG PULL", str(seq)))
            records = wirehost.records_from_text(data["records"])
            if not records:
                return
            yield from records
            # Always forward: a journal whose seq fields were tampered with must not loop.
            seq = max(int(data["next"]), seq + len(records))

    def ack(self, seq: int) -> dict:
        return self._object(self.request("LOG ACK", str(seq)))

    def events(self, seconds: float) -> Iterator[dict]:
        """Live decisions and alarms for `seconds`, then the stream is ended. Those the gate sent
        as the stream ended come first in the next call, then the ones it kept meanwhile: across
        calls, nothing is missed (a HELLO starts afresh)."""
        late, self._late = self._late, []
        yield from late
        req_id = self._stream_id = self._send("EVENTS", "")
        deadline = time.monotonic() + seconds
        while (answer := self._reply_for(req_id, deadline, wirehost.STATUSES)) is not None:
            status, data = answer
            if status == wire.EV and isinstance(data, dict):
                yield data
            elif status == wire.ERR:
                raise LinkError("events", str(data))
        # Any request ends the stream; not HELLO, which would drop what the gate queued meanwhile.
        self.request("STATUS")

    @staticmethod
    def _object(data: object) -> dict:
        if not isinstance(data, dict):
            raise LinkError("format", f"expected a JSON object, got {data!r}")
        return data


def _compact(fields: dict) -> str:
    return json.dumps(fields, separators=(",", ":"), ensure_ascii=False)


def _fits(fields: dict) -> bool:
    return len(wirehost.request(wire.ID_MAX, "CONFIG STAGE", _compact(fields))) <= wire.REQUEST_MAX


def _line_sized_parts(fields: dict) -> Iterator[tuple[str, object]]:
    """(name, value) pairs, a map too long for one line split into "name.key" parts."""
    for name, value in fields.items():
        if isinstance(value, dict) and not _fits({name: value}):
            for key, part in value.items():
                yield f"{name}.{key}", part
        else:
            yield name, value
