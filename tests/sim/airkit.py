"""Helpers for the air and bluetooth tests: MicroPython board scripts run by the real
interpreter with the `bluetooth` shim against a running air (scenariokit.running_air), and a
board's side of the air's wire spoken without MicroPython (RawClient; ScanningBoard, which
only scans and counts)."""

import json
import os
import socket
import struct
import subprocess
import sys
import threading
import time
from pathlib import Path

from bzsim.air import link, wire

REPO = Path(__file__).resolve().parents[2]
MICROPYTHON = Path(sys.executable).parent / "micropython"

# Board-side helpers every script gets: an event log, waiting, and result printing.
PRELUDE = """
import bluetooth, json, time
ble = bluetooth.BLE()
ble.active(True)

def wait(cond, ms):
    t0 = time.ticks_ms()
    while not cond() and time.ticks_diff(time.ticks_ms(), t0) < ms:
        time.sleep_ms(5)
    return cond()

def result(**kw):
    print("RESULT " + json.dumps(kw))
"""


class RawClient:
    """A board's side of the wire without MicroPython: frames in, frames out."""

    def __init__(self, address):
        host, port = address.rsplit(":", 1)
        self.sock = socket.create_connection((host, int(port)), timeout=3)

    def send(self, mtype, payload=b""):
        self.sock.sendall(link.encode(mtype, payload))

    def request(self, name, *fields, tail=b""):
        self.send(wire.MSG[name], struct.pack(wire.REQUEST_HEADS[name], *fields) + tail)

    def frames(self, seconds):
        """Every (type name, payload) received within `seconds`."""
        out = []
        end = time.monotonic() + seconds
        while (left := end - time.monotonic()) > 0:
            self.sock.settimeout(left)
            try:
                frame = link.read_frame(self.sock)
            except socket.timeout:
                break
            if frame is None:
                break
            out.append((wire.NAMES[frame[0]], frame[1]))
        return out

    def close(self):
        self.sock.close()


class ScanningBoard(RawClient):
    """A board's side of the wire that scans without end and counts the adverts it gets,
    reading on a thread of its own as a board's link does."""

    def __init__(self, address, name="front"):
        super().__init__(address)
        self.results = 0
        self.request("HELLO", b"\x24\x0a\xc4\x00\x00\x01", tail=name.encode())
        self.request("SCAN_START", 1, 0, 30000, 30000, 0)
        self.sock.settimeout(None)
        threading.Thread(target=self._drain, daemon=True).start()

    def _drain(self):
        buffer = bytearray()
        while chunk := self._recv():
            buffer += chunk
            self.results += sum(1 for mtype, _ in link.split_frames(buffer)
                                if mtype == wire.MSG["SCAN_RESULT"])

    def _recv(self):
        try:
            return self.sock.recv(1 << 16)
        except OSError:  # closed
            return b""


def shim_path(directory):
    """A MICROPYPATH directory holding only the radio's shims, so these tests exercise the
    `bluetooth` module and the air alone."""
    shims = Path(directory) / "radio-shims"
    shims.mkdir(exist_ok=True)
    for name in ("bluetooth.py", "airmsg.py", "_simlink.py", "_idfheap.py", "_heaphold.py",
                 "boardmemory.py"):
        target = shims / name
        if not target.exists():
            target.symlink_to(REPO / "sim" / "shims" / name)
    return f"{shims}:{REPO / 'firmware'}:.frozen"


def start_board(directory, air, body, name="front", timeout=20):
    """Start a board script (PRELUDE + body) as a MicroPython process; see board_result."""
    script = Path(directory) / f"board-{name}.py"
    script.write_text(PRELUDE + body)
    # A WROVER: BLE's RAM comes from PSRAM, not this small heap; the radio is the subject here
    # (the WROOM-32's memory: tests/sim/test_board_memory.py).
    env = dict(os.environ, MICROPYPATH=shim_path(directory), BZSIM_AIR=air.address,
               BZSIM_NAME=name, BZSIM_MODULE="wrover")
    process = subprocess.Popen([str(MICROPYTHON), "-X", "heapsize=96K", str(script)], env=env,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    process.deadline = timeout
    return process


def board_result(process):
    """(result dict, full console output) of a board script once it has ended."""
    output, _ = process.communicate(timeout=process.deadline)
    lines = [line for line in output.splitlines() if line.startswith("RESULT ")]
    assert process.returncode == 0 and lines, f"board script failed:\n{output}"
    return json.loads(lines[-1][len("RESULT "):]), output


def run_board(directory, air, body, name="front", timeout=20):
    return board_result(start_board(directory, air, body, name, timeout))


# A board-side GATT client for scripts that read characteristics (add it after PRELUDE).
GATT_CLIENT = """
IOS_CHAR = "00004E56-73F5-4BC4-A12F-17D1AD07A689"
V1_CHAR = "08590F7E-DB05-467E-8757-72F6FAEB13D4"

class Client:
    def __init__(self):
        self.st = {}
        self.events = []
        ble.irq(self.irq)

    def irq(self, event, data):
        self.events.append(event)
        st = self.st
        if event == 7:
            st["conn"] = data[0]
        elif event == 8:
            st["gone"] = [data[0], data[1]]
        elif event == 11:
            st["handle"] = data[2]
        elif event == 12:
            st["chars_done"] = data[1]
        elif event == 15:
            st["value"] = bytes(data[2]).hex()
        elif event == 16:
            st["status"] = data[2]

    def connect(self, addr, timeout_ms=2000):
        self.st.clear()
        ble.gap_connect(1, bytes.fromhex(addr), timeout_ms)
        return wait(lambda: "conn" in self.st or "gone" in self.st, timeout_ms + 1000)

    def find(self, uuid):
        ble.gattc_discover_characteristics(self.st["conn"], 1, 0xFFFF, bluetooth.UUID(uuid))
        wait(lambda: "chars_done" in self.st, 2000)
        return self.st.get("handle")

    def read(self, handle):
        # (value hex or None, READ_DONE status, events seen during the read)
        for key in ("value", "status"):
            self.st.pop(key, None)
        first = len(self.events)
        ble.gattc_read(self.st["conn"], handle)
        wait(lambda: "status" in self.st, 2000)
        return self.st.get("value"), self.st.get("status"), self.events[first:]

    def close(self):
        if "gone" not in self.st:
            ble.gap_disconnect(self.st["conn"])
            wait(lambda: "gone" in self.st, 2000)

client = Client()
"""
