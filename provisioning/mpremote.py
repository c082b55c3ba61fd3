"""mpremote, run as a command: one process per board at a time, its failure a BoardError.

Connecting stops a running gate (mpremote's break-in is taken as MAINT) and leaves the board
at its REPL; `reset` starts the gate again.
"""

import subprocess
import sys

from bzgate.errors import UserError

# as a module, found however bzgate was installed; -P: not the modules of the current directory
MPREMOTE = [sys.executable, "-P", "-m", "mpremote"]
BOARD_FAILED = 1  # exit status when a board (not the command line) is at fault
TIMEOUT_S = 120


class BoardError(UserError):
    """A board that failed a step: exit status 1 (a mistake on the command line is 2)."""

    def __init__(self, message: str):
        super().__init__(message, exit_code=BOARD_FAILED)


def run(port: str, *args: str, timeout: float = TIMEOUT_S) -> str:
    """stdout of `mpremote connect PORT ARGS...` (chain commands with "+")."""
    command = [*MPREMOTE, "connect", port, *args]
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=timeout,
                              stdin=subprocess.DEVNULL)
    except subprocess.TimeoutExpired:
        raise BoardError(f"{port}: mpremote did not finish within {timeout:.0f} s") from None
    if done.returncode != 0:
        why = (done.stderr.strip() or done.stdout.strip()).splitlines()[-3:]
        raise BoardError(f"{port}: mpremote {args[0]} failed: {' / '.join(why) or f'status {done.returncode}'}")
    return done.stdout


def exec_lines(port: str, code: str, *more: str, timeout: float = TIMEOUT_S) -> list[str]:
    """The lines that `code` prints on the board (then any further chained commands)."""
    return run(port, "exec", code, *more, timeout=timeout).splitlines()
