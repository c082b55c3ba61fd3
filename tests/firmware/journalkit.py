"""Journal tests' side of a virtual board: deploy the journal and its driver, read the
journal's files and the board's key from the flash directory, as a host with the key would."""

import json
import shutil
from pathlib import Path

from boardkit import VirtualBoard

from bzcore import record
from toolchain import install_packages

HERE = Path(__file__).resolve().parent
SEGMENT_SUFFIX = ".seg"
JOURNAL_MAIN = "from journal_driver import *\nj = open_journal()\n"  # the driver's names and journal `j`


def start_journal_board(flash: Path, main: str, *board_args: str) -> VirtualBoard:
    """A board (a WROOM-32's memory) with bzcore, gate (.mpy) and the driver on flash, running `main` as main.py."""
    flash.mkdir(parents=True, exist_ok=True)
    install_packages(flash)
    shutil.copy(HERE / "journal_driver.py", flash / "journal_driver.py")
    (flash / "main.py").write_text(main)
    return VirtualBoard(flash, "--module", "wroom-32", *board_args)


def start_journal_session(flash: Path, main: str, *board_args: str) -> VirtualBoard:
    """A journal board whose main.py has finished and left its names at the REPL. Waiting for the
    prompt matters: mpremote's Ctrl-C would otherwise cut a main.py still importing on a busy host."""
    board = start_journal_board(flash, main, *board_args)
    try:
        board.control.wait_console(">>> ", timeout=30)
    except BaseException:
        board.stop()
        raise
    return board


def board_key(flash: Path) -> bytes:
    """The secret the board keeps in NVS ("bzgate"/"key")."""
    items = json.loads((flash / ".bzsim" / "nvs-bzgate.json").read_text())
    kind, value = items["key"]
    assert kind == "b"
    return bytes.fromhex(value)


def segments(flash: Path) -> list[tuple[int, bytes]]:
    """(first seq, file bytes) of each journal segment, oldest first."""
    files = sorted((flash / "journal").glob("*" + SEGMENT_SUFFIX))
    return [(int(f.name[:-len(SEGMENT_SUFFIX)]), f.read_bytes()) for f in files]


def flash_records(flash: Path) -> list[bytes]:
    """Every record on flash in order. A segment holds as many records as the next one's first
    seq says; the newest, as many whole records as it has bytes for."""
    segs = segments(flash)
    out = []
    for k, (first, data) in enumerate(segs):
        count = segs[k + 1][0] - first if k + 1 < len(segs) else len(data) // record.RECORD_SIZE
        out += [data[i * record.RECORD_SIZE:(i + 1) * record.RECORD_SIZE] for i in range(count)]
    return out
