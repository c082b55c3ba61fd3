"""The gate's own adverts on a virtual board: the status beacon a listener on the air decodes,
what advertising costs the scan, and the checkpoint beacon phones record."""

import json
import time

from airkit import RawClient
from decisionkit import BUTTON
from gatekit import phone, wait_until

from bzcore import beacon, beaconread, ids

K0 = bytes(range(100, 132))
K0_DAY = 1600300800  # 2020-09-17: the scenario runs on the next day, so K0 is hashed once


class Listener(RawClient):
    """A receiver on the air scanning continuously, keeping what one board advertises."""

    def __init__(self, air, mac: str):
        super().__init__(air.address)
        self.mac = bytes.fromhex(mac.replace(":", ""))
        self.request("SCAN_START", 1, 0, 30000, 30000, 0)

    def adverts(self, seconds: float) -> list:
        return [p[10:] for name, p in self.frames(seconds)
                if name == "SCAN_RESULT" and p[2:8] == self.mac]

    def statuses(self, seconds: float) -> list:
        return [s for s in map(beaconread.decode_status, self.adverts(seconds)) if s is not None]


def board_mac(board) -> str:
    assert wait_until(lambda: board.air.boards(), timeout=10)
    return board.air.boards()[0]["mac"]


def test_a_listener_decodes_the_status_with_live_counts_and_the_scan_keeps_its_time(gate):
    board = gate(config={"gate_id": "front-door"})
    listener = Listener(board.air, board_mac(board))
    try:
        first = []
        assert wait_until(lambda: first.extend(listener.statuses(0.5)) or first, timeout=20)
        status = first[-1]
        assert status["gate_hash"] == beacon.gate_hash("front-door")
        assert (status["mode"], status["clock_valid"], status["checkpoint"]) == ("enforce", False, False)
        assert "clock-invalid" in status["alarms"]
        assert status["counts"] == {"allow": 0, "deny": 0, "no-app": 0}
        t0 = time.monotonic()
        board.control.press(BUTTON)  # nobody at the gate: DENY
        later = []
        assert wait_until(lambda: later.extend(listener.statuses(0.5))
                          or any(s["counts"]["deny"] == 1 for s in later), timeout=10)
        heard_after = time.monotonic() - t0
        time.sleep(1.0)  # a few more seconds of scanning and advertising to measure
        after = board.status()
        boards = board.air.boards()
    finally:
        listener.close()
    # The firmware counts each advertising event against the scan share; the air measures the
    # receiver time those events really took. Without a beacon both would be 1000 per mille.
    measured = boards[0]["listening"]
    assert after["scan_permille"] >= 900 and measured >= 0.9
    assert abs(after["scan_permille"] / 1000 - measured) < 0.01
    assert after["beacon"]["sent"] > 0 and after["beacon"]["today"]["deny"] == 1
    print(f"scan share with the beacon: firmware {after['scan_permille']} per mille, "
          f"air {measured:.4f}; the press reached the beacon after {heard_after:.1f} s")


def provision_checkpoint_key(board_dir, key: bytes, day: int) -> None:
    """What `bzgate provision configure` writes next to the journal key (gate.secret)."""
    nvs = board_dir / "flash" / ".bzsim" / "nvs-bzgate.json"
    nvs.parent.mkdir(parents=True, exist_ok=True)
    nvs.write_text(json.dumps({"cpkey": ["b", key.hex()], "cpday": ["i", day // 86400]}))


def ids_heard(listener, seconds):
    """(the Bluezone IDs in the board's Android-format adverts, its status beacons)."""
    adverts = listener.adverts(seconds)
    heard = [a[7:19] for a in adverts if a[:7] == b"\x02\x01\x02\x0f\xff\xb5\x22"]
    return heard, [s for s in map(beaconread.decode_status, adverts) if s is not None]


def test_the_checkpoint_id_rolls_at_the_slot_end_and_phones_record_it(gate, tmp_path):
    provision_checkpoint_key(tmp_path / "gate0", K0, K0_DAY)
    board = gate(config={"checkpoint_beacon": True},
                 phones=[phone("droid", "android", dwell_s=120)])
    listener = Listener(board.air, board_mac(board))
    try:
        assert wait_until(lambda: board.status()["beacon"]["checkpoint"] == "no-clock", timeout=20)
        ids_before, _ = ids_heard(listener, 1.0)
        assert ids_before == []  # no valid clock, no ID: the slot would be a guess
        # The gate's clock two seconds before a slot ends: the ID must roll on air.
        slot_end = ids.slot_window(int(board.air.now()), 96)[1]
        with board.link() as link:
            link.time_set(slot_end - 2)
        heard, statuses = [], []

        def two_ids_heard():
            more_ids, more_statuses = ids_heard(listener, 0.5)
            heard.extend(more_ids)
            statuses.extend(more_statuses)
            return len(set(heard)) >= 2

        assert wait_until(two_ids_heard, timeout=15)
        history = board.air.history("droid")
        status = board.status()
    finally:
        listener.close()
    before = beacon.checkpoint_id(K0, K0_DAY, slot_end - 1)
    after = beacon.checkpoint_id(K0, K0_DAY, slot_end)
    assert list(dict.fromkeys(heard))[-2:] == [before, after]
    assert status["beacon"]["checkpoint"] == "on" and statuses[-1]["checkpoint"]
    assert statuses[-1]["clock_valid"] and "clock-invalid" not in statuses[-1]["alarms"]
    seen = {line.split("\t")[1] for line in history.splitlines()}
    assert seen & {before.hex().upper(), after.hex().upper()}
