"""The host's end of the serial link's framing (bzcore.wire): requests made, replies read.

The board parses requests and makes replies with bzcore.wire; what only the host (its GateLink,
provisioning, the tests' stand-in gates) calls lives here, portable like the rest of bzcore,
so the board never loads it: every function a board module holds costs the board's heap about
90 bytes, and its names qstrs, whether or not the board calls it.
"""

import binascii
import json

from bzcore import wire

STATUSES = (wire.OK, wire.ERR, wire.EV, wire.END)


def request(req_id, command, args=""):
    text = "%d %s" % (req_id, command)
    if args:
        text += " " + args
    return wire.frame(text)


def reply(req_id, status, data=None):
    """One reply line (bytes), whole; see wire.reply_pieces (the board writes the pieces)."""
    return b"".join(wire.reply_pieces(req_id, status, data))


def parse_reply(line):
    """(id, status, data, error code or None); data is the decoded JSON or None."""
    body, error = wire.unframe(line)
    if error:
        return 0, None, None, error
    req_id, rest = wire.leading_id(body)
    status, _, data = rest.partition(b" ")
    try:
        status = status.decode()
        if status not in STATUSES:
            return req_id, None, None, wire.ERR_FORMAT
        return req_id, status, json.loads(data) if data else None, None
    except (ValueError, UnicodeError):  # bad UTF-8 or JSON
        return req_id, None, None, wire.ERR_FORMAT


def records_from_text(texts):
    """Journal records (bytes each) from a reply's base64 strings (wire.records_text)."""
    return [binascii.a2b_base64(t) for t in texts]
