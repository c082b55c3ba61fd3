"""Put the gate firmware onto a virtual board by writing its flash folder directly: what
`bzgate provision deploy` puts on a board (bzprov.build), without the serial copy, and a
config.json. With `romfs` (a board with bzgate's image, the virtual board's default) the modules
go into its ROMFS partition as one image, as deploy writes them; without, as files.
"""

import json
import shutil
import tempfile
from pathlib import Path

from bzprov.build import FIRMWARE, HOST_MARCH, build, is_entry_point, romfs_image

# The virtual board's ROMFS partition, in its private directory (bzsim.shims.boardmemory's
# ROMFS_FILE there); an image shorter than the partition reads as erased flash after it.
ROMFS_PARTITION = Path(".bzsim") / "romfs.img"


def install(flash: Path, config: dict, firmware: Path = FIRMWARE, romfs: bool = True) -> None:
    flash = Path(flash)
    flash.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as out:
        files = build(Path(out), HOST_MARCH, firmware)  # native code for this CPU
        if romfs:
            (flash / ROMFS_PARTITION).parent.mkdir(exist_ok=True)
            (flash / ROMFS_PARTITION).write_bytes(romfs_image(files))
            files = {remote: local for remote, local in files.items() if is_entry_point(remote)}
        for remote, local in files.items():
            target = flash / remote.lstrip("/")
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(local, target)
    (flash / "config.json").write_text(json.dumps(config))
