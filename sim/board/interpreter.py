"""One life of the virtual board: the MicroPython unix port running the board's startup
script on a pty of its own, so its REPL, raw REPL and Ctrl-C behave as on a terminal."""

import fcntl
import os
import pty
import signal
import struct
import subprocess
import sys
import termios
from pathlib import Path

SHIMS = Path(__file__).resolve().parent.parent / "shims"
CTRL_C = b"\x03"
# Start with SIGINT ignored: the console script's CPython would otherwise catch it while it
# starts, and write() would take that for MicroPython running code (see _catches_sigint).
_SIGINT_IGNORED = ["/bin/sh", "-c", 'trap "" INT; exec "$0" "$@"']


def micropython_command() -> list[str]:
    """The unix-port interpreter installed with this Python, run as its module: where pip put
    the package's `micropython` script depends on how bzgate was installed (-P: not the
    modules of the current directory)."""
    return [sys.executable, "-P", "-m", "micropython_unix"]


def _quiet_terminal(fd: int) -> None:
    """Raw bytes both ways; no byte ever becomes a signal (Ctrl-C is handled in write())."""
    attrs = termios.tcgetattr(fd)
    attrs[0] &= ~(termios.ICRNL | termios.IXON | termios.INLCR | termios.IGNCR)
    attrs[1] &= ~termios.OPOST
    attrs[3] &= ~(termios.ECHO | termios.ICANON | termios.IEXTEN)
    for char in (termios.VINTR, termios.VQUIT, termios.VSUSP):
        attrs[6][char] = b"\0"  # disabled
    termios.tcsetattr(fd, termios.TCSANOW, attrs)


class Interpreter:
    def __init__(self, env: dict[str, str], heap: str):
        self.fd, slave = pty.openpty()
        _quiet_terminal(slave)
        os.set_blocking(self.fd, False)
        self.process = subprocess.Popen(
            [*_SIGINT_IGNORED, *micropython_command(), "-X", f"heapsize={heap}", "-i", str(SHIMS / "_boot.py")],
            stdin=slave,
            stdout=slave,
            stderr=slave,
            env={**os.environ, **env, "MICROPYPATH": f"{SHIMS}:.frozen", "TZ": "UTC"},
            start_new_session=True,
        )
        self._slave = slave  # kept to see how much input waits unread (the ring's fill)

    def read(self) -> bytes:
        """What the interpreter printed since the last call."""
        chunks = []
        while True:
            try:
                chunk = os.read(self.fd, 65536)
            except OSError:
                break
            if not chunk:
                break
            chunks.append(chunk)
        return b"".join(chunks)

    def pending_input(self) -> int:
        """Bytes written to the interpreter that it has not read yet."""
        return struct.unpack("i", fcntl.ioctl(self._slave, termios.FIONREAD, b"\0" * 4))[0]

    def exit_status(self) -> int | None:
        return self.process.poll()

    def write(self, data: bytes) -> None:
        """Typed input; dropped when the interpreter's input buffer is full, as on a UART.
        Ctrl-C interrupts running code when micropython.kbd_intr(3) is on: the unix port
        catches SIGINT exactly then (only while code runs). At the REPL, or with
        kbd_intr(-1), it is an ordinary byte, as on the ESP32 port."""
        first, *rest = data.split(CTRL_C)
        self._write(first)
        for chunk in rest:
            if self._catches_sigint():
                os.kill(self.process.pid, signal.SIGINT)
            else:
                self._write(CTRL_C)
            self._write(chunk)

    def _write(self, data: bytes) -> None:
        try:
            os.write(self.fd, data)
        except OSError:
            pass

    def _catches_sigint(self) -> bool:
        try:
            with open(f"/proc/{self.process.pid}/status") as status:
                caught = next(line for line in status if line.startswith("SigCgt:"))
        except (OSError, StopIteration):
            return False
        return bool(int(caught.split()[1], 16) >> (signal.SIGINT - 1) & 1)

    def kill(self) -> None:
        try:
            os.killpg(self.process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.process.wait()

    def close(self) -> None:
        os.close(self.fd)
        os.close(self._slave)
