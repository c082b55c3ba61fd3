"""Soft and hard resets, the watchdog and RTC memory, as on an ESP32."""

import time

import pytest

from boardkit import start_virtual_board

# boot.py and main.py append their name and the reset cause to /boots.txt (closed = committed)
BOOT = "import machine\nwith open('/boots.txt', 'a') as f:\n f.write('boot %d\\n' % machine.reset_cause())\n"
MAIN = "with open('/boots.txt', 'a') as f:\n f.write('main\\n')\n"
PWRON, HARD, WDT, DEEPSLEEP, SOFT = 1, 2, 3, 4, 5


@pytest.fixture(scope="module")
def started(tmp_path_factory):
    """The board once its power-on boot has run, and what that boot wrote: each test can then
    run alone, or after any other."""
    flash = tmp_path_factory.mktemp("resets") / "flash"
    flash.mkdir()
    (flash / "boot.py").write_text(BOOT)
    (flash / "main.py").write_text(MAIN)
    board = start_virtual_board(flash)
    wait_for_boot(board, 0)
    yield board, boots(board)
    board.stop()


@pytest.fixture
def board(started):
    return started[0]


def boots(board) -> list[str]:
    log = board.flash / "boots.txt"
    lines = log.read_text().splitlines()
    log.write_text("")
    return lines


def wait_for_boot(board, since: int, timeout: float = 10) -> None:
    """Until the REPL prompt follows the next hard boot's ROM line ("rst:...") after since."""
    seen = board.control.wait_console("rst:", timeout=timeout, since=since)
    board.control.wait_console("information.\r\n>>> ", timeout=timeout, since=since + seen.rindex("rst:"))


def test_power_on_runs_boot_then_main(started):
    assert started[1] == [f"boot {PWRON}", "main"]


def test_mpremote_soft_reset_runs_boot_only_and_says_soft_reset(board):
    boots(board)
    out = board.mpremote("soft-reset", "+", "exec", "import machine; print(machine.reset_cause())").stdout
    assert out.strip() == str(SOFT)
    assert boots(board) == [f"boot {SOFT}"]  # one soft reset: exec does not repeat it


def test_mpremote_reset_runs_boot_and_main_with_hard_reset(board):
    boots(board)
    since = board.control.status()["console_end"]
    board.mpremote("reset")
    wait_for_boot(board, since)
    assert boots(board) == [f"boot {SOFT}", f"boot {HARD}", "main"]  # exec's soft reset, then reset
    assert board.resume_exec("import machine; print(machine.reset_cause())").strip() == str(HARD)


def test_machine_reset_and_soft_reset_from_code(board):
    since = board.control.status()["console_end"]
    board.mpremote("exec", "--no-follow", "import machine; machine.reset()")
    wait_for_boot(board, since)
    boots(board)
    board.mpremote("exec", "--no-follow", "import machine; machine.soft_reset()")
    time.sleep(0.5)
    assert board.resume_exec("import machine; print(machine.reset_cause())").strip() == str(SOFT)


def test_watchdog_resets_the_board_through_a_soft_reset_and_rtc_memory_survives(board):
    board.mpremote("exec", "import machine; machine.RTC().memory(b'crash=1'); machine.WDT(timeout=2000)")
    since = board.control.status()["console_end"]
    board.mpremote("soft-reset")  # the watchdog keeps running in the fresh interpreter
    boots(board)
    wait_for_boot(board, since)
    console = board.control.console(since)
    assert "task_wdt" in console and "rst:0x7 (TG0WDT_SYS_RESET)" in console
    assert console.index("MPY: soft reboot") < console.index("task_wdt")
    assert boots(board) == [f"boot {WDT}", "main"]
    assert board.resume_exec("import machine; print(machine.RTC().memory())").strip() == "b'crash=1'"


def test_a_fed_watchdog_does_not_reset(board):
    board.mpremote("reset")
    time.sleep(0.5)
    out = board.resume_exec("import machine, time\nw = machine.WDT(timeout=1000)\n"
                            "for _ in range(15):\n w.feed(); time.sleep_ms(100)\n"
                            "print(machine.reset_cause())")
    assert out.strip() == str(HARD)
    board.mpremote("exec", "--no-follow", "import machine; machine.reset()")  # disarm it


def test_power_cycle_clears_rtc_memory_and_the_clock(board):
    board.mpremote("exec", "import machine; machine.RTC().memory(b'x' * 2048)\n"
                   "machine.RTC().datetime((2026, 5, 1, 4, 12, 0, 0, 0))")
    board.mpremote("soft-reset")
    out = board.resume_exec("import machine, time\nprint(len(machine.RTC().memory()), time.gmtime()[0])")
    assert out.split() == ["2048", "2026"]
    since = board.control.status()["console_end"]
    board.control.power_off()
    board.control.power_on()
    wait_for_boot(board, since)
    out = board.resume_exec("import machine, time\nprint(machine.RTC().memory(), time.gmtime()[0], machine.reset_cause())")
    assert out.split() == ["b''", "2000", str(PWRON)]


def test_deepsleep_wakes_with_deepsleep_reset_keeping_rtc_memory(board):
    board.mpremote("exec", "import machine; machine.RTC().memory(b'asleep')")
    since = board.control.status()["console_end"]
    board.mpremote("exec", "--no-follow", "import machine; machine.deepsleep(300)")
    wait_for_boot(board, since)
    out = board.resume_exec("import machine; print(machine.reset_cause(), machine.RTC().memory())")
    assert out.split() == [str(DEEPSLEEP), "b'asleep'"]


def test_ctrl_d_at_the_friendly_repl_runs_main_as_the_port_does(board):
    import serial

    board.mpremote("exec", "pass")  # leaves the board at the friendly REPL
    boots(board)
    with serial.Serial(board.serial, 115200, timeout=5) as port:
        port.write(b"\r\x02")
        port.read_until(b"information.\r\n>>> ")
        port.write(b"\x04")
        seen = port.read_until(b"information.\r\n>>> ")
    assert b"MPY: soft reboot\r\n" in seen
    assert boots(board) == [f"boot {SOFT}", "main"]  # friendly mode: main.py too (raw mode: not)
