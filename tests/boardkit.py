"""Virtual ESP32 boards (`bzgate sim board`) as real processes, for tests.

    board = start_virtual_board(flash_dir, "--flash-size", "64K")
    board.mpremote("exec", "print(1)").stdout     # the real mpremote command on its port
    board.resume_exec("print(2)")                  # exec without mpremote's soft reset
    board.control.press(13)                        # a bzsim.board.control.BoardControl
    board.serial, board.flash                      # pty path, flash directory
    board.stop()                                   # SIGTERM; returns the exit status
"""

import subprocess
import sys
from pathlib import Path

from bzsim.board.control import BoardControl

BIN = Path(sys.executable).parent
STARTUP_TIMEOUT = 15


class VirtualBoard:
    def __init__(self, flash: Path, *args: str):
        self.flash = Path(flash)
        self.process = subprocess.Popen(
            [str(BIN / "bzgate"), "sim", "board", "--flash", str(flash), *args],
            stdout=subprocess.PIPE, text=True)
        self.serial = self.process.stdout.readline().strip()
        if not self.serial:
            self.process.wait(STARTUP_TIMEOUT)
            raise RuntimeError(f"virtual board exited with status {self.process.returncode}")
        try:
            self.control = BoardControl.for_flash(flash)
            self.control.wait_console("rst:0x1", timeout=STARTUP_TIMEOUT)  # powered on (main.py may run on)
        except BaseException:
            self.process.kill()
            self.process.wait()
            raise

    def mpremote(self, *args: str, timeout: float = 20, check: bool = True) -> subprocess.CompletedProcess:
        result = subprocess.run([str(BIN / "mpremote"), "connect", self.serial, *args],
                                capture_output=True, text=True, timeout=timeout)
        if check and result.returncode != 0:
            raise AssertionError(f"mpremote {' '.join(args)} failed ({result.returncode}):\n"
                                 f"{result.stdout}\n{result.stderr}")
        return result

    def resume_exec(self, code: str) -> str:
        """stdout of code run at the board's REPL without a soft reset first."""
        return self.mpremote("resume", "exec", code).stdout

    def stop(self) -> int:
        self.control.close()
        self.process.terminate()
        return self.process.wait(10)


def start_virtual_board(flash: Path, *args: str) -> VirtualBoard:
    return VirtualBoard(flash, *args)
