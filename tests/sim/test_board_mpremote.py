"""Real mpremote drives the virtual board: files, exec, run, the REPL's handshakes."""

import time

import pytest

from boardkit import start_virtual_board

from bzsim.board.process import heap_bytes, module_heap


@pytest.fixture(scope="module")
def board(tmp_path_factory):
    board = start_virtual_board(tmp_path_factory.mktemp("mpremote") / "flash")
    yield board
    assert board.stop() == 0  # SIGTERM ends the board cleanly


def test_files_copied_in_land_in_the_flash_directory_and_ls_shows_sizes(board, tmp_path):
    source = tmp_path / "config.json"
    source.write_text('{"gate": "front"}')
    board.mpremote("fs", "mkdir", ":etc", "+", "fs", "cp", str(source), ":etc/config.json")
    assert (board.flash / "etc" / "config.json").read_text() == '{"gate": "front"}'
    listing = board.mpremote("fs", "ls", ":etc").stdout
    assert "17 config.json" in listing
    assert board.mpremote("fs", "cat", ":etc/config.json").stdout.strip() == '{"gate": "front"}'


def test_files_copied_out_match_and_rm_removes(board, tmp_path):
    board.mpremote("exec", "f = open('/out.bin', 'wb'); f.write(bytes(range(256)) * 8); f.close()")
    board.mpremote("fs", "cp", ":out.bin", str(tmp_path / "out.bin"))
    assert (tmp_path / "out.bin").read_bytes() == bytes(range(256)) * 8
    board.mpremote("fs", "rm", ":out.bin")
    assert not (board.flash / "out.bin").exists()


def test_exec_and_run_print_what_the_board_prints(board, tmp_path):
    assert board.mpremote("exec", "print(6 * 7)").stdout.strip() == "42"
    script = tmp_path / "script.py"
    script.write_text("import sys\nprint(sys.implementation.name)\n")
    assert board.mpremote("run", str(script)).stdout.strip() == "micropython"


def test_the_board_private_state_is_invisible_from_the_board(board):
    out = board.mpremote("exec", "import os\nprint(os.listdir('/'))\n"
                         "try:\n os.stat('/.bzsim')\nexcept OSError as e:\n print(e.errno)").stdout
    assert ".bzsim" not in out and out.strip().endswith("2")
    assert (board.flash / ".bzsim" / "board.json").exists()


def test_ilistdir_gives_the_ports_four_tuples(board):
    board.mpremote("exec", "f = open('/four.txt', 'w'); f.write('1234'); f.close()")
    out = board.mpremote("exec", "import os\nprint([e for e in os.ilistdir('/') if e[0] == 'four.txt'])")
    assert out.stdout.strip() == "[('four.txt', 32768, 0, 4)]"


def test_repl_over_pyserial_shows_the_esp32_banner_and_soft_reboots_on_ctrl_d(board):
    import serial

    with serial.Serial(board.serial, 115200, timeout=5) as port:
        port.write(b"\r\x03\x02")  # interrupt, friendly REPL (which prints the banner)
        assert b"Generic ESP32 module with ESP32" in port.read_until(b"information.\r\n>>> ")
        port.write(b"1 + 1\r")
        assert port.read_until(b">>> ").endswith(b"2\r\n>>> ")
        port.write(b"\x04")
        seen = port.read_until(b">>> ")
    assert b"MPY: soft reboot\r\n" in seen and b"Generic ESP32 module" in seen
    assert b"linux" not in seen


def test_garbage_on_the_serial_port_is_just_input(board):
    import serial

    with serial.Serial(board.serial, 115200, timeout=2) as port:
        port.write(bytes(range(256)) * 4 + b"\xff\xfe\x00\r\n")
    assert board.control.status()["powered"]
    # The garbage holds Ctrl-D (soft resets): what comes while the board restarts waits in its
    # input buffer, and beyond it is lost, as on a UART. Once the board has taken it all in,
    # the board answers as before.
    quiet_since, seen = time.monotonic(), board.control.status()["console_end"]
    while time.monotonic() - quiet_since < 1.0:
        time.sleep(0.1)
        now = board.control.status()["console_end"]
        if now != seen:
            quiet_since, seen = time.monotonic(), now
    assert board.mpremote("exec", "print('still here')").stdout.strip() == "still here"


def test_the_heap_is_limited_like_a_board(board):
    out = board.mpremote("exec", "try:\n b = bytearray(400_000)\nexcept MemoryError:\n print('MemoryError')")
    assert out.stdout.strip() == "MemoryError"


def test_the_code_finds_the_boards_whole_heap_whatever_the_shims_cost(board):
    """A WROOM-32's heap with BLE off, less what mpremote's exec itself holds: the shims, which
    are C on the port, take none of it, however long the checkout's path."""
    out = board.mpremote("exec", "import gc; gc.collect(); print(gc.mem_free())").stdout
    assert 0 <= heap_bytes(module_heap("wroom-32")) - int(out) < 2048


def test_a_wrover_finds_its_whole_heap_in_one_piece(tmp_path):
    """The trials that find the heap's largest run at startup leave none of it taken: the
    collector scans the C stack conservatively, and a let-go trial kept half of it once."""
    wrover = start_virtual_board(tmp_path / "flash", "--module", "wrover")
    try:
        code = ("import gc; gc.collect(); free = gc.mem_free(); print(free)\n"
                "b = bytearray(free - 4096); print('one piece')")
        free, piece = wrover.mpremote("exec", code).stdout.splitlines()
    finally:
        wrover.stop()
    assert 0 <= heap_bytes(module_heap("wrover")) - int(free) < 2048 and piece == "one piece"


def test_the_boards_heap_is_one_piece_and_its_c_modules_take_none_of_it(board):
    """As on the port: the free heap is one block (the shims' holes are held back, not
    handed to the code), and bluetooth, machine and esp32, C there, were loaded before it."""
    code = ("import gc; gc.collect(); free = gc.mem_free()\n"
            "import bluetooth, esp32, machine; gc.collect(); print(free - gc.mem_free())\n"
            "try:\n b = bytearray(free - 4096)\n print('one piece')\nexcept MemoryError:\n print('split')")
    out = board.mpremote("exec", code).stdout
    cost, piece = out.splitlines()
    assert int(cost) < 256 and piece == "one piece"  # the REPL's names only; bluetooth alone is 8 KB
