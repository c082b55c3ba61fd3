"""The gate's own adverts: its status beacon, and its checkpoint beacon in Bluezone's Android form.

Status beacon: non-connectable, Flags then manufacturer data under company 0xFFFF (the
Bluetooth SIG's ID for tests; no product may claim it, so nothing else sends this payload on
purpose: the version and the exact length are checked as well). 21 bytes on air:

    02 01 06                 Flags: LE General Discoverable, BR/EDR not supported
    11 FF FF FF              manufacturer data, 17 bytes: company 0xFFFF, then the payload

The payload, version 1, 14 bytes, integers little-endian:

    byte  0      version (1)
    bytes 1-4    gate hash: the first 4 bytes of SHA-256(gate_id as UTF-8)
    byte  5      mode: 0 enforce, 1 monitor, 2 count (bzcore.config.MODES)
    byte  6      alarm bits: 0 clock-invalid, 1 storage-high (journal >= 80 % full),
                 2 storage-full, 3 scanner-stalled, 4 safe-mode, 5 config-error; 6-7 zero
    byte  7      flags: bit 0 clock valid, bit 1 checkpoint beacon on air; 2-7 zero
    bytes 8-9    today's ALLOW decisions (u16, stays at 65535)
    bytes 10-11  today's DENY decisions (u16)
    bytes 12-13  today's NO_APP decisions (u16)

The host reads it back with bzcore.beaconread.decode_status() (kept off the board: the gate only
sends).

Checkpoint beacon: the gate's own rolling Bluezone ID (bzcore.ids, from a base key K0 that
starts at a UTC midnight) in exactly the advert of an Android phone, 23 bytes
(docs/protocol.md §2.1):
    02 01 02 | 0F FF B5 22 <12-byte ID> | 03 03 56 4E
"""

import hashlib

from bzcore import ids
from bzcore.ids import const

_COMPANY_ID = const(0xFFFF)
VERSION = 1
HASH_BYTES = 4
MODES = ("enforce", "monitor", "count")
# Alarm names as the monitor shows them (bzgate.monitor.state), by bit.
ALARMS = ("clock-invalid", "storage-high", "storage-full", "scanner-stalled", "safe-mode",
          "config-error")
_COUNT_MAX = const(0xFFFF)
_FLAG_CLOCK_VALID = 0x01
_FLAG_CHECKPOINT = 0x02
_STATUS_HEAD = b"\x02\x01\x06\x11\xff\xff\xff"  # Flags, then the manufacturer AD up to the company
CHECKPOINT_MAX_IDS = 96  # 15-minute slots, as every app since 2020-07-27 (docs/protocol.md §4)
_ANDROID_HEAD = b"\x02\x01\x02\x0f\xff\xb5\x22"
_ANDROID_TAIL = b"\x03\x03\x56\x4e"


def gate_hash(gate_id):
    """The 4 bytes a status beacon carries for its gate id."""
    return hashlib.sha256(gate_id.encode()).digest()[:HASH_BYTES]


def alarm_bits(alarms):
    """The alarm byte for a list of alarm names (names the beacon has no bit for are left out)."""
    bits = 0
    for name in alarms:
        if name in ALARMS:
            bits |= 1 << ALARMS.index(name)
    return bits


def _u16(value):
    return min(max(int(value), 0), _COUNT_MAX)


def status_advert(gate_id, mode, alarms, counts, clock_valid, checkpoint=False):
    """The whole ADV payload of a status beacon (21 bytes).

    counts: {"allow", "deny", "no-app"} decisions today; mode: one of MODES.
    """
    out = bytearray(_STATUS_HEAD)
    out.append(VERSION)
    out += gate_hash(gate_id)
    out.append(MODES.index(mode))
    out.append(alarm_bits(alarms))
    out.append((_FLAG_CLOCK_VALID if clock_valid else 0) | (_FLAG_CHECKPOINT if checkpoint else 0))
    for name in ("allow", "deny", "no-app"):
        n = _u16(counts.get(name, 0))
        out.append(n & 0xFF)
        out.append(n >> 8)
    return bytes(out)


def checkpoint_advert(ident):
    """An Android phone's 23-byte advert carrying the 12-byte ID (docs/protocol.md §2.1)."""
    if len(ident) != ids.ID_BYTES:
        raise ValueError("a Bluezone ID is 12 bytes")
    return _ANDROID_HEAD + bytes(ident) + _ANDROID_TAIL


def checkpoint_id(base_key, base_day, t, max_ids=CHECKPOINT_MAX_IDS):
    """The gate's Bluezone ID at Unix time t, from K0 (base_key) valid from UTC midnight base_day."""
    return ids.id_at(ids.key_for_day(base_key, base_day, t), t, max_ids)
