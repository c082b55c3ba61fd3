# Board side of a virtual-board link (MicroPython, virtual board only; never deployed).
#
# A link is a TCP connection to a host-side simulator process (the board's bridge or the
# air). Frames: 2-byte big-endian length N, then N bytes = 1 byte message type + payload.
# A reader thread receives frames and schedules their delivery on the main interpreter
# thread (micropython.schedule), so handlers run between bytecodes, as ESP32 IRQs do, and
# wake asyncio through a ThreadSafeFlag. Handlers get a memoryview valid only during the
# call: the frame buffer is overwritten afterwards, like NimBLE's event buffers.
import _thread
import micropython
import os
import usocket as socket  # the board's own wire, not its Wi-Fi (the `socket` shim)

_IPPROTO_TCP = 6  # the unix port's socket module lacks these names
_TCP_NODELAY = 1


def env_address(name):
    """host:port from an environment variable, or None when the simulator did not set it."""
    value = os.getenv(name)
    if not value:
        return None
    host, port = value.rsplit(":", 1)
    return host, int(port)


class Link:
    def __init__(self, address, on_message):
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._sock.connect(socket.getaddrinfo(address[0], address[1])[0][-1])
        self._sock.setsockopt(_IPPROTO_TCP, _TCP_NODELAY, 1)  # a frame leaves when sent
        self._on_message = on_message
        self._lock = _thread.allocate_lock()
        self._send_lock = _thread.allocate_lock()
        self._queue = []
        self._scheduled = False
        self.closed = False
        self._dispatch_ref = self._dispatch  # bound once: schedule() must not allocate
        _thread.start_new_thread(self._reader, ())

    def send(self, mtype, payload=b""):
        n = len(payload) + 1
        with self._send_lock:  # one write: a split frame would wait for the peer's ACK
            self._sock.write(bytes((n >> 8, n & 0xFF, mtype)) + payload)

    def _read_exact(self, n):
        data = b""
        while len(data) < n:
            chunk = self._sock.recv(n - len(data))
            if not chunk:
                return None
            data += chunk
        return data

    def _reader(self):
        while True:
            try:
                head = self._read_exact(2)
                frame = self._read_exact((head[0] << 8) | head[1]) if head else None
            except OSError:
                frame = None
            with self._lock:
                if frame is None:
                    self.closed = True
                else:
                    self._queue.append(bytearray(frame))
                wake = not self._scheduled
                self._scheduled = True
            if wake:
                try:
                    micropython.schedule(self._dispatch_ref, None)
                except RuntimeError:  # scheduler queue full: retry on the next frame
                    with self._lock:
                        self._scheduled = False
            if frame is None:
                return

    def _dispatch(self, _arg):
        with self._lock:
            frames = self._queue
            self._queue = []
            self._scheduled = False
        for frame in frames:
            view = memoryview(frame)
            try:
                self._on_message(frame[0], view[1:])
            finally:
                for k in range(len(frame)):  # the view dies with the call
                    frame[k] = 0xEE
