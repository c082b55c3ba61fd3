"""The host key store: each board's 32-byte journal key, by the board's unique id.

Provisioning writes a key here when it gives one to a board; `bzgate collect` reads it to
verify the board's MAC chain. A board's entry may also hold its checkpoint key: the base key
K0 of the Bluezone IDs its checkpoint beacon sends (`checkpoint_key`, 64 hex) and the UTC
midnight K0 belongs to (`checkpoint_day`, Unix seconds), from which `bzgate trace --history`
finds the gates a person passed. The file is JSON, readable only by its owner (a store that
others can read is refused, as ssh refuses such a private key), written atomically, and no
command ever prints a key.

Where it lives: --keys FILE, else $BZGATE_KEYS, else $XDG_CONFIG_HOME/bzgate/keys.json
(~/.config/bzgate/keys.json).
"""

import json
import os
import stat
import threading
import time
from pathlib import Path

from bzgate.errors import UserError
from bzgate.jsonfile import write_atomic

KEY_BYTES = 32
DAY_SECONDS = 86400
FORMAT_VERSION = 1
_CHECKPOINT = ("checkpoint_key", "checkpoint_day")
_SECRETS = ("key", "checkpoint_key")
_write_lock = threading.Lock()  # a fleet's boards store their keys at once


def default_path() -> Path:
    if os.environ.get("BZGATE_KEYS"):
        return Path(os.environ["BZGATE_KEYS"])
    config_home = os.environ.get("XDG_CONFIG_HOME") or Path.home() / ".config"
    return Path(config_home) / "bzgate" / "keys.json"


def _check_checkpoint(board_id: str, entry: dict) -> None:
    if "checkpoint_key" not in entry:
        return
    if len(bytes.fromhex(entry["checkpoint_key"])) != KEY_BYTES:
        raise ValueError(f"board {board_id}: the checkpoint key is not {KEY_BYTES} bytes")
    day = entry.get("checkpoint_day")
    if type(day) is not int or day % DAY_SECONDS:
        raise ValueError(f"board {board_id}: checkpoint_day is not a UTC midnight")


class KeyStore:
    def __init__(self, path: Path | str | None = None):
        self.path = Path(path) if path else default_path()
        # The file's (inode, mtime, size) and what it held: an ingester looks up a key for every
        # batch, and the file is read again only when it has changed (writes replace it).
        self._cached: tuple[tuple, dict] | None = None

    def _read(self, fresh: bool = False) -> dict:
        """The boards' entries; `fresh` for a copy of its own that a writer may change."""
        try:
            st = self.path.stat()
        except FileNotFoundError:
            return {}
        if st.st_mode & (stat.S_IRWXG | stat.S_IRWXO):
            raise UserError(f"key store {self.path} can be read by others; "
                            f"make it private (chmod 600 {self.path}) and check who copied it")
        version = (st.st_ino, st.st_mtime_ns, st.st_size)
        if not fresh and self._cached is not None and self._cached[0] == version:
            return self._cached[1]
        try:
            data = json.loads(self.path.read_text())
            boards = data["boards"]
            for board_id, entry in boards.items():
                if len(bytes.fromhex(entry["key"])) != KEY_BYTES:
                    raise ValueError(f"board {board_id}: the key is not {KEY_BYTES} bytes")
                _check_checkpoint(board_id, entry)
        except (OSError, ValueError, KeyError, TypeError, AttributeError) as e:
            raise UserError(f"key store {self.path} is damaged ({e}); restore it from your backup") from e
        if not fresh:
            self._cached = (version, boards)
        return boards

    def get(self, board_id: str) -> bytes | None:
        """The board's key, or None when this store has none for it."""
        entry = self._read().get(board_id.lower())
        return bytes.fromhex(entry["key"]) if entry else None

    def boards(self) -> dict:
        """{board id: what was recorded with its key (gate_id, added)}, keys left out."""
        return {board_id: {k: v for k, v in entry.items() if k not in _SECRETS}
                for board_id, entry in self._read().items()}

    def checkpoints(self) -> dict:
        """{board id: {"gate_id", "key": K0 bytes, "day": Unix s of K0's UTC midnight}} for the
        boards that have a checkpoint key."""
        return {board_id: {"gate_id": entry.get("gate_id", ""),
                           "key": bytes.fromhex(entry["checkpoint_key"]),
                           "day": entry["checkpoint_day"]}
                for board_id, entry in self._read().items() if "checkpoint_key" in entry}

    def put_checkpoint(self, board_id: str, key: bytes, day: int, **info) -> None:
        """Add a checkpoint key to a board already in the store (its journal key stays)."""
        if len(key) != KEY_BYTES or day % DAY_SECONDS:
            raise ValueError(f"a checkpoint key is {KEY_BYTES} bytes from a UTC midnight")
        with _write_lock:
            boards = self._read(fresh=True)
            entry = boards.get(board_id.lower())
            if entry is None:
                raise UserError(f"board {board_id} has no journal key in {self.path}; "
                                f"configure it with `bzgate provision configure` first")
            entry.update(info, checkpoint_key=key.hex(), checkpoint_day=day)
            self._write({"version": FORMAT_VERSION, "boards": boards})

    def put(self, board_id: str, key: bytes, **info) -> None:
        """Store (or replace) a board's key, with what identifies the board."""
        if len(key) != KEY_BYTES:
            raise ValueError(f"a board key is {KEY_BYTES} bytes, not {len(key)}")
        with _write_lock:
            boards = self._read(fresh=True)
            kept = {k: v for k, v in boards.get(board_id.lower(), {}).items() if k in _CHECKPOINT}
            boards[board_id.lower()] = {"key": key.hex(), "added": int(time.time()), **kept, **info}
            self._write({"version": FORMAT_VERSION, "boards": boards})

    def _write(self, data: dict) -> None:
        write_atomic(self.path, data, private=True)
