"""The host's part of the MQTT uplink contract (bzcore.uplink): batches decoded, acks made,
topic names read.

The board encodes batches, parses acks and makes topic names with bzcore.uplink; what only
the host (the ingester, the monitor, the benches and tests) calls lives here, portable like the
rest of bzcore, so the board never loads it: every function a board module holds costs the
board's heap about 90 bytes, and its names qstrs, whether or not the board calls it.
"""

from bzcore import record, uplink
from bzcore.ids import const

_HEAD = const(2)  # the version and board-id-length bytes (bzcore.uplink's _HEAD)


def decode_batch(payload):
    """(board id as lower-case hex, [48-byte records]) from a journal payload.

    Raises ValueError, and nothing else, when the payload is not a well-formed batch: wrong
    version, board id or size, a block that is not a record, or seqs that are not consecutive.
    The records' MACs are not checked here: that needs the board's key (recordread.verify_chain).
    """
    if not isinstance(payload, (bytes, bytearray, memoryview)):
        raise ValueError("a batch is bytes")
    payload = bytes(payload)
    if len(payload) < _HEAD or payload[0] != uplink.VERSION:
        raise ValueError("not a version %d batch" % uplink.VERSION)
    n = payload[1]
    if not 0 < n <= uplink.BOARD_ID_MAX:
        raise ValueError("board id of %d bytes" % n)
    body = len(payload) - _HEAD - n
    k = body // record.RECORD_SIZE
    if body <= 0 or body % record.RECORD_SIZE or k > uplink.MAX_RECORDS:
        raise ValueError("%d bytes after the board id: not 1 to %d records" % (max(body, 0),
                                                                                uplink.MAX_RECORDS))
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


def ack_payload(board_hex, seq):
    """The retained ack: the last seq of `board_hex` the host has committed (-1: none yet)."""
    if not uplink.is_board_hex(board_hex):
        raise ValueError("board id: lower-case hex of 1 to %d bytes" % uplink.BOARD_ID_MAX)
    if not uplink.is_seq(seq):
        raise ValueError("seq: -1 or a record's seq")
    # Written out rather than json.dumps: the same bytes on both interpreters.
    return ('{"board": "%s", "seq": %d}' % (board_hex, seq)).encode()


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
        uplink.topic(prefix, gate_id, leaf)
    except ValueError:
        return None
    return prefix, gate_id, leaf
