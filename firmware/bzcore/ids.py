"""Bluezone rolling IDs and F0 expansion (docs/protocol.md §4, §5.3 and §8).

Times are integer Unix seconds (UTC) throughout. Days start at 00:00 UTC.
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
# Published F0 times above this are milliseconds (10**11 s is the year 5138).
_MS_THRESHOLD = 100000000000


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


def day_ids(day_key, max_ids):
    """Yield the day's IDs in slot order: `max_ids` 12-byte IDs."""
    slot_seconds(max_ids)
    sub_key = first_sub_key(day_key)
    for _ in range(max_ids):
        yield pick12(sub_key)
        sub_key = sha256(sub_key)


def id_at(day_key, t, max_ids):
    """The ID valid at Unix time t, given the key of t's UTC day."""
    index = slot_index(t, max_ids)
    sub_key = first_sub_key(day_key)
    for _ in range(index):
        sub_key = sha256(sub_key)
    return pick12(sub_key)


def f0_seconds(value):
    """A published F0 time as Unix seconds: values above 10**11 are taken as milliseconds."""
    value = int(value)
    if value > _MS_THRESHOLD:
        return value // 1000
    return value


def expand_f0(day_key, time_start, max_ids, time_end):
    """Yield (id, valid_from, valid_to) for an F0 record, as the app's checkContactF walks it.

    time_start is the UTC midnight the daily key belongs to; the walk rolls to the next day's
    key every `max_ids` slots and stops once a slot would start after time_end. valid_to is
    exclusive here; the app itself tests both ends inclusively, which callers may widen.
    """
    if len(day_key) != KEY_BYTES:
        raise ValueError("daily_key must be 32 bytes")
    size = slot_seconds(max_ids)
    key = bytes(day_key)
    t = time_start
    while t <= time_end:
        sub_key = first_sub_key(key)
        index = 0
        while index < max_ids and t <= time_end:
            yield pick12(sub_key), t, t + size
            sub_key = sha256(sub_key)
            t += size
            index += 1
        key = sha256(key)
