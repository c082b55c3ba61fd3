"""Bluezone rolling IDs: daily keys, sub-keys and the ID of a slot (docs/protocol.md §4, §5.3, §8).

Times are integer Unix seconds (UTC) throughout. Days start at 00:00 UTC. A day's IDs in a row
and F0 expansion, which only the host uses, are bzcore.idexpand's.
"""

import hashlib

try:
    from micropython import const  # pyright: ignore[reportAssignmentType]
except ImportError:  # CPython: const() is only a compile-time hint on MicroPython

    def const(expr):
        return expr


DAY_SECONDS = const(86400)
KEY_BYTES = const(32)
ID_BYTES = const(12)
SUB_KEY_SALT = b"bluzonesubkey"  # sic: "bluzone" without the e, as in the app
# Byte indices of a sub-key that make the 12-byte ID: every 4th of the first 16, every 2nd after.
_PICK = (0, 4, 8, 12, 16, 18, 20, 22, 24, 26, 28, 30)


def sha256(data):
    return hashlib.sha256(data).digest()


def daily_key(base_key, days):
    """The key of day `days` after the base key's day: SHA-256 applied `days` times."""
    key = bytes(base_key)
    for _ in range(days):
        key = sha256(key)
    return key


def key_for_day(base_key, base_day, t):
    """The daily key of t's UTC day, for a base key K0 whose day starts at UTC midnight base_day.

    ValueError when base_day is not a UTC midnight or t lies before it (no key exists then)."""
    if len(base_key) != KEY_BYTES:
        raise ValueError("a base key is 32 bytes")
    if base_day % DAY_SECONDS or t < base_day:
        raise ValueError("base_day must be a UTC midnight at or before t")
    return daily_key(base_key, (day_start(t) - base_day) // DAY_SECONDS)


def first_sub_key(day_key):
    """SK_0 of a day: SHA-256(daily key + salt)."""
    return sha256(bytes(day_key) + SUB_KEY_SALT)


def pick12(sub_key):
    """The 12-byte ID carried by a sub-key."""
    out = bytearray(ID_BYTES)
    for k in range(ID_BYTES):
        out[k] = sub_key[_PICK[k]]
    return bytes(out)


def slot_seconds(max_ids):
    """Length of one ID slot; `max_ids` (IDs per day) must divide a day (96 -> 900 s)."""
    if max_ids < 1 or DAY_SECONDS % max_ids:
        raise ValueError("max must divide 86400 (for example 96 or 144)")
    return DAY_SECONDS // max_ids


def day_start(t):
    """00:00 UTC of the day holding Unix time t."""
    return t - t % DAY_SECONDS


def slot_index(t, max_ids):
    """Index of the slot holding Unix time t within its UTC day."""
    return (t % DAY_SECONDS) // slot_seconds(max_ids)


def slot_window(t, max_ids):
    """(valid_from, valid_to) of the slot holding t; valid_to is exclusive."""
    size = slot_seconds(max_ids)
    start = t - t % size
    return start, start + size


def id_at(day_key, t, max_ids):
    """The ID valid at Unix time t, given the key of t's UTC day."""
    index = slot_index(t, max_ids)
    sub_key = first_sub_key(day_key)
    for _ in range(index):
        sub_key = sha256(sub_key)
    return pick12(sub_key)
