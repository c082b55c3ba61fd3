"""Running virtual boards, for `bzgate provision list`: each `bzgate sim board` process leaves
a file here while it runs ({"serial", "flash", "pid"}), named by its pid.

Where: $BZSIM_REGISTRY, else $XDG_RUNTIME_DIR/bzsim, else /tmp/bzsim-UID.
"""

import json
import os
from pathlib import Path


def folder() -> Path:
    if os.environ.get("BZSIM_REGISTRY"):
        return Path(os.environ["BZSIM_REGISTRY"])
    runtime = os.environ.get("XDG_RUNTIME_DIR")
    return Path(runtime) / "bzsim" if runtime else Path(f"/tmp/bzsim-{os.getuid()}")


def register(serial: str, flash: Path) -> Path:
    where = folder()
    where.mkdir(parents=True, exist_ok=True, mode=0o700)
    entry = where / f"{os.getpid()}.json"
    entry.write_text(json.dumps({"serial": serial, "flash": str(flash), "pid": os.getpid()}))
    return entry


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def boards() -> list[dict]:
    """The boards running now (files of boards that died without cleaning up are removed)."""
    found = []
    for entry in sorted(folder().glob("*.json")):
        try:
            info = json.loads(entry.read_text())
        except (OSError, ValueError):
            continue
        if isinstance(info, dict) and int(info.get("pid", 0)) > 0 and _alive(int(info["pid"])):
            found.append(info)
        else:
            entry.unlink(missing_ok=True)
    return found
