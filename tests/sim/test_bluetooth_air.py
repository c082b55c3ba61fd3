"""Several boards in one air: the same phones at different RSSI, boards hearing each other's
adverts, and the scenario's GATT faults."""

import time

from airkit import GATT_CLIENT, board_result, run_board, start_board
from scenariokit import phone, running_air, scenario

RSSI_OF_ONE_ADDRESS = """
levels = []
done = []
def irq(event, data):
    if event == 5 and bytes(data[1]) == bytes.fromhex("{addr}"):
        levels.append(data[3])
    elif event == 6:
        done.append(1)
ble.irq(irq)
ble.gap_scan(2000, 30000, 30000)
wait(lambda: done, 5000)
result(n=len(levels), mean=sum(levels) / max(1, len(levels)))
"""


def test_two_boards_hear_the_same_phone_with_different_rssi(tmp_path):
    # The visitor lingers 3 m in front of gate "front"; gate "back" is 12 m further along.
    with running_air(tmp_path, scenario([phone("io", "ios", gate="front")])) as air:
        (listed,) = air.phones()
        body = RSSI_OF_ONE_ADDRESS.format(addr=listed["address"].replace(":", ""))
        boards = [start_board(tmp_path, air, body, name) for name in ("front", "back")]
        (front, _), (back, _) = [board_result(b) for b in boards]
    assert front["n"] >= 5 and back["n"] >= 5
    assert front["mean"] > back["mean"] + 6


def test_a_boards_adverts_reach_the_other_boards(tmp_path):
    with running_air(tmp_path, scenario([])) as air:
        beacon = start_board(tmp_path, air, """
ble.gap_advertise(100000, b"\\x02\\x01\\x06\\x07\\xff\\xff\\xffgate1")
time.sleep_ms(2500)
result(mac=ble.config("mac")[1].hex())
""", name="back")
        deadline = time.monotonic() + 3
        while not any(b["advertising"] for b in air.boards()) and time.monotonic() < deadline:
            time.sleep(0.05)
        listed = air.boards()
        heard, _ = run_board(tmp_path, air, """
seen = {}
done = []
def irq(event, data):
    if event == 5:
        seen[bytes(data[1]).hex()] = [data[0], data[2], bytes(data[4]).hex()]
    elif event == 6:
        done.append(1)
ble.irq(irq)
ble.gap_scan(1000, 30000, 30000)
wait(lambda: done, 3000)
result(seen=seen)
""", name="front")
        advertiser, _ = board_result(beacon)
    assert [b["name"] for b in listed if b["advertising"]] == ["back"]
    addr_type, adv_type, data = heard["seen"][advertiser["mac"]]
    assert (addr_type, adv_type) == (0, 0)  # public address, connectable ADV_IND
    assert bytes.fromhex(data) == b"\x02\x01\x06\x07\xff\xff\xffgate1"


CONNECT_AND_READ = """
connected = client.connect("{addr}", 500)
conn = client.st.get("conn")
handle = client.find(IOS_CHAR) if conn is not None else None
value = client.read(handle) if handle is not None else None
wait(lambda: "gone" in client.st, 1000)
result(conn=conn, discovery=client.st.get("chars_done"), value=value, gone=client.st.get("gone"))
"""


def _connect_and_read(tmp_path, faults):
    with running_air(tmp_path, scenario([phone("io", "ios")], faults=faults)) as air:
        (listed,) = air.phones()
        addr = listed["address"].replace(":", "")
        out, _ = run_board(tmp_path, air, GATT_CLIENT + CONNECT_AND_READ.format(addr=addr))
    return out


def test_gatt_timeout_fault_makes_the_connect_fail(tmp_path):
    out = _connect_and_read(tmp_path, {"gatt_timeout_share": 1.0})
    assert out["conn"] is None and out["gone"] == [0xFFFF, 0xFF]


def test_without_faults_the_read_succeeds(tmp_path):
    out = _connect_and_read(tmp_path, {})
    value, status, _ = out["value"]
    assert out["discovery"] == 0 and status == 0 and len(value) == 24


def test_gatt_fail_fault_drops_the_link_under_gatt(tmp_path):
    out = _connect_and_read(tmp_path, {"gatt_fail_share": 1.0})
    assert out["conn"] is not None and out["discovery"] != 0 and out["value"] is None
    assert out["gone"] == [out["conn"], 1]  # a real disconnect of the random-address phone
