"""End to end through the virtual board: `bzgate sim board --scenario` with its private air,
driven by the real mpremote; the board hears the scenario's phones and reads an iPhone."""

import json

from airkit import GATT_CLIENT, PRELUDE
from bzcore import ids
from bzcore.adv import KIND_ANDROID, classify
from boardkit import start_virtual_board
from scenariokit import DK, phone, scenario, write_scenario

SCAN_THEN_READ = """
adverts = {}
def scan_irq(event, data):
    if event == 5:
        adverts[bytes(data[1]).hex()] = bytes(data[4]).hex()
ble.irq(scan_irq)
ble.gap_scan(1500, 30000, 30000)
time.sleep_ms(1700)
ble.irq(client.irq)
read = None
for addr, adv in adverts.items():
    if "67a607add1172fa1c44bf573564e0000" in adv:  # the iOS service UUID
        client.connect(addr)
        read = client.read(client.find(IOS_CHAR))
        client.close()
result(adverts=adverts, read=read)
"""


def test_a_virtual_board_hears_its_scenario(tmp_path):
    # Seed 8: the Android phone's advertising burst lasts until 13 s after the air starts.
    path = write_scenario(tmp_path, scenario([phone("an", "android"), phone("io", "ios")],
                                             seed=8))
    board = start_virtual_board(tmp_path / "flash", "--scenario", str(path), "--name", "front")
    try:
        code = PRELUDE + GATT_CLIENT + SCAN_THEN_READ
        output = board.mpremote("exec", code, timeout=30).stdout
    finally:
        board.stop()
    out = json.loads(output.split("RESULT ", 1)[1])
    expected = ids.id_at(DK, 1600416300, 96)  # mid-slot start: the ID of the whole test
    kinds = [classify(bytes.fromhex(adv)) for adv in out["adverts"].values()]
    assert [a.id for a in kinds if a.kind == KIND_ANDROID] == [expected]
    value, status, _ = out["read"]
    assert status == 0 and bytes.fromhex(value) == expected
