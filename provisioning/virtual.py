"""Put the gate firmware onto a virtual board by writing its flash folder directly: what
`bzgate provision deploy` puts on a board (bzprov.build), without the serial copy, and a
config.json.
"""

import json
import shutil
import tempfile
from pathlib import Path

from bzprov.build import FIRMWARE, HOST_MARCH, build


def install(flash: Path, config: dict, firmware: Path = FIRMWARE) -> None:
    flash = Path(flash)
    flash.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as out:
        for remote, local in build(Path(out), HOST_MARCH, firmware).items():  # native code for this CPU
            target = flash / remote.lstrip("/")
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(local, target)
    (flash / "config.json").write_text(json.dumps(config))
