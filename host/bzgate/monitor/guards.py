"""The guards who may log in to the monitor's page: a JSON file of names and password hashes,
made by `bzgate guards add`, written whole and readable only by its owner.

    guards = Guards("guards.json"); guards.add("lan", "secret"); guards.check("lan", "secret")

Each hash is hashlib.scrypt with a random salt, its parameters stored beside it (a later bzgate
may raise them; older entries still check). A name that is not in the file is checked against a
hash all the same, so an answer's time does not tell which names exist.
"""

import hashlib
import hmac
import json
import re
import secrets
from pathlib import Path

from bzgate.errors import UserError
from bzgate.jsonfile import write_atomic

SCRYPT = {"n": 2**14, "r": 8, "p": 1}  # 16 MB and some 50 ms a check: slow to guess offline
SALT_BYTES = 16
HASH_BYTES = 32
NAME = re.compile(r"[A-Za-z0-9._-]{1,32}")
PASSWORD_MIN = 8
FORMAT_VERSION = 1


def hash_password(password: str, salt: bytes | None = None, params: dict = SCRYPT) -> dict:
    salt = secrets.token_bytes(SALT_BYTES) if salt is None else salt
    digest = hashlib.scrypt(password.encode(), salt=salt, dklen=HASH_BYTES,
                            maxmem=256 * params["n"] * params["r"], **params)
    return {"scrypt": dict(params), "salt": salt.hex(), "hash": digest.hex()}


def password_matches(entry: dict, password: str) -> bool:
    params = {k: int(entry["scrypt"][k]) for k in ("n", "r", "p")}
    again = hash_password(password, bytes.fromhex(entry["salt"]), params)
    return hmac.compare_digest(again["hash"], entry["hash"])


_NOBODY = hash_password(secrets.token_hex(16))  # what an unknown name is checked against


class Guards:
    def __init__(self, path: Path | str):
        self.path = Path(path)

    def read(self) -> dict[str, dict]:
        """{name: its hash entry}; no file is no guards."""
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return {}
        except (OSError, ValueError) as e:
            raise UserError(f"cannot read the guards file {self.path}: {e}") from None
        if not isinstance(data, dict) or not isinstance(data.get("guards"), dict):
            raise UserError(f"{self.path} is not a guards file (bzgate guards add makes one)")
        return data["guards"]

    def names(self) -> list[str]:
        return sorted(self.read())

    def add(self, name: str, password: str) -> bool:
        """Adds the guard, or gives a known one a new password; True when the name was new."""
        if not NAME.fullmatch(name):
            raise UserError(f"guard name {name!r}: 1-32 letters, digits, . _ -")
        if len(password) < PASSWORD_MIN:
            raise UserError(f"a guard's password has at least {PASSWORD_MIN} characters")
        guards = self.read()
        new = name not in guards
        guards[name] = hash_password(password)
        self._write(guards)
        return new

    def remove(self, name: str) -> None:
        guards = self.read()
        if name not in guards:
            raise UserError(f"no guard {name!r} in {self.path}")
        del guards[name]
        self._write(guards)

    def check(self, name: str, password: str) -> bool:
        """Whether the password is this guard's, taking as long for a name that is not there."""
        entry = self.read().get(name)
        matches = password_matches(entry or _NOBODY, password)
        return matches and entry is not None

    def _write(self, guards: dict) -> None:
        write_atomic(self.path, {"version": FORMAT_VERSION, "guards": guards}, private=True)
