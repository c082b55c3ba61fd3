"""The MQTT uplink contract and the gate's part of it (the publisher's); the host's: uplinkhost.

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

The board encodes batches, parses acks and makes topic names here; decoding batches, making acks
and reading topic names is the host's part, in bzcore.uplinkhost, which the board never loads.
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


def is_board_hex(text):
    if not isinstance(text, str) or not 0 < len(text) <= 2 * BOARD_ID_MAX or len(text) % 2:
        return False
    for c in text:
        if c not in _HEX:
            return False
    return True


def is_seq(seq):
    return isinstance(seq, int) and not isinstance(seq, bool) and -1 <= seq <= 0xFFFFFFFF


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
    if not is_board_hex(board) or not is_seq(seq):
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
