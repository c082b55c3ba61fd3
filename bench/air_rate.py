"""Can the simulated air play the footprint bench's busy scenario in real time? This tree's air
against an earlier commit's (bench/earlier.py), in one run.

    .venv/bin/python bench/air_rate.py [--before 19c9169] [--seconds 15] [--replay-s 20] [--no-board]

The scenario (bench/footprint.py busy_scenario): 20 iPhones in the background lingering at the
gate, 500 random Bluezone IDs and 20 other adverts a second. For each tree:
1. replay: the air's own steps on a clock of their own, as fast as they go, with one board
   scanning: the CPU seconds each second of the scenario costs (under 1: it can keep up; the
   less, the more room for the board) and a digest of every frame the board was sent and every
   phone's history, which is the same for both trees when the air still plays the same adverts;
2. real time: the air with a scanning client on the wire (no MicroPython): adverts delivered a
   second and the share of a core the air's process took;
3. with a gate: a virtual WROOM-32 gate board on the air (tests/firmware/gatekit.py): adverts
   the gate heard a second (STATUS "adverts") against those the air delivered to it, the share
   of a core the air's process took and the board's (its interpreter and bridge, from /proc).
"""

import argparse
import os
import hashlib
import heapq
import json
import struct
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO / "tests" / "firmware"), str(REPO / "tests" / "sim"), str(REPO / "tests")]

import earlier  # noqa: E402
from airkit import ScanningBoard  # noqa: E402
from footprint import busy_scenario  # noqa: E402
from gatekit import start_gate, stop_gate, wait_until  # noqa: E402
from scenariokit import write_scenario  # noqa: E402

from bzgate.link.serial import LinkError  # noqa: E402
from bzsim.air import server, wire  # noqa: E402
from bzsim.air.devices import ADV_DELAY_S, IOS_BACKGROUND_INTERVAL_S  # noqa: E402
from bzsim.air.scenario import parse  # noqa: E402
from bzsim.air.server import start_air  # noqa: E402

DEFAULT_BEFORE = "19c9169"  # the air before it kept up with the busy scenario
BOARD_MAC = b"\x24\x0a\xc4\x00\x00\x01"
GATE_UP_S = 20  # a gate board boots and answers STATUS within this


def advert_rate(data: dict) -> float:
    """Adverts a second a scenario of background iPhones and noise asks for: the noise, and
    each iPhone once an interval plus the mean random delay."""
    noise = sum(rate for key, rate in data["noise"].items() if key.endswith("_per_s"))
    assert {p["platform"] for p in data["phones"]} == {"ios-background"}
    return noise + len(data["phones"]) / (IOS_BACKGROUND_INTERVAL_S + ADV_DELAY_S / 2)


class _Wire:
    """A board's socket that keeps what the air sends it."""

    def __init__(self):
        self.sent = hashlib.sha256()

    def sendall(self, data):
        self.sent.update(data)

    def close(self):
        pass


def replay(seconds: float) -> str:
    """JSON: the CPU seconds a second of the scenario costs and the digest of what was sent,
    the air's timers run in order on this thread, its clock set to each one's time."""
    air = server.Air(parse(busy_scenario()))
    clock = [0.0]
    air.elapsed = lambda: clock[0]
    air._stopping.set()  # its loop ends at once: this thread runs the timers instead
    air.start()
    board = server.Session(air, _Wire(), 1)
    for mtype, payload in ((None, None), ("HELLO", BOARD_MAC + b"front"),
                           ("SCAN_START", struct.pack(">BIIIB", 1, 0, 30000, 30000, 1))):
        air._handle(board, "join" if mtype is None else wire.MSG[mtype], payload, 0.0)
    started = time.process_time()
    while air._timers and air._timers[0][0] <= seconds:
        when, _, action = heapq.heappop(air._timers)
        clock[0] = when
        action(when)
    cpu = time.process_time() - started
    digest = board.sock.sent
    for phone in air.world.phones:
        digest.update(air.history(phone.name).encode())
    air.stop()
    return json.dumps({"cpu_per_s": round(cpu / seconds, 3), "digest": digest.hexdigest()[:16],
                       "delivered": board.central.heard})


def real_time(seconds: float) -> str:
    """JSON: adverts delivered a second to a scanning client, and the share of a core the
    process (the air and that client) took."""
    with tempfile.TemporaryDirectory(prefix="air-rate-") as where:
        air = start_air(str(write_scenario(where, busy_scenario())))
        try:
            client = ScanningBoard(air.address)
            time.sleep(1)  # past the start
            got, cpu, wall = client.results, time.process_time(), time.monotonic()
            time.sleep(seconds)
            wall = time.monotonic() - wall
            figures = {"delivered_per_s": round((client.results - got) / wall),
                       "core_share": round((time.process_time() - cpu) / wall, 2)}
            client.close()
        finally:
            air.stop()
    return json.dumps(figures)


def with_gate(seconds: float) -> str:
    """JSON: adverts a virtual gate heard a second, those the air delivered to it, and the
    share of a core the air's process took."""
    with tempfile.TemporaryDirectory(prefix="air-rate-gate-") as where:
        board = start_gate(Path(where), config={"trigger": "button"},
                           scenario_dict=busy_scenario())
        try:
            assert wait_until(lambda: _status(board) is not None, timeout=GATE_UP_S), "no STATUS"
            first, delivered = board.status()["adverts"], _delivered(board.air)
            cpu, board_cpu, wall = time.process_time(), tree_cpu(board.process.pid), time.monotonic()
            time.sleep(seconds)
            heard = board.status()["adverts"] - first
            delivered = _delivered(board.air) - delivered
            board_cpu = tree_cpu(board.process.pid) - board_cpu
            wall = time.monotonic() - wall
        finally:
            stop_gate(board)
    return json.dumps({"heard_per_s": round(heard / wall), "delivered_per_s": round(delivered / wall),
                       "core_share": round((time.process_time() - cpu) / wall, 2),
                       "board_core_share": round(board_cpu / wall, 2)})


def tree_cpu(pid: int) -> float:
    """CPU seconds a process and its descendants have taken so far (Linux's /proc)."""
    task = Path(f"/proc/{pid}/task/{pid}")
    fields = (task / "stat").read_text().rsplit(")", 1)[1].split()
    children = (task / "children").read_text().split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK") \
        + sum(tree_cpu(int(child)) for child in children)


def _status(board):
    try:
        return board.status()
    except (LinkError, OSError):  # still booting: its host link does not answer yet
        return None


def _delivered(air) -> int:
    return sum(b["heard"] for b in air.boards())


MEASURES = (("replay", "replay_s"), ("real_time", "seconds"), ("with_gate", "seconds"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--before", default=DEFAULT_BEFORE, help="the earlier commit")
    parser.add_argument("--seconds", type=float, default=15, help="each real-time run")
    parser.add_argument("--replay-s", type=float, default=20, help="scenario seconds replayed")
    parser.add_argument("--no-board", dest="board", action="store_false",
                        help="without the run with a gate board")
    args = parser.parse_args()
    print(f"the scenario asks for {advert_rate(busy_scenario()):.0f} adverts a second")
    rows = {}
    for name, length in MEASURES:
        if name == "with_gate" and not args.board:
            continue
        seconds = getattr(args, length)
        rows[name] = {"before": json.loads(earlier.call(args.before, "air_rate", name, seconds)),
                      "now": json.loads(globals()[name](seconds))}
        print(json.dumps({name: rows[name]}), flush=True)
    print(f"\n| measure | before ({args.before}) | now |\n|---|---:|---:|")
    for name, row in rows.items():
        for key in row["now"]:
            print(f"| {name}: {key} | {row['before'][key]} | {row['now'][key]} |")


if __name__ == "__main__":
    main()
