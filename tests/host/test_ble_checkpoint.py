"""BLE tools against a virtual gate board (firmware with its status and checkpoint beacons):
`bzgate ble scan` decodes the gate's status beacon, and a visitor's Bluezone history, holding
the IDs of the gate's checkpoint beacon, traces back to that gate and time with
`bzgate trace --history`."""

import json

import pytest
from blekit import invoke
from gatekit import phone, scenario, wait_until
from scenariokit import FRONT

from bzcore import ids
from bzgate.keys import KeyStore

K0 = bytes(range(32))  # the vector key of docs/protocol.md §9, from the scenario's day
DAY0 = 1600387200  # 2020-09-18, the day of gatekit's MID_SLOT_START


@pytest.fixture
def keys(tmp_path, monkeypatch):
    store = KeyStore(tmp_path / "keys.json")
    store.put("aabbccddeeff", bytes(32), gate_id="test-gate")
    store.put_checkpoint("aabbccddeeff", K0, DAY0)
    monkeypatch.setenv("BZGATE_KEYS", str(store.path))
    return store


def checkpoint_gate(gate, tmp_path, phones):
    """A gate board with checkpoint_beacon on, K0 in its NVS, its clock set to the air's."""
    nvs = tmp_path / "gate0" / "flash" / ".bzsim" / "nvs-bzgate.json"
    nvs.parent.mkdir(parents=True)
    nvs.write_text(json.dumps({"cpkey": ["b", K0.hex()], "cpday": ["i", DAY0 // ids.DAY_SECONDS]}))
    data = scenario(phones, gates=[FRONT, {"name": "far", "x": 400, "y": 0}])
    board = gate(config={"checkpoint_beacon": True}, scenario_dict=data)
    with board.link() as link:
        link.time_set(int(board.air.now()))
    return board


def test_scan_decodes_the_gates_status_beacon(gate, tmp_path, keys):
    board = gate(phones=[phone("an", "android")])
    code, out, err = invoke(["ble", "scan", "--seconds", "3", "--json"], board.air)
    assert code == 0, err
    (found,) = json.loads(out)["gates"]
    assert found["gate_id"] == "test-gate" and found["mode"] == "enforce"
    assert found["version"] == 1 and set(found["counts"]) == {"allow", "deny", "no-app"}
    assert found["clock_valid"] is False and "clock-invalid" in found["alarms"]
    keys.path.unlink()  # a gate the key store does not know is shown by its hash
    code, out, _ = invoke(["ble", "scan", "--seconds", "3", "--json"], board.air)
    (unknown,) = json.loads(out)["gates"]
    assert unknown["gate_id"] is None and unknown["gate_hash"] == found["gate_hash"]


def test_a_visitors_history_traces_back_to_the_checkpoint_gate(gate, tmp_path, keys):
    board = checkpoint_gate(gate, tmp_path, [phone("visitor", "android"),
                                             phone("away", "android", gate="far")])
    since = board.air.now()
    assert wait_until(lambda: board.air.history("visitor"), timeout=20)
    until = board.air.now()
    visitor, away = tmp_path / "visitor.txt", tmp_path / "away.txt"
    visitor.write_text(board.air.history("visitor"))
    away.write_text(board.air.history("away"))
    code, out, err = invoke(["trace", "--history", str(visitor), "--json"])
    assert code == 0, err
    (found,) = json.loads(out)["passes"]
    assert found["gate_id"] == "test-gate" and found["rows"] >= 1
    assert since - 1 <= found["first_seen"] <= found["last_seen"] <= until + 1
    code, out, _ = invoke(["trace", "--history", str(away), "--json"])
    assert code == 0 and json.loads(out)["passes"] == []
