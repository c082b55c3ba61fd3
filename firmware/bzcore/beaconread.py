"""The host's part of bzcore.beacon: reading a status beacon back (its format: bzcore/beacon.py).

decode_status() returns None for anything that is not a status beacon (and for a version-1
payload of the wrong length or mode), and {"version": n} alone for a later version n it cannot
read, so a host can say "update bzgate" rather than "nothing there". It never raises.

The gate only sends its beacons, so this is kept off the board, where every function costs heap
(its object, its raw code and a dict entry) and every name its .mpy carries is interned.
Portable all the same (MicroPython and CPython), as the rest of bzcore.
"""

from bzcore.advwalk import structures
from bzcore.beacon import _FLAG_CHECKPOINT, _FLAG_CLOCK_VALID, ALARMS, HASH_BYTES, MODES, VERSION
from bzcore.ids import const

_PAYLOAD_BYTES = const(14)


def _status_payload(data):
    """The payload under company 0xFFFF in one advert, or None (also for a malformed packet)."""
    found = None
    for ad_type, body in structures(data):
        if ad_type is None:
            return None
        if found is None and ad_type == 0xFF and len(body) >= 2 and body[0] == 0xFF and body[1] == 0xFF:
            found = body[2:]
    return found


def decode_status(adv_bytes):
    """A status beacon's fields from a whole advert, {"version": n} for a later version, or None."""
    try:
        payload = _status_payload(adv_bytes)
    except (TypeError, IndexError):
        return None
    if not payload:
        return None
    version = payload[0]
    if version > VERSION:
        return {"version": version}
    if version != VERSION or len(payload) != _PAYLOAD_BYTES or payload[5] >= len(MODES):
        return None
    bits = payload[6]
    return {
        "version": version,
        "gate_hash": payload[1:1 + HASH_BYTES],
        "mode": MODES[payload[5]],
        "alarms": [name for k, name in enumerate(ALARMS) if bits & (1 << k)],
        "clock_valid": bool(payload[7] & _FLAG_CLOCK_VALID),
        "checkpoint": bool(payload[7] & _FLAG_CHECKPOINT),
        "counts": {"allow": payload[8] | payload[9] << 8, "deny": payload[10] | payload[11] << 8,
                   "no-app": payload[12] | payload[13] << 8},
    }
