"""The site secret that hashed exports key their IDs with: 32 random bytes in a private file,
made on first use. The same secret gives the same hashed ID in every export, so exports can be
joined with each other but not with published F0 keys by anyone who lacks the file.
"""

import hashlib
import hmac
import os
import secrets
from pathlib import Path

from bzgate import store
from bzgate.errors import UserError

SECRET_BYTES = 32
HASH_HEX = 32  # 128 bits: no collisions in any site's lifetime, half the width of the full digest


def secret_path(given: str | Path | None, db: str | Path | None) -> Path:
    """--secret, else $BZGATE_SECRET, else beside the database file (bzgate.db ->
    bzgate.secret); a PostgreSQL database has no folder to keep it in."""
    given = given or os.environ.get("BZGATE_SECRET")
    if given:
        return Path(given)
    target = store.db_path(db)
    if not isinstance(target, Path):
        raise UserError("hashed IDs from a PostgreSQL database need the site secret's file: "
                        "give --secret FILE (or set BZGATE_SECRET)")
    return target.with_suffix(".secret")


def load_or_create(path: Path) -> bytes:
    """The secret in `path`; a missing file is created, readable by its owner only."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return _read(path)
    except OSError as e:
        raise UserError(f"cannot create the site secret {path}: {e.strerror}") from None
    with os.fdopen(fd, "w") as f:
        f.write(secrets.token_hex(SECRET_BYTES) + "\n")
    return _read(path)


def _read(path: Path) -> bytes:
    try:
        secret = bytes.fromhex(path.read_text().strip())
    except (OSError, ValueError) as e:
        raise UserError(f"the site secret {path} cannot be read ({e}); restore it from a backup "
                        "to keep hashed IDs comparable with earlier exports") from None
    if len(secret) != SECRET_BYTES:
        raise UserError(f"the site secret {path} must hold {SECRET_BYTES * 2} hex digits")
    return secret


def hasher(secret: bytes):
    """A function from a 12-byte ID to its keyed hash (hex): HMAC-SHA256, the key's pads
    hashed once and copied for each ID."""
    keyed = hmac.new(secret, digestmod="sha256")

    def hashed(ident: bytes) -> str:
        mac = keyed.copy()
        mac.update(ident)
        return mac.hexdigest()[:HASH_HEX]
    return hashed


def fingerprint(secret: bytes) -> str:
    """Names the secret in the audit table without giving it away."""
    return hashlib.sha256(b"bzgate site secret" + secret).hexdigest()[:16]
