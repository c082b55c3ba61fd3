"""Gate boards for tests and benchmarks: firmware/ (as .mpy) and a config.json put into a virtual
board's flash, the board started against a private simulated air playing a scenario.

    board = start_gate(tmp_path, config={"mode": "monitor"}, phones=[phone("an", "android")])
    # or, in tests, the `gate` fixture (tests/conftest.py), which also stops what it started:
    def test_x(gate):
        board = gate(config={"mode": "enforce"}, phones=[phone("an", "android")])
        board.control.press(BUTTON)                 # a bzsim.board.control.BoardControl
        board.air.phones(); board.status()          # the air's view; STATUS over the host link
        board.wait_records(record.DECISION, 1)      # journal records, pulled over the host link

`start_gate` and `gate(...)` take config (fields over bzcore.config's defaults), a scenario dict or phones/noise/faults
for a one-gate scenario starting mid-slot, and extra `bzgate sim board` arguments.
"""

import time
from pathlib import Path

import scenariokit
from boardkit import VirtualBoard

from bzcore import config as gate_config
from bzcore import record, recordread
from bzgate.link.serial import GateLink
from bzsim.air.server import start_air
from bzprov.build import FIRMWARE
from bzprov.virtual import install

GATE_NAME = scenariokit.FRONT["name"]


def phone(name, platform, **fields):
    """A scenario phone at the test gate, arriving a second after the air starts."""
    return scenariokit.phone(name, platform, **{"gate": GATE_NAME, "arrive_s": 1, **fields})


def scenario(phones=(), gates=(scenariokit.FRONT,), **parts):
    """The test gate's scenario: that gate alone in the air unless `gates` says."""
    return scenariokit.scenario(phones, gates=gates, seed=1, **parts)


def deploy(flash: Path, config: dict, firmware: Path = FIRMWARE, romfs: bool = True) -> None:
    """What provisioning puts on a board (bzprov.virtual.install), from this checkout's
    firmware/ or another tree: into its ROMFS, or as files for a board without one."""
    install(flash, config, firmware, romfs)


class GateBoard(VirtualBoard):
    def __init__(self, flash: Path, air, *args: str):
        super().__init__(flash, "--air", air.address, "--name", GATE_NAME, *args)
        self.air = air

    def link(self) -> GateLink:
        """The host link on the board's serial port (close it, or use it in a with block)."""
        return GateLink(self.serial)

    def status(self) -> dict:
        with self.link() as link:
            return link.status()

    def records(self) -> list:
        """Every flushed journal record as (bzcore.record.Record, its payload's fields)."""
        with self.link() as link:
            out = []
            for raw in link.pull(0):
                rec = record.decode(raw)
                out.append((rec, recordread.payload_fields(rec.kind, rec.payload)))
            return out

    def of_kind(self, kind: int) -> list:
        return [fields for rec, fields in self.records() if rec.kind == kind]

    def wait_records(self, kind: int, n: int, timeout: float = 12.0) -> list:
        """The payloads of the first n flushed records of a kind (the journal flushes every 5 s)."""
        deadline = time.monotonic() + timeout
        while True:
            found = self.of_kind(kind)
            if len(found) >= n or time.monotonic() > deadline:
                return found
            time.sleep(0.5)

    def levels(self, pin: int, since: float) -> list:
        """The levels an output pin took since a host time (from the board's pin history)."""
        return [level for t, level in self.control.history(pin) if t >= since]


def start_gate(where: Path, config=None, phones=(), scenario_dict=None, board_args=(),
               firmware: Path = FIRMWARE, **parts):
    """A gate board on flash `where`/flash with its scenario's air; stop both when done."""
    where.mkdir(parents=True, exist_ok=True)
    data = scenario_dict or scenario(phones, **parts)
    air = start_air(str(scenariokit.write_scenario(where, data)))
    flash = where / "flash"
    deploy(flash, {**gate_config.defaults(), "gate_id": "test-gate", **(config or {})}, firmware,
           romfs="--no-romfs" not in board_args)
    try:
        return GateBoard(flash, air, *board_args)  # a WROOM-32 unless board_args say --module
    except BaseException:
        air.stop()
        raise


def wait_until(check, timeout=8.0) -> bool:
    """True once check() holds; False if it still does not after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


def stop_gate(board: "GateBoard") -> None:
    board.stop()
    board.air.stop()
