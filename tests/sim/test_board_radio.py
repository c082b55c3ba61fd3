"""A board started without --air hears its own quiet office through the bluetooth shim."""

from boardkit import start_virtual_board

SCAN = """import bluetooth, time
heard = set()
def irq(event, data):
    if event == 5:  # _IRQ_SCAN_RESULT
        heard.add(bytes(data[1]))
ble = bluetooth.BLE()
ble.active(True)
ble.irq(irq)
ble.gap_scan(1500, 30000, 30000)
time.sleep_ms(1700)
print(len(heard))
"""


def test_a_board_hears_the_quiet_office_of_its_private_air(tmp_path):
    board = start_virtual_board(tmp_path / "flash", "--name", "front")
    try:
        assert int(board.mpremote("exec", SCAN).stdout.split()[-1]) >= 1
    finally:
        board.stop()
