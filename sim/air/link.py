"""Host side of the virtual-board link framing (see shims/_simlink.py for the board side).

A frame is a 2-byte big-endian length N, then N bytes: 1 byte message type + payload.
"""

import socket
import struct

MAX_FRAME = 0xFFFF


def encode(mtype: int, payload: bytes = b"") -> bytes:
    if len(payload) + 1 > MAX_FRAME:
        raise ValueError("frame too long")
    return struct.pack(">HB", len(payload) + 1, mtype) + payload


def _read_exact(sock: socket.socket, n: int) -> bytes | None:
    data = b""
    while len(data) < n:
        chunk = sock.recv(n - len(data))
        if not chunk:
            return None
        data += chunk
    return data


def read_frame(sock: socket.socket) -> tuple[int, bytes] | None:
    """The next (type, payload) from a blocking socket, or None once the peer has gone."""
    head = _read_exact(sock, 2)
    if head is None:
        return None
    body = _read_exact(sock, struct.unpack(">H", head)[0])
    if not body:
        return None
    return body[0], body[1:]


def split_frames(buffer: bytearray):
    """Yield (type, payload) for each whole frame at the start of buffer, removing it; a
    partial frame stays for the next read (for sockets served without blocking)."""
    while len(buffer) >= 2:
        size = struct.unpack_from(">H", buffer)[0]
        if len(buffer) < 2 + size:
            return
        frame = bytes(buffer[2 : 2 + size])
        del buffer[: 2 + size]
        if frame:
            yield frame[0], frame[1:]

