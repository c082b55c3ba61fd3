"""The board's key in its NVS (namespace "bzgate", blob "key": firmware/gate/secret.py), read
and written over mpremote while the gate is stopped; the checkpoint key K0 beside it (blob
"cpkey", and int "cpday": its UTC midnight in days since 1970), only ever written.

    read_board(port, nonce) -> BoardFacts    # ids, a hash of the key with the nonce (not the key),
                                             # and config.json's text (configure keeps its fields)
    read_key(port) -> bytes | None           # the key itself (keys import)
"""

import hashlib
import os
import tempfile
from dataclasses import dataclass

from bzprov import mpremote
from bzprov.mpremote import BoardError

NAMESPACE, BLOB, KEY_BYTES = "bzgate", "key", 32
CHECKPOINT_BLOB, CHECKPOINT_DAY = "cpkey", "cpday"

_LOAD = """
import esp32, hashlib, binascii, machine, network
def _key():
    buf = bytearray(%d)
    try:
        return bytes(buf) if esp32.NVS(%r).get_blob(%r, buf) == len(buf) else None
    except OSError:
        return None
print('UID', binascii.hexlify(machine.unique_id()).decode())
print('MAC', binascii.hexlify(network.WLAN(network.STA_IF).config('mac')).decode())
""" % (KEY_BYTES, NAMESPACE, BLOB)

# config.json in hex: one line whatever the file holds; no CONFIG line when there is none.
_CONFIG = """
try:
    with open('/config.json', 'rb') as f:
        print('CONFIG', binascii.hexlify(f.read()).decode())
except OSError:
    pass
"""


@dataclass
class BoardFacts:
    board_id: str
    mac: str
    key_digest: str | None  # SHA-256(nonce + key) hex, None: no key on the board
    config_text: str | None  # /config.json, None: the board has none


def key_digest(nonce: bytes, key: bytes) -> str:
    return hashlib.sha256(nonce + key).hexdigest()


def _parse(lines: list[str], port: str) -> dict:
    facts = {}
    for line in lines:
        tag, _, value = line.strip().partition(" ")
        if tag in ("UID", "MAC", "DIGEST", "KEY", "CONFIG"):
            facts[tag] = value
    if "UID" not in facts:
        raise BoardError(f"{port}: the board did not say who it is: is the gate firmware deployed?")
    return facts


def read_board(port: str, nonce: bytes) -> BoardFacts:
    code = _LOAD + ("k = _key()\n"
                    "print('DIGEST', binascii.hexlify(hashlib.sha256(%r + k).digest()).decode() if k else '')\n"
                    % nonce) + _CONFIG
    facts = _parse(mpremote.exec_lines(port, code), port)
    mac = facts.get("MAC", "")
    config = facts.get("CONFIG")
    return BoardFacts(facts["UID"], ":".join(mac[i:i + 2] for i in range(0, len(mac), 2)),
                      facts.get("DIGEST") or None,
                      None if config is None else bytes.fromhex(config).decode("utf-8", "replace"))


def read_key(port: str, *then: str) -> tuple[str, bytes | None]:
    """(board id, its key or None): the key crosses the USB cable once, for `keys import`;
    `then`: mpremote commands after it ("reset" starts the gate again)."""
    code = _LOAD + "k = _key()\nprint('KEY', binascii.hexlify(k).decode() if k else '')\n"
    facts = _parse(mpremote.exec_lines(port, code, *(("+", *then) if then else ())), port)
    return facts["UID"], bytes.fromhex(facts["KEY"]) if facts.get("KEY") else None


def write_board(port: str, key: bytes | None, config_text: str,
                checkpoint: tuple[bytes, int] | None = None) -> None:
    """Key into NVS (when given), the checkpoint key (K0, its UTC midnight in Unix seconds) when
    given, config.json replaced whole (temp file, then rename), then a reset: the gate starts
    with them. The script goes in a private file, not on a command line
    where other users of this computer could read the key."""
    code = "import esp32, os\n"
    if key is not None:
        code += "n = esp32.NVS(%r)\nn.set_blob(%r, %r)\nn.commit()\n" % (NAMESPACE, BLOB, key)
    if checkpoint is not None:
        code += ("n = esp32.NVS(%r)\nn.set_blob(%r, %r)\nn.set_i32(%r, %d)\nn.commit()\n"
                 % (NAMESPACE, CHECKPOINT_BLOB, checkpoint[0], CHECKPOINT_DAY, checkpoint[1] // 86400))
    code += ("with open('/config.json.tmp', 'w') as f:\n    f.write(%r)\n"
             "os.rename('/config.json.tmp', '/config.json')\nprint('WRITTEN')\n" % config_text)
    with tempfile.TemporaryDirectory(prefix="bzgate-") as private:  # mode 0700
        script = os.path.join(private, "configure.py")
        with open(os.open(script, os.O_WRONLY | os.O_CREAT, 0o600), "w") as f:
            f.write(code)
        out = mpremote.run(port, "run", script, "+", "reset")
    if "WRITTEN" not in out:
        raise BoardError(f"{port}: the board did not confirm the new configuration: {out.strip()[-200:]}")
