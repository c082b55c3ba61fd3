"""The host's part of bzcore.ids: a day's IDs in a row and F0 expansion (docs/protocol.md §8).

The gate needs only the ID of one slot (bzcore.ids.id_at: its checkpoint beacon, its reader's
slot ends); listing a day's IDs and walking an F0 record are for the host, the simulator and the
tests, so they are kept off the board, where every function costs heap (its object, its raw code
and a dict entry) and every name its .mpy carries is interned. Portable all the same (MicroPython
and CPython), as the rest of bzcore. Times are integer Unix seconds (UTC).
"""

from bzcore.ids import KEY_BYTES, first_sub_key, pick12, sha256, slot_seconds

# Published F0 times above this are milliseconds (10**11 s is the year 5138).
_MS_THRESHOLD = 100000000000


def day_ids(day_key, max_ids):
    """Yield the day's IDs in slot order: `max_ids` 12-byte IDs."""
    slot_seconds(max_ids)
    sub_key = first_sub_key(day_key)
    for _ in range(max_ids):
        yield pick12(sub_key)
        sub_key = sha256(sub_key)


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
