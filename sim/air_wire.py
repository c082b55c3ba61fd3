"""Message types between the air and the `bluetooth` shim, and their payload layouts.

The shim (sim/shims/bluetooth.py, MicroPython) is the one definition of the message numbers
and documents every payload; this module reads its `_MSG_*` constants so both sides cannot
drift apart.
"""

import ast
import pathlib
import struct

SHIM = pathlib.Path(__file__).with_name("shims") / "bluetooth.py"


def _message_types() -> dict:
    tree = ast.parse(SHIM.read_text(encoding="utf-8"))
    types = {}
    for node in tree.body:
        if (isinstance(node, ast.Assign) and len(node.targets) == 1
                and isinstance(node.targets[0], ast.Name)
                and node.targets[0].id.startswith("_MSG_")):
            types[node.targets[0].id[len("_MSG_"):]] = node.value.args[0].value
    return types


MSG = _message_types()
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
