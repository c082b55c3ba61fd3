"""Run one virtual board in this process until SIGTERM or SIGINT."""

import signal
import sys

from bzsim.board import registry
from bzsim.board.process import Board


def run(board: Board) -> None:
    """Print the serial device's path first, then serve until a signal stops the board."""
    def stop(_signum, _frame):
        board.stop()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    print(board.serial_path, flush=True)
    sys.stdout.flush()
    try:
        board.follow_visitors()
    except OSError as e:
        print(f"bzgate sim board: the air's visitors cannot reach this board: {e}", file=sys.stderr)
    entry = registry.register(board.serial_path, board.flash)
    try:
        board.power_on()
        board.serve()
    finally:
        entry.unlink(missing_ok=True)
        board.close()
