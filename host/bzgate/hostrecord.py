"""Journal records read and checked at the host's speed: bzcore.record's layout with one
precompiled struct per kind over all 48 bytes, and HMAC-SHA256 for the MAC chain from the
key's two padded blocks hashed once per chain (RFC 2104), not once per record.

bzcore.record, bzcore.recordread and bzcore.uplinkhost are the firmware's own modules and stay
portable (MicroPython has no hashlib copies and no struct.Struct); what this module answers
equals what they answer (decode, payload_fields, verify_chain, decode_batch), which
tests/host/test_hostrecord.py checks record by record.

    unpacked(raw) -> (seq, kind, clock_valid, time, values, mac), or None for what
                     record.decode refuses; `values` are the payload's fields in
                     FIELDS[kind]'s order (payload_fields' values), None when it does not parse
"""

import hashlib
import struct

from bzcore import record, uplink, uplinkhost

FIELDS = {
    record.SIGHTING: ("id", "first_seen", "last_seen", "max_rssi", "count", "platform", "source"),
    record.DECISION: ("verdict", "trigger", "mode", "id", "rssi", "platform", "latency_ms",
                      "presses", "reason"),
    record.COUNT: ("near", "present", "adverts", "drops"),
    record.EVENT: ("code", "detail", "text"),
}
# Header (seq, kind, flags, time, boot id), the kind's payload in its 26 bytes, the MAC.
LAYOUTS = {
    record.SIGHTING: struct.Struct(">IBBII 12sIIbHBB 1x 8s"),
    record.DECISION: struct.Struct(">IBBII BBB12sbBHBB 5x 8s"),
    record.COUNT: struct.Struct(">IBBII HHII 14x 8s"),
    record.EVENT: struct.Struct(">IBBII BiB20s 8s"),
}
NO_ID = bytes(12)
_NO_RSSI = 127  # bzcore.record: a decision no phone decided
_SIGNED = 40  # the bytes the MAC covers after the previous MAC
_SHAPE = struct.Struct(">IBB42x")  # what a record is checked for first: seq, kind, flags
_BATCH_HEAD = 2  # a batch's version and board id size, before the board id
_BLOCK = 64  # SHA-256's block, which HMAC pads its key to
_INNER_PAD = bytes(x ^ 0x36 for x in range(256))  # bytes.translate tables: each byte XOR the pad
_OUTER_PAD = bytes(x ^ 0x5C for x in range(256))


def _sighting(v):
    return (v[5] if v[5] != NO_ID else None,) + v[6:12]


def _decision(v):
    return (v[5], v[6], v[7], v[8] if v[8] != NO_ID else None,
            v[9] if v[9] != _NO_RSSI else None, v[10], v[11], v[12] or 1, v[13])


def _count(v):
    return v[5:9]


def _event(v):
    size = v[7]
    return None if size > record.EVENT_TEXT_MAX else (v[5], v[6], v[8][:size])


_VALUES = {record.SIGHTING: _sighting, record.DECISION: _decision, record.COUNT: _count,
           record.EVENT: _event}


def unpacked(raw):
    """One record's header and payload values, as the module docstring says."""
    if len(raw) != record.RECORD_SIZE:
        return None
    layout = LAYOUTS.get(raw[4])
    if layout is None or raw[5] & ~record.FLAG_CLOCK_VALID:
        return None
    v = layout.unpack(raw)
    return v[0], v[1], v[2] != 0, v[3], _VALUES[v[1]](v), v[-1]


def _keyed(key: bytes) -> tuple:
    """SHA-256 states that have hashed the key's inner and outer HMAC blocks: copying them is
    cheaper than hmac.digest, which sets OpenSSL's HMAC up again on every call."""
    if len(key) > _BLOCK:
        key = hashlib.sha256(key).digest()
    key = key.ljust(_BLOCK, b"\0")
    return hashlib.sha256(key.translate(_INNER_PAD)), hashlib.sha256(key.translate(_OUTER_PAD))


def verify_chain(key: bytes, raws, prev_mac: bytes = record.GENESIS, prev_seq=None):
    """recordread.verify_chain's answer (good leading records, None or why it broke)."""
    inner, outer = _keyed(key)
    shape = _SHAPE.unpack
    for index, raw in enumerate(raws):
        if len(raw) != record.RECORD_SIZE:
            return index, "record %d is not a record" % index
        seq, kind, flags = shape(raw)
        if kind not in LAYOUTS or flags & ~record.FLAG_CLOCK_VALID:
            return index, "record %d is not a record" % index
        if prev_seq is not None and seq != prev_seq + 1:
            return index, "seq %d follows seq %d" % (seq, prev_seq)
        signed = inner.copy()
        signed.update(prev_mac + raw[:_SIGNED])
        mac = outer.copy()
        mac.update(signed.digest())
        prev_mac = mac.digest()[:record.MAC_SIZE]
        if prev_mac != raw[_SIGNED:]:
            return index, "MAC of seq %d does not match" % seq
        prev_seq = seq
    return len(raws), None


def decode_batch(payload):
    """bzcore.uplinkhost.decode_batch's answer: a well-formed batch read with one struct over its
    records; anything else is left to uplinkhost.decode_batch, which says why it is not one."""
    size = record.RECORD_SIZE
    if type(payload) is bytes and len(payload) > _BATCH_HEAD and payload[0] == uplink.VERSION:
        start = _BATCH_HEAD + payload[1]
        body = len(payload) - start
        if 0 < payload[1] <= uplink.BOARD_ID_MAX and 0 < body <= uplink.MAX_RECORDS * size \
                and not body % size:
            shapes = list(_SHAPE.iter_unpack(payload[start:]))
            first = shapes[0][0]
            if all(kind in record.KIND_NAMES and not flags & ~record.FLAG_CLOCK_VALID
                   and seq == first + n for n, (seq, kind, flags) in enumerate(shapes)):
                return payload[_BATCH_HEAD:start].hex(), [
                    payload[at:at + size] for at in range(start, len(payload), size)]
    return uplinkhost.decode_batch(payload)
