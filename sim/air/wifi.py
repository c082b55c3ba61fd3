"""A gate's access point, from the scenario to the virtual board standing at that gate.

The board asks the air once, before it powers on: WIFI_QUERY with its name. The air answers
WIFI_PLAN, JSON {"gate": name, "elapsed": the air's clock (seconds since it started),
"wifi": {"ssid", "password", "outages": [[from_s, to_s], ...]} or null}. The gate is the one
the board stands at (its own, else the scenario's first; bzsim.air.world). From then on the
board runs the outages on its own clock, lined up with the air's: the board owns its access
point (bzsim.board.process set_wifi), so `bzgate sim wifi up|down` still overrides it, until the next
start or end of an outage.
"""

import json
import socket
import time
from dataclasses import dataclass

from bzsim.air import link, wire

ASK_TIMEOUT_S = 5.0


def answer(gate, elapsed: float) -> bytes:
    """The WIFI_PLAN payload for a board at `gate` (None: the air has no scenario)."""
    wifi = gate.wifi if gate is not None else None
    return json.dumps({
        "gate": gate.name if gate is not None else None, "elapsed": elapsed,
        "wifi": None if wifi is None else {"ssid": wifi.ssid, "password": wifi.password,
                                           "outages": [list(w) for w in wifi.outages]},
    }).encode()


@dataclass(frozen=True)
class Plan:
    """A gate's access point and its outages, on this process's time.monotonic() clock."""

    gate: str
    ssid: str
    password: str
    outages: tuple  # ((from_s, to_s), ...) in the air's seconds
    origin: float  # time.monotonic() when the air's clock read 0

    def up_at(self, monotonic: float) -> bool:
        t = monotonic - self.origin
        return not any(start <= t < end for start, end in self.outages)

    def changes_after(self, monotonic: float) -> list:
        """(seconds from `monotonic`, up) for each change of the access point still to come."""
        t = monotonic - self.origin
        return [(edge - t, up) for edge, up in changes(self.outages) if edge > t]


def changes(outages) -> list:
    """(air seconds, up) for each start (up False) and end (up True) of the outages."""
    return [(edge, up) for start, end in outages for edge, up in ((start, False), (end, True))]


def ask(address: str, name: str) -> Plan | None:
    """The access point the air puts in range of a board called `name`, or None; OSError when
    the air cannot be reached or does not answer."""
    host, port = address.rsplit(":", 1)
    with socket.create_connection((host, int(port)), timeout=ASK_TIMEOUT_S) as sock:
        sock.sendall(link.encode(wire.MSG["WIFI_QUERY"], name.encode()))
        frame = link.read_frame(sock)
        received = time.monotonic()
    if frame is None or frame[0] != wire.MSG["WIFI_PLAN"]:
        raise ConnectionError("the air did not answer with its Wi-Fi plan")
    fields = json.loads(frame[1])
    wifi = fields["wifi"]
    if wifi is None:
        return None
    # The answer left the air a loopback trip before `received`: outages start that much late.
    return Plan(fields["gate"], wifi["ssid"], wifi["password"],
                tuple(tuple(window) for window in wifi["outages"]), received - fields["elapsed"])
