"""Message types between the air and the `bluetooth` shim (their numbers: bzsim.shims.airmsg,
which the shim imports too), and their payload layouts.
"""

import struct

from bzsim.shims import airmsg

MSG = {name: value for name, value in vars(airmsg).items() if name.isupper()}
NAMES = {number: name for name, number in MSG.items()}

# Fixed-size heads of the board's requests (struct formats); the rest is a variable tail.
REQUEST_HEADS = {
    "HELLO": ">6s",
    "SCAN_START": ">BIIIB",
    "SCAN_STOP": ">B",
    "CONNECT": ">BB6sI",
    "CONNECT_CANCEL": ">B",
    "DISCONNECT": ">H",
    "DISCOVER_SERVICES": ">H",
    "DISCOVER_CHARS": ">HHH",
    "READ": ">HH",
    "ADVERTISE": ">IBB",
    "SUBSCRIBE": ">",
    "WIFI_QUERY": ">",
    "GATE_SIGNAL": ">",
    "GATES_QUERY": ">",
}


class BadFrame(ValueError):
    """A frame from a board that does not follow the protocol."""


def parse_request(mtype: int, payload: bytes):
    """(name, head fields, tail bytes) of a board's request; BadFrame when it is not one."""
    name = NAMES.get(mtype)
    if name not in REQUEST_HEADS:
        raise BadFrame(f"unknown request type 0x{mtype:02x}")
    head = struct.Struct(REQUEST_HEADS[name])
    if len(payload) < head.size:
        raise BadFrame(f"{name}: {len(payload)} bytes, needs {head.size}")
    return name, head.unpack_from(payload), payload[head.size:]


def scan_result(gen, addr_type, addr, adv_type, rssi, data) -> bytes:
    return struct.pack(">BB6sBb", gen, addr_type, addr, adv_type, max(-127, min(20, rssi))) + data


def connected(seq, conn, addr_type, addr) -> bytes:
    return struct.pack(">BHB6s", seq, conn, addr_type, addr)


def disconnected(conn, addr_type, addr) -> bytes:
    return struct.pack(">HB6s", conn, addr_type, addr)


def service_result(conn, start, end, uuid) -> bytes:
    return struct.pack(">HHH", conn, start, end) + uuid


def char_result(conn, end, value_handle, props, uuid) -> bytes:
    return struct.pack(">HHHB", conn, end, value_handle, props) + uuid


def done(conn, status) -> bytes:
    return struct.pack(">HH", conn, status)


def read_result(conn, handle, data) -> bytes:
    return struct.pack(">HH", conn, handle) + data


def read_done(conn, handle, status) -> bytes:
    return struct.pack(">HHH", conn, handle, status)
