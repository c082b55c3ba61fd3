"""The ESP32 behaviour of the shims: time, NVS, flash commit and capacity, GPIO, network."""

import pytest

from boardkit import start_virtual_board


@pytest.fixture(scope="module")
def board(tmp_path_factory):
    board = start_virtual_board(tmp_path_factory.mktemp("shims") / "flash", "--flash-size", "64K")
    yield board
    board.stop()


def run(board, code: str) -> list[str]:
    return board.mpremote("exec", code).stdout.split()


# --- time ------------------------------------------------------------------------------
def test_time_counts_from_2000_as_an_int_after_power_on(board):
    out = run(board, "import time\nt = time.time()\n"
                     "print(type(t).__name__, t < 3600, time.gmtime(0)[:3], time.mktime((2000, 1, 1, 0, 0, 0, 0, 0)))\n"
                     "print(len(time.localtime()), time.time_ns() // 10**9 - t < 2)")
    assert out == ["int", "True", "(2000,", "1,", "1)", "0", "8", "True"]


def test_code_assuming_the_unix_epoch_or_float_time_fails(board):
    out = run(board, "import time\nprint(time.localtime(1_700_000_000)[0])\n"
                     "try:\n time.gmtime(1.5)\nexcept TypeError:\n print('TypeError')")
    assert out == ["2053", "TypeError"]


def test_rtc_set_moves_the_clock_and_mpremote_rtc_reads_it(board):
    run(board, "import machine; machine.RTC().datetime((2026, 3, 4, 2, 5, 6, 7, 0))")
    out = run(board, "import time; print(time.gmtime()[:5])")  # after mpremote's soft reset
    assert out == ["(2026,", "3,", "4,", "5,", "6)"]
    assert board.mpremote("rtc").stdout.startswith("(2026, 3, 4, 2, 5, 6,")


# --- NVS -------------------------------------------------------------------------------
def test_nvs_keeps_only_committed_values(board):
    run(board, "import esp32\nn = esp32.NVS('gate')\nn.set_i32('boots', 7)\nn.set_blob('key', b'k1')\nn.commit()\n"
               "n.set_i32('boots', 8)\nn.set_i32('lost', 1)")
    out = run(board, "import esp32\nn = esp32.NVS('gate')\nb = bytearray(8)\n"
                     "print(n.get_i32('boots'), b[:n.get_blob('key', b)])\n"
                     "for k in ('lost', 'key'):\n try:\n  n.get_i32(k)\n except OSError as e:\n  print(e.errno)")
    assert out == ["7", "bytearray(b'k1')", "2", "2"]  # a blob key is missing as an int too
    assert not any(board.flash.glob("nvs*")), "NVS must stay out of the board's files"


# --- flash -----------------------------------------------------------------------------
def test_a_power_cut_keeps_exactly_what_was_flushed(board):
    (board.flash / "old.txt").write_text("committed")
    board.mpremote("exec", "f = open('/log.bin', 'wb'); f.write(b'first'); f.flush(); f.write(b'second')\n"
                   "g = open('/new.txt', 'w'); g.write('never flushed')\n"
                   "h = open('/old.txt', 'w'); h.write('replaced?')\n"
                   "import os; print(os.listdir('/'))")
    board.control.power_off()
    since = board.control.status()["console_end"]
    assert (board.flash / "log.bin").read_bytes() == b"first"
    assert (board.flash / "new.txt").read_bytes() == b""  # LittleFS creates the entry at open
    assert (board.flash / "old.txt").read_text() == "committed"
    board.control.power_on()
    board.control.wait_console(">>> ", since=since)
    assert not any((board.flash / ".bzsim" / "pending").iterdir())


def test_a_full_flash_raises_enospc_and_statvfs_shows_the_capacity(board):
    out = run(board, "import os\nprint(os.statvfs('/')[:3])\nf = open('/fill.bin', 'wb')\n"
                     "try:\n while True:\n  f.write(bytes(1024))\nexcept OSError as e:\n print(e.errno)\n"
                     "f.close()\nprint(os.statvfs('/')[3])\nos.remove('/fill.bin')")
    assert out[:4] == ["(4096,", "4096,", "16)", "28"]
    assert out[4] == "0"


def test_os_sync_does_not_commit(board):
    board.mpremote("exec", "import os\nf = open('/sync.txt', 'w'); f.write('data'); os.sync()")
    assert (board.flash / "sync.txt").read_text() == ""


# --- GPIO ------------------------------------------------------------------------------
def test_outputs_are_seen_with_their_history(board):
    run(board, "from machine import Pin, Signal\nimport time\nrelay = Pin(26, Pin.OUT, value=0)\n"
               "relay.on(); time.sleep_ms(50); relay.off()\nled = Signal(27, Pin.OUT, invert=True)\nled.on()")
    assert [level for _, level in board.control.history(26)][-3:] == [0, 1, 0]
    assert board.control.output(27) == 0  # an inverted signal drives low when on
    times = [t for t, _ in board.control.history(26)][-2:]
    assert 0.04 < times[1] - times[0] < 1


def test_a_button_press_fires_the_pin_irq(board):
    board.mpremote("exec", "from machine import Pin\npresses = []\nbutton = Pin(13, Pin.IN, Pin.PULL_UP)\n"
                   "button.irq(lambda p: presses.append(p.value()), Pin.IRQ_FALLING)")
    board.control.press(13, seconds=0.1)
    out = board.resume_exec("import time\ntime.sleep_ms(300)\nprint(presses, button.value())").split()
    assert out == ["[0]", "1"]


def test_input_only_and_missing_pins_are_refused(board):
    out = run(board, "from machine import Pin\nfor args in ((35, Pin.OUT), (20, Pin.IN)):\n"
                     " try:\n  Pin(*args)\n except ValueError as e:\n  print(repr(str(e)))")
    assert out == ["'pin", "can", "only", "be", "input'", "'invalid", "pin'"]


# --- identity and network ---------------------------------------------------------------
def test_unique_id_is_the_stable_mac_and_wifi_is_not_connected(board):
    out = run(board, "import machine, network\nw = network.WLAN(network.STA_IF)\n"
                     "print(machine.unique_id().hex(), w.config('mac').hex(), w.active(), w.isconnected())\n"
                     "w.active(True)\nprint(w.scan(), w.isconnected(), machine.freq())")
    assert len(out[0]) == 12 and out[0] == out[1] and out[2:] == ["False", "False", "[]", "False", "240000000"]
    assert run(board, "import machine; print(machine.unique_id().hex())") == [out[0]]


def test_a_soft_reset_closes_open_files_as_the_port_finalises_them(board):
    board.mpremote("exec", "f = open('/unclosed.txt', 'w'); f.write('kept by soft reset')")
    board.mpremote("soft-reset")
    assert (board.flash / "unclosed.txt").read_text() == "kept by soft reset"


def test_outputs_keep_driving_through_a_soft_reset_but_not_a_hard_one(board):
    run(board, "from machine import Pin\nPin(33, Pin.OUT, value=1)")
    assert run(board, "from machine import Pin\nprint(Pin(33).value())") == ["1"]  # after a soft reset
    assert [level for _, level in board.control.history(33)] == [1]
    since = board.control.status()["console_end"]
    board.mpremote("reset")
    board.control.wait_console("rst:0xc", since=since)
    assert board.control.output(33) is None
