"""The board's secret: the 32-byte key of its journal's MAC chain, kept in NVS.

Provisioning writes it (namespace "bzgate", blob "key") and keeps a copy for the host, which
verifies the board's records with it. A board without one makes its own, so that its journal is
chained from the first boot; the caller then records a KEY_CREATED event: the host must import
that key (read over mpremote) before it can verify the board's records.

The checkpoint beacon's base key K0 sits next to it (blob "cpkey", 32 bytes) with the UTC
midnight it starts at (int "cpday": days since 1970-01-01, so that the i32 lasts past 2038): provisioning writes both and keeps them in
the host key store, which traces visitors' histories with them. A board never makes its own.
"""

import os

import esp32

from bzcore import record

NAMESPACE = "bzgate"
_KEY_NAME = const("key")
KEY_BYTES = 32
_CHECKPOINT_KEY_NAME = const("cpkey")
_CHECKPOINT_DAY_NAME = const("cpday")


def load_key():
    """(key, created): the stored key, or a new random one stored now (created True)."""
    nvs = esp32.NVS(NAMESPACE)
    buf = bytearray(KEY_BYTES)
    try:
        if nvs.get_blob(_KEY_NAME, buf) == KEY_BYTES:
            return bytes(buf), False
    except OSError:  # no key yet (ENOENT), or a blob of another size
        pass
    key = os.urandom(KEY_BYTES)
    try:
        nvs.set_blob(_KEY_NAME, key)
        nvs.commit()
    except OSError:  # NVS full or failing: the key still chains this boot's records
        pass
    return key, True


def load_checkpoint():
    """(K0, its UTC midnight) from NVS, or None when provisioning wrote none."""
    nvs = esp32.NVS(NAMESPACE)
    buf = bytearray(KEY_BYTES)
    try:
        if nvs.get_blob(_CHECKPOINT_KEY_NAME, buf) != KEY_BYTES:
            return None
        day = nvs.get_i32(_CHECKPOINT_DAY_NAME)
    except OSError:
        return None
    return bytes(buf), day * 86400


def prove(key, nonce):
    """KEY PROVE's answer: shows the host that this board holds its key without sending it."""
    from bzcore import wire  # the host link's, loaded with it (gate.app.serve_host)

    return record.hmac_sha256(key, wire.KEY_PROOF_TAG + bytes(nonce))
