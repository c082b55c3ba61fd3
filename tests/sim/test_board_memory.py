"""The virtual board's memory model (bzsim.shims.boardmemory): on a WROOM-32 what BLE, the Wi-Fi
station and a socket take comes out of the Python heap while they are on, and
esp32.idf_heap_info reports the IDF's share; on a WROVER the Python heap (PSRAM) keeps it all."""

import json

import pytest
from boardkit import start_virtual_board

from bzsim.shims import boardmemory

STEPS = """
import gc, json, struct, esp32, bluetooth, network, socket
def now():
    gc.collect()
    regions = esp32.idf_heap_info(esp32.HEAP_DATA)
    return [gc.mem_free() * 4 // WORD, max(r[2] for r in regions), len(regions[0])]
WORD = struct.calcsize("P")  # host bytes per ESP32 word
steps = [now()]
ble = bluetooth.BLE(); ble.active(True); steps.append(now())
wlan = network.WLAN(network.STA_IF); wlan.active(True); wlan.connect("nowhere", "secret123")
steps.append(now())
s = socket.socket(); steps.append(now())
s.close(); wlan.active(False); ble.active(False); steps.append(now())
print(json.dumps(steps))
"""


def _steps(board) -> list:
    return json.loads(board.mpremote("exec", STEPS).stdout)


@pytest.mark.parametrize("module", [boardmemory.WROOM_32, boardmemory.WROVER])
@pytest.mark.parametrize("image", [boardmemory.BZGATE_IMAGE, boardmemory.MICROPYTHON_IMAGE])
def test_what_each_part_takes_while_on_comes_out_of_the_python_heap_on_a_wroom_32(tmp_path, module, image):
    romfs = () if image == boardmemory.BZGATE_IMAGE else ("--no-romfs",)
    board = start_virtual_board(tmp_path / "flash", "--module", module, *romfs)
    try:
        (off, _, shape), (ble, _, _), (wifi, _, _), (sock, idf_sock, _), (back, idf_back, _) = _steps(board)
    finally:
        board.stop()
    part = {name: boardmemory.part_bytes(name, image) for name in ("ble", "wifi", "socket")}
    taken = [off - ble, ble - wifi, wifi - sock]
    if module == boardmemory.WROOM_32:
        for got, want in zip(taken, (part["ble"], part["wifi"], part["socket"])):
            assert want - 256 <= got <= want + 1024, (taken, part)
        # the module's figures: bzgate's image keeps 6 of the Wi-Fi driver's 1.6 KB buffers fewer
        station = 65_536 + (9_600 if image == boardmemory.BZGATE_IMAGE else 0)
        assert 95_000 <= ble <= 98_304 and station - 3_536 <= wifi <= station
        assert idf_sock == idf_back == boardmemory.IDF_SPARE  # the ballast found room: IDF untouched
    else:
        assert all(abs(got) < 1024 for got in taken)  # PSRAM: the parts take internal RAM only
        assert idf_back - idf_sock == part["ble"] + part["wifi"] + part["socket"]
    assert shape == 4 and abs(back - off) < 2048  # released (the objects stay); 4-tuples per region


def test_a_part_switched_on_after_python_took_the_heap_eats_the_idf_spare_or_fails(tmp_path):
    """Python first, BLE after (docs/esp32-notes.md, note 10): what the heap cannot give comes
    out of the IDF's spare; when that is short too, BLE does not start."""
    board = start_virtual_board(tmp_path / "flash")
    try:
        out = board.mpremote("exec", """
import gc, esp32, bluetooth, network, json
keep = []
try:
    while True:
        keep.append(bytearray(1024))
except MemoryError:
    pass
del keep[:16]  # 16 host KB free: 8 KB on the ESP32, half of what BLE takes
gc.collect()
bluetooth.BLE().active(True)
after_ble = max(r[2] for r in esp32.idf_heap_info(esp32.HEAP_DATA))
wlan = network.WLAN(network.STA_IF); wlan.active(True)
try:
    wlan.connect("nowhere", "secret123")
    print(json.dumps([after_ble, "connected"]))
except OSError as e:
    print(json.dumps([after_ble, e.errno]))
""").stdout
    finally:
        board.stop()
    after_ble, wifi = json.loads(out)
    spare = boardmemory.IDF_SPARE
    assert spare - boardmemory.PART_BYTES["ble"] < after_ble <= spare - 6 * 1024, after_ble
    assert wifi == 12  # ENOMEM: the station's 23 KB are found nowhere
