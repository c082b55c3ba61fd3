"""Journal records: the fixed 48-byte layout, the payloads and the MAC chain.

The board writes these records; the host reads and verifies them with this module and
bzcore.recordread (verify_chain, payload_fields and the names of codes the board never shows),
which the board never imports.

Layout (big-endian, 48 bytes):

    0  u32  seq         0, 1, 2, ... for the life of the journal
    4  u8   kind        SIGHTING, DECISION, COUNT or EVENT
    5  u8   flags       bit 0: the clock was valid (set since power-on)
    6  u32  time        Unix seconds, UTC; with the clock invalid, the board's uptime-like RTC time
   10  u32  boot id     the board's boot counter when the record was made
   14  26s  payload     the kind's payload, zero-padded
   40  8s   mac         HMAC-SHA256(key, previous mac + bytes 0..39), first 8 bytes

Each MAC covers the previous record's MAC, so changing, deleting, inserting or reordering a
record breaks the chain at that point. The first record of a journal chains to GENESIS.

Payloads (builders return (kind, payload bytes); bzcore.recordread.payload_fields reads them back):

    sighting(id, first_seen, last_seen, max_rssi, count, platform, source)   25 bytes
    decision(verdict, trigger, mode, id_or_None, rssi_or_None, platform, latency_ms,
             presses=1, reason=REASON_NONE)                               21 bytes
    count(near, present, adverts, drops)                                      12 bytes
    event(code, detail_int=0, text=b"")                                        6 + len(text) bytes

An ID is 12 bytes; None is stored as 12 zero bytes. A decision's RSSI is None when no phone
decided it (DENY, NO_APP): stored as 127, the Core spec's "RSSI not available" (HCI LE
Advertising Report). `presses` counts the presses (or beam breaks) one decision answered: a
press while the gate is still deciding joins that decision; records made before the field
existed read 1. Integers are clamped to their field, so a
builder never raises on a big counter; event text is cut to EVENT_TEXT_MAX bytes.

Verdicts: ALLOW, DENY, NO_APP (monitor mode's DENY), EXEMPT and EXIT. EXEMPT lets in a person
without a smartphone on a guard's word: its trigger is GUARD (the guard's key switch) or HOST
(the host link's EXEMPT request) and its `reason` one of REASON_NAMES. EXIT is a person leaving:
trigger BUTTON, BEAM or EXIT_BUTTON, never refused. Neither names a phone: no ID, RSSI None,
platform unknown. `reason` is REASON_NONE for every other verdict, and reads 0 from records made
before the field existed (their padding is zero).
"""

import hashlib
import struct
from collections import namedtuple

from bzcore.ids import const


RECORD_SIZE = const(48)
PAYLOAD_SIZE = const(26)
MAC_SIZE = const(8)
_SIGNED_SIZE = const(40)  # bytes 0..39: everything the MAC covers besides the previous MAC
GENESIS = b"\x00" * 8  # the "previous MAC" of a journal's first record
_HEADER = ">IBBII"
_LAYOUT = ">IBBII26s8s"
FLAG_CLOCK_VALID = const(0x01)

Record = namedtuple("Record", ("seq", "kind", "time", "clock_valid", "boot_id", "payload", "mac"))

# Record kinds.
SIGHTING = const(1)
DECISION = const(2)
COUNT = const(3)
EVENT = const(4)
KIND_NAMES = {SIGHTING: "sighting", DECISION: "decision", COUNT: "count", EVENT: "event"}

# Event codes.
BOOT = const(1)  # detail: machine.reset_cause()
CONFIG_ERROR = const(2)  # text: the field that fell back to its default
SCAN_RESTART = const(3)
BLE_RESET = const(4)
TASK_RESTART = const(5)  # text: the task's name
TASK_FAILED = const(6)  # text: the task's name
STORAGE_FULL = const(7)  # detail: records that could not be written so far
CLOCK_SET = const(8)  # detail: the correction in seconds
SAFE_MODE = const(9)  # detail: crashes counted
HEAP_LOW = const(10)  # detail: largest free block in bytes
CRASH = const(11)  # text: the exception's type
KEY_CREATED = const(12)  # the board made its own secret: the host must import it
EVENT_TEXT_MAX = const(20)

# Decision verdicts.
ALLOW = const(1)
DENY = const(2)
NO_APP = const(3)
EXEMPT = const(4)  # let in without a phone, on a guard's word (a reason says why)
EXIT = const(5)  # a person leaving: the door opens, never refused
VERDICT_NAMES = {ALLOW: "allow", DENY: "deny", NO_APP: "no-app", EXEMPT: "exempt", EXIT: "exit"}

# What triggered a decision.
BUTTON = const(1)
BEAM = const(2)
TAP = const(3)
GUARD = const(4)  # the guard's key switch or button: EXEMPT no-smartphone
HOST = const(5)  # an EXEMPT request over the host link
EXIT_BUTTON = const(6)  # the inside button of a gate for both directions
TRIGGER_NAMES = {BUTTON: "button", BEAM: "beam", TAP: "tap", GUARD: "guard", HOST: "host",
                 EXIT_BUTTON: "exit-button"}

# Why a person was EXEMPT (a decision's `reason`).
REASON_NONE = const(0)
NO_SMARTPHONE = const(1)
PAPER_DECLARATION = const(2)
STAFF_OVERRIDE = const(3)
REASON_NAMES = {REASON_NONE: None, NO_SMARTPHONE: "no-smartphone",
                PAPER_DECLARATION: "paper-declaration", STAFF_OVERRIDE: "staff-override"}
REASON_CODES = {"no-smartphone": NO_SMARTPHONE, "paper-declaration": PAPER_DECLARATION,
                "staff-override": STAFF_OVERRIDE}

# Gate modes (config "mode").
ENFORCE = const(1)
MONITOR = const(2)
COUNTING = const(3)

# Where an ID came from.
ADV = const(1)
GATT = const(2)

# Phone platforms (bzcore.adv names them "android" and "ios").
PLATFORM_UNKNOWN = const(0)
ANDROID = const(1)
IOS = const(2)
PLATFORM_NAMES = {PLATFORM_UNKNOWN: None, ANDROID: "android", IOS: "ios"}

_U8_MAX = const(0xFF)
_U16_MAX = const(0xFFFF)
_U32_MAX = const(0xFFFFFFFF)
_ID_SIZE = const(12)
_NO_ID = b"\x00" * 12
_SIGHTING = ">12sIIbHBB"
_DECISION = ">BBB12sbBHBB"
_NO_RSSI = const(127)
_COUNT = ">HHII"
_EVENT = ">BiB"

# MicroPython's struct raises ValueError; CPython's raises struct.error.
_PARSE_ERRORS = (TypeError, ValueError, getattr(struct, "error", ValueError))
_BLOCK = const(64)  # SHA-256 block size
_IPAD = bytes(0x36 for _ in range(_BLOCK))
_OPAD = bytes(0x5C for _ in range(_BLOCK))


def _xor(key, pad):
    out = bytearray(pad)
    for k in range(len(key)):
        out[k] ^= key[k]
    return out


def hmac_sha256(key, msg):
    """HMAC-SHA256 (RFC 2104) over hashlib.sha256: MicroPython has no hmac module."""
    key = bytes(key)
    if len(key) > _BLOCK:
        key = hashlib.sha256(key).digest()
    inner = hashlib.sha256(_xor(key, _IPAD))
    inner.update(msg)
    outer = hashlib.sha256(_xor(key, _OPAD))
    outer.update(inner.digest())
    return outer.digest()


def _mac(key, prev_mac, signed):
    return hmac_sha256(key, bytes(prev_mac) + bytes(signed))[:MAC_SIZE]


def _clamp(value, low, high):
    return low if value < low else high if value > high else value


def _u8(v):
    return _clamp(v, 0, _U8_MAX)


def _u16(v):
    return _clamp(v, 0, _U16_MAX)


def _u32(v):
    return _clamp(v, 0, _U32_MAX)


def _id_bytes(ident):
    if ident is None:
        return _NO_ID
    ident = bytes(ident)
    if len(ident) != _ID_SIZE:
        raise ValueError("an ID is 12 bytes")
    return ident


def encode(key, prev_mac, seq, kind, t, clock_valid, boot_id, payload):
    """The 48 bytes of record `seq`, chained to `prev_mac` (GENESIS for the first record)."""
    if len(payload) > PAYLOAD_SIZE:
        raise ValueError("payload over 26 bytes")
    buf = bytearray(RECORD_SIZE)
    struct.pack_into(_HEADER, buf, 0, _u32(seq), _u8(kind),
                     FLAG_CLOCK_VALID if clock_valid else 0, _u32(t), _u32(boot_id))
    buf[14:14 + len(payload)] = payload
    buf[_SIGNED_SIZE:] = _mac(key, prev_mac, memoryview(buf)[:_SIGNED_SIZE])
    return bytes(buf)


def decode(raw):
    """A Record from 48 bytes, or None when `raw` is not one (wrong size, unknown kind or flags).

    decode checks the shape only; verify_chain checks that the record is genuine.
    """
    try:
        if len(raw) != RECORD_SIZE:
            return None
        seq, kind, flags, t, boot_id, payload, mac = struct.unpack(_LAYOUT, bytes(raw))
    except _PARSE_ERRORS:
        return None
    if kind not in KIND_NAMES or flags & ~FLAG_CLOCK_VALID:
        return None
    return Record(seq, kind, t, bool(flags & FLAG_CLOCK_VALID), boot_id, payload, mac)


def mac_of(raw):
    """The MAC of an encoded record: what the next record chains to."""
    return bytes(raw[_SIGNED_SIZE:RECORD_SIZE])


def sighting(ident, first_seen, last_seen, max_rssi, count, platform, source):
    """One device visit per ID slot: when, how strong, how often, and where the ID came from."""
    return SIGHTING, struct.pack(_SIGHTING, _id_bytes(ident), _u32(first_seen),
                                 _u32(last_seen), _clamp(max_rssi, -128, 127), _u16(count),
                                 _u8(platform), _u8(source))


def decision(verdict, trigger, mode, ident, rssi, platform, latency_ms, presses=1,
             reason=REASON_NONE):
    """A gate decision; `ident` is None when no ID was known, `rssi` None when no phone decided
    it (DENY, NO_APP, EXEMPT, EXIT); `reason` says why an EXEMPT was given."""
    rssi = _NO_RSSI if rssi is None else _clamp(rssi, -128, _NO_RSSI - 1)
    return DECISION, struct.pack(_DECISION, _u8(verdict), _u8(trigger), _u8(mode), _id_bytes(ident),
                                 rssi, _u8(platform), _u16(latency_ms), _u8(presses), _u8(reason))


def count(near, present, adverts, drops):
    """A count-mode minute: Bluezone devices near and present, adverts seen, adverts dropped."""
    return COUNT, struct.pack(_COUNT, _u16(near), _u16(present), _u32(adverts), _u32(drops))


def event(code, detail=0, text=b""):
    """An event or alarm: its code, a number and a short text (cut to EVENT_TEXT_MAX bytes)."""
    if isinstance(text, str):
        text = text.encode()
    text = bytes(text[:EVENT_TEXT_MAX])
    detail = _clamp(detail, -0x80000000, 0x7FFFFFFF)
    return EVENT, struct.pack(_EVENT, _u8(code), detail, len(text)) + text
