"""The host's part of bzcore.record: verifying a journal's MAC chain and reading payloads back.

verify_chain() checks encoded records in order, payload_fields() turns a payload into a dict,
and the *_NAMES tables here name the codes the board itself never shows (events, modes, sources;
the platform codes of an Advert's platform). The layout, the builders and decode() are
bzcore.record's, which the board uses; this module is kept off the board, where every function
costs heap (its object, its raw code and a dict entry) and every name its .mpy carries is
interned. Portable all the same (MicroPython and CPython), as the rest of bzcore.
"""

import struct

from bzcore.ids import const
from bzcore.record import (
    ADV, ANDROID, BLE_RESET, BOOT, CLOCK_SET, CONFIG_ERROR, COUNT, COUNTING, CRASH, DECISION,
    ENFORCE, EVENT, EVENT_TEXT_MAX, GATT, GENESIS, HEAP_LOW, IOS, KEY_CREATED, MONITOR, SAFE_MODE,
    SCAN_RESTART, SIGHTING, STORAGE_FULL, TASK_FAILED, TASK_RESTART, _COUNT, _EVENT, _NO_ID,
    _PARSE_ERRORS, _SIGHTING, _mac, decode)

EVENT_NAMES = {BOOT: "boot", CONFIG_ERROR: "config-error", SCAN_RESTART: "scan-restart",
               BLE_RESET: "ble-reset", TASK_RESTART: "task-restart", TASK_FAILED: "task-failed",
               STORAGE_FULL: "storage-full", CLOCK_SET: "clock-set", SAFE_MODE: "safe-mode",
               HEAP_LOW: "heap-low", CRASH: "crash", KEY_CREATED: "key-created"}
MODE_NAMES = {ENFORCE: "enforce", MONITOR: "monitor", COUNTING: "count"}
SOURCE_NAMES = {ADV: "adv", GATT: "gatt"}
PLATFORM_CODES = {"android": ANDROID, "ios": IOS}  # from an Advert's platform

# As in bzcore.record (constants there: on MicroPython no module attributes).
_SIGNED_SIZE = const(40)  # bytes 0..39: everything the MAC covers besides the previous MAC
_NO_RSSI = const(127)
_DECISION_BEFORE_REASON = ">BBB12sbBHB"  # the first 20 bytes: every decision has them
_DECISION_REASON_AT = const(20)
_EVENT_HEAD = const(6)


def _id_or_none(raw):
    return None if raw == _NO_ID else raw


def verify_chain(key, records, prev_mac=GENESIS, prev_seq=None):
    """Check encoded records in order: (number of good leading records, None or why it broke).

    `prev_mac`/`prev_seq` are the MAC and seq of the last record already verified (GENESIS and
    None for a journal's start). Only the records before the break may be trusted.
    """
    for index, raw in enumerate(records):
        rec = decode(raw)
        if rec is None:
            return index, "record %d is not a record" % index
        if prev_seq is not None and rec.seq != prev_seq + 1:
            return index, "seq %d follows seq %d" % (rec.seq, prev_seq)
        if _mac(key, prev_mac, bytes(raw[:_SIGNED_SIZE])) != rec.mac:
            return index, "MAC of seq %d does not match" % rec.seq
        prev_mac = rec.mac
        prev_seq = rec.seq
    return len(records), None


def payload_fields(kind, payload):
    """A dict of the payload's fields, or None when it does not parse. Never raises."""
    try:
        payload = bytes(payload)
        if kind == SIGHTING:
            ident, first, last, rssi, n, platform, source = struct.unpack_from(_SIGHTING, payload)
            return {"id": _id_or_none(ident), "first_seen": first, "last_seen": last,
                    "max_rssi": rssi, "count": n, "platform": platform, "source": source}
        if kind == DECISION:
            verdict, trigger, mode, ident, rssi, platform, latency, presses = struct.unpack_from(
                _DECISION_BEFORE_REASON, payload)
            reason = payload[_DECISION_REASON_AT] if len(payload) > _DECISION_REASON_AT else 0
            return {"verdict": verdict, "trigger": trigger, "mode": mode,
                    "id": _id_or_none(ident), "rssi": None if rssi == _NO_RSSI else rssi,
                    "platform": platform, "latency_ms": latency, "presses": presses or 1,
                    "reason": reason}
        if kind == COUNT:
            near, present, adverts, drops = struct.unpack_from(_COUNT, payload)
            return {"near": near, "present": present, "adverts": adverts, "drops": drops}
        if kind == EVENT:
            code, detail, size = struct.unpack_from(_EVENT, payload)
            if size > EVENT_TEXT_MAX or _EVENT_HEAD + size > len(payload):
                return None
            return {"code": code, "detail": detail,
                    "text": payload[_EVENT_HEAD:_EVENT_HEAD + size]}
    except _PARSE_ERRORS:
        return None
    return None
