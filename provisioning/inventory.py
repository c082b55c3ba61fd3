"""The inventory: every board provisioning has configured, by board id (machine.unique_id, the
base MAC on an ESP32), with its MAC, firmware version, gate id, site and location.

A JSON file next to the host key store (inventory.json): the two are backed up together, and
the inventory holds no secret, so it may be shared (mode 0644). Written atomically.
"""

import json
import threading
import time
from pathlib import Path

from bzgate.errors import UserError
from bzgate.jsonfile import write_atomic
from bzgate.keys import default_path as default_key_path

_lock = threading.Lock()  # a fleet's boards finish at once


def default_path(key_store: Path | None = None) -> Path:
    return (Path(key_store) if key_store else default_key_path()).with_name("inventory.json")


class Inventory:
    def __init__(self, path: Path):
        self.path = Path(path)

    def boards(self) -> dict:
        try:
            return json.loads(self.path.read_text())["boards"]
        except FileNotFoundError:
            return {}
        except (OSError, ValueError, KeyError, TypeError) as e:
            raise UserError(f"inventory {self.path} is damaged ({e}); restore it from your backup") from e

    def record(self, board_id: str, **info) -> None:
        with _lock:
            boards = self.boards()
            boards[board_id.lower()] = {**info, "configured": int(time.time())}
            write_atomic(self.path, {"boards": boards})
