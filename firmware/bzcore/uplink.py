"""The MQTT uplink contract, shared by the gate (publisher) and the host (ingester).

Topics, with prefix P (config mqtt.topic_prefix) and the gate's gate_id G:

    P/G/journal  QoS 1           one batch of journal records (binary, below)
    P/G/ack      QoS 1 retained  {"board": "<board id hex>", "seq": <last stored seq, -1 = none>}
    P/G/events   QoS 0           one JSON object per message (the hostlink EVENTS objects)
    P/G/online   retained        "1" on connect, "0" as the MQTT last will

A journal batch:

    byte 0      format version (VERSION)
    byte 1      n = length of the board id in bytes (machine.unique_id(), raw)
    2..2+n      board id
    then k x 48-byte records (bzcore.record), consecutive seqs ascending, 1 <= k <= MAX_RECORDS

The host publishes the ack only after its database commit, so the ack is where a gate resumes.
"""

import json

from bzcore import record
from bzcore.ids import const

VERSION = const(1)
MAX_RECORDS = const(20)  # keeps a batch under ~1 KB: one MQTT packet the board can buffer
BOARD_ID_MAX = const(32)  # ESP32 unique ids are 6 bytes; room for other boards
_HEAD = const(2)
_ACK_MAX = const(160)  # an ack is under 100 bytes; anything much longer is not one
JOURNAL = "journal"
ACK = "ack"
EVENTS = "events"
ONLINE = "online"
LEAVES = (JOURNAL, ACK, EVENTS, ONLINE)
_HEX = "0123456789abcdef"
_TOPIC_BAD = "/+#"


def encode_batch(board_id, records):
    """The payload of one journal message: VERSION, the board id and the records, in order."""
    board_id = bytes(board_id)
    if not 0 < len(board_id) <= BOARD_ID_MAX:
        raise ValueError("a board id is 1 to %d bytes" % BOARD_ID_MAX)
    if not 0 < len(records) <= MAX_RECORDS:
        raise ValueError("a batch holds 1 to %d records" % MAX_RECORDS)
    out = bytearray(_HEAD + len(board_id) + record.RECORD_SIZE * len(records))
    out[0] = VERSION
    out[1] = len(board_id)
    at = _HEAD + len(board_id)
    out[_HEAD:at] = board_id
    for raw in records:
        if len(raw) != record.RECORD_SIZE:
            raise ValueError("a record is %d bytes" % record.RECORD_SIZE)
        out[at:at + record.RECORD_SIZE] = raw
        at += record.RECORD_SIZE
    return bytes(out)


def decode_batch(payload):
    """(board id as lower-case hex, [48-byte records]) from a journal payload.

    Raises ValueError, and nothing else, when the payload is not a well-formed batch: wrong
    version, board id or size, a block that is not a record, or seqs that are not consecutive.
    The records' MACs are not checked here: that needs the board's key (record.verify_chain).
    """
    if not isinstance(payload, (bytes, bytearray, memoryview)):
        raise ValueError("a batch is bytes")
    payload = bytes(payload)
    if len(payload) < _HEAD or payload[0] != VERSION:
        raise ValueError("not a version %d batch" % VERSION)
    n = payload[1]
    if not 0 < n <= BOARD_ID_MAX:
        raise ValueError("board id of %d bytes" % n)
    body = len(payload) - _HEAD - n
    k = body // record.RECORD_SIZE
    if body <= 0 or body % record.RECORD_SIZE or k > MAX_RECORDS:
        raise ValueError("%d bytes after the board id: not 1 to %d records" % (max(body, 0),
                                                                                MAX_RECORDS))
    records = []
    seq = None
    for at in range(_HEAD + n, len(payload), record.RECORD_SIZE):
        raw = payload[at:at + record.RECORD_SIZE]
        rec = record.decode(raw)
        if rec is None:
            raise ValueError("block %d is not a record" % len(records))
        if seq is not None and rec.seq != seq + 1:
            raise ValueError("seq %d follows seq %d" % (rec.seq, seq))
        seq = rec.seq
        records.append(raw)
    return payload[_HEAD:_HEAD + n].hex(), records


def _is_board_hex(text):
    if not isinstance(text, str) or not 0 < len(text) <= 2 * BOARD_ID_MAX or len(text) % 2:
        return False
    for c in text:
        if c not in _HEX:
            return False
    return True


def _is_seq(seq):
    return isinstance(seq, int) and not isinstance(seq, bool) and -1 <= seq <= 0xFFFFFFFF


def ack_payload(board_hex, seq):
    """The retained ack: the last seq of `board_hex` the host has committed (-1: none yet)."""
    if not _is_board_hex(board_hex):
        raise ValueError("board id: lower-case hex of 1 to %d bytes" % BOARD_ID_MAX)
    if not _is_seq(seq):
        raise ValueError("seq: -1 or a record's seq")
    # Written out rather than json.dumps: the same bytes on both interpreters.
    return ('{"board": "%s", "seq": %d}' % (board_hex, seq)).encode()


def parse_ack(payload):
    """(board hex, seq) from an ack payload, or None when it is not one. Never raises."""
    if not isinstance(payload, (bytes, bytearray, memoryview, str)) or len(payload) > _ACK_MAX:
        return None
    try:
        if not isinstance(payload, str):
            payload = str(bytes(payload), "utf-8")
        ack = json.loads(payload)
    except ValueError:  # bad JSON and bad UTF-8 (UnicodeError is a ValueError) alike
        return None
    if not isinstance(ack, dict):
        return None
    board = ack.get("board")
    seq = ack.get("seq")
    if not _is_board_hex(board) or not _is_seq(seq):
        return None
    return board, seq


def _is_topic_part(part):
    if not part:
        return False
    for c in _TOPIC_BAD:
        if c in part:
            return False
    return True


def topic(prefix, gate_id, leaf):
    """"P/G/leaf". The prefix may hold levels ("site/bzgate"); gate id and leaf are one level."""
    if not prefix or "+" in prefix or "#" in prefix or prefix[0] == "/" or prefix[-1] == "/":
        raise ValueError("topic prefix: levels without + or #, no leading or trailing /")
    if not _is_topic_part(gate_id) or leaf not in LEAVES:
        raise ValueError("gate id: one topic level; leaf: one of " + ", ".join(LEAVES))
    return prefix + "/" + gate_id + "/" + leaf


def parse_topic(name):
    """(prefix, gate id, leaf) of an uplink topic (str or bytes), or None. Never raises."""
    if isinstance(name, (bytes, bytearray, memoryview)):
        try:
            name = str(bytes(name), "utf-8")
        except ValueError:
            return None
    if not isinstance(name, str):
        return None
    cut = name.rfind("/")
    leaf = name[cut + 1:]
    rest = name[:cut] if cut > 0 else ""
    cut = rest.rfind("/")
    gate_id = rest[cut + 1:]
    prefix = rest[:cut] if cut > 0 else ""
    try:
        topic(prefix, gate_id, leaf)
    except ValueError:
        return None
    return prefix, gate_id, leaf
