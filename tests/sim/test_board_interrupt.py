"""Ctrl-C on the serial port: it stops a running main.py for mpremote, and it is a plain byte
for firmware that turned the interrupt off (micropython.kbd_intr(-1)), as on the port."""

import contextlib

import serial

from boardkit import start_virtual_board

LOOPING_MAIN = "import time\nprint('looping')\nwhile True:\n    time.sleep_ms(20)\n"
ECHO_MAIN = """import micropython, sys
micropython.kbd_intr(-1)
print('echo ready')
while True:
    c = sys.stdin.buffer.read(1)
    print('got', c[0])
    if c == b'q':
        break
micropython.kbd_intr(3)
"""


@contextlib.contextmanager
def board_running(tmp_path, main: str):
    """A board whose main.py is main, stopped afterwards."""
    flash = tmp_path / "flash"
    flash.mkdir()
    (flash / "main.py").write_text(main)
    board = start_virtual_board(flash)
    try:
        yield board
    finally:
        board.stop()


def test_mpremote_interrupts_a_running_main_and_a_running_exec(tmp_path):
    with board_running(tmp_path, LOOPING_MAIN) as board:
        # main.py runs: before it, while the board starts, a Ctrl-C is a plain byte (as on the port)
        board.control.wait_console("looping", timeout=30)
        assert board.mpremote("exec", "print('in')").stdout.strip() == "in"
        board.mpremote("exec", "--no-follow", "while True:\n pass")
        assert board.mpremote("exec", "print('again')").stdout.strip() == "again"


def test_ctrl_c_is_data_when_the_firmware_disabled_the_interrupt(tmp_path):
    with board_running(tmp_path, ECHO_MAIN) as board:
        board.control.wait_console("echo ready")
        with serial.Serial(board.serial, 115200, timeout=5) as port:
            port.write(b"\x03\x1c\x1aq")  # Ctrl-C, Ctrl-\\ and Ctrl-Z: bytes, never signals
            seen = port.read_until(b"got 113\r\n")
        assert b"got 3\r\ngot 28\r\ngot 26\r\ngot 113\r\n" in seen
        assert board.control.status()["boot_id"] == 1  # no crash, no reboot


BUSY_MAIN = """import select, sys, time
print('busy')
time.sleep_ms(800)
poll = select.poll()
poll.register(sys.stdin, select.POLLIN)
n = 0
while poll.poll(300):
    sys.stdin.buffer.read(1)
    n += 1
print('got', n)
"""


def test_input_beyond_the_stdin_ring_is_lost_while_the_board_is_busy(tmp_path):
    with board_running(tmp_path, BUSY_MAIN) as board:
        board.control.wait_console("busy")
        with serial.Serial(board.serial, 115200, timeout=5) as port:
            port.write(b"a" * 1000)  # arrives in 87 ms at 115200 baud, while main.py sleeps
            assert port.read_until(b"\r\n>>> ").split(b"got ")[1].startswith(b"259\r\n")
