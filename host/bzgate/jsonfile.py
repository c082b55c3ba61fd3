"""Provisioning's state files (key store, inventory, fleet progress) written whole or not at all."""

import json
import os
from pathlib import Path


def write_atomic(path: Path, data, private: bool = False) -> None:
    """JSON into a temporary file beside `path`, synced, then renamed over it: a crash leaves
    the old file or the new one, never half of one. private: only the owner may read it."""
    path.parent.mkdir(parents=True, exist_ok=True, **({"mode": 0o700} if private else {}))
    temporary = path.with_name(path.name + ".tmp")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600 if private else 0o644)
    with os.fdopen(fd, "w") as f:
        json.dump(data, f, indent=1, sort_keys=True)
        f.flush()
        os.fsync(f.fileno())
    os.replace(temporary, path)
