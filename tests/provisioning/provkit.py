"""Virtual boards with an empty flash (a MicroPython board fresh from `provision flash`), and
the real `bzgate` command run against them with a private key store, inventory and registry.

    boards = start_boards(tmp, 4)             # VirtualBoards (boardkit), each with a quiet office air
    run = bzgate(tmp, "provision", "verify", "--port", boards[0].serial)   # CompletedProcess
"""

import os
import subprocess
from pathlib import Path

from boardkit import BIN, VirtualBoard


def environment(where: Path) -> dict:
    return {**os.environ, "BZGATE_KEYS": str(where / "keys.json"), "BZSIM_REGISTRY": str(where / "registry")}


def start_boards(where: Path, count: int, args_for=lambda k: ()) -> list[VirtualBoard]:
    """Boards registered in where/registry (the process environment is restored after); board k
    started with `bzgate sim board` arguments args_for(k)."""
    saved = dict(os.environ)
    os.environ.update(environment(where))
    boards = []
    try:
        for k in range(count):
            boards.append(VirtualBoard(where / f"flash{k}", *args_for(k)))
    except BaseException:
        stop_boards(boards)
        raise
    finally:
        os.environ.clear()
        os.environ.update(saved)
    return boards


def stop_boards(boards) -> None:
    for board in boards:
        board.stop()


def bzgate(where: Path, *args: str, timeout: float = 180) -> subprocess.CompletedProcess:
    return subprocess.run([str(BIN / "bzgate"), *args], capture_output=True, text=True, timeout=timeout,
                          env=environment(where), cwd=where)
