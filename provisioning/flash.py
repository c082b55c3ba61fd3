"""`bzgate provision flash`: MicroPython onto a bare board with esptool (run as a command).

The image's offset depends on the chip: 0x1000 on the ESP32 (its second-stage bootloader
sits there), 0x0 on the ESP32-S3 and ESP32-C3. With --chip auto, esptool's chip-id names the
chip first. esptool verifies what it wrote (its "Hash of data verified.").
"""

import re
import shutil
import subprocess
import sys
from pathlib import Path

from bzgate.errors import UserError
from bzprov.mpremote import BoardError

OFFSETS = {"esp32": 0x1000, "esp32s3": 0x0, "esp32c3": 0x0}
BAUD = 460800
_DETECTED = re.compile(r"Detecting chip type\.\.\.\s*(ESP32(?:-[SC]\d)?)", re.I)


def esptool() -> list[str]:
    """esptool from PATH (a stand-in in tests), else the module installed with bzgate (found
    whether bzgate was installed in a venv, with pipx or with pip --user)."""
    found = shutil.which("esptool")
    return [found] if found else [sys.executable, "-m", "esptool"]


def _run(command: list[str], dry_run: bool, echo) -> str:
    echo("$ " + " ".join(command))
    if dry_run:
        return ""
    done = subprocess.run(command, capture_output=True, text=True, stdin=subprocess.DEVNULL)
    for line in done.stdout.splitlines():
        echo("  " + line)
    if done.returncode != 0:
        raise BoardError(f"esptool failed (status {done.returncode}): {(done.stderr or done.stdout).strip()[-300:]}")
    return done.stdout


def detect_chip(port: str, echo=lambda line: None) -> str:
    out = _run([*esptool(), "--port", port, "chip-id"], False, echo)
    match = _DETECTED.search(out)
    chip = match[1].lower().replace("-", "") if match else None
    if chip not in OFFSETS:
        raise BoardError(f"{port}: esptool found {match[1] if match else 'no chip'}; "
                        f"bzgate knows {', '.join(OFFSETS)}")
    return chip


def flash(port: str, image: Path, chip: str = "auto", erase: bool = False, dry_run: bool = False,
          echo=lambda line: None) -> str:
    """Write the image; the chip it went to."""
    if not Path(image).is_file():
        raise UserError(f"{image}: no such image file (MicroPython's .bin for your chip)")
    if chip == "auto":
        if dry_run:
            raise UserError("--dry-run needs --chip: the chip is only known by asking the board")
        chip = detect_chip(port, echo)
    command = [*esptool(), "--chip", chip, "--port", port, "--baud", str(BAUD), "write-flash"]
    if erase:
        command.append("--erase-all")
    out = _run(command + [hex(OFFSETS[chip]), str(image)], dry_run, echo)
    if not dry_run and "Hash of data verified" not in out:
        raise BoardError(f"{port}: esptool did not confirm the written image")
    return chip
