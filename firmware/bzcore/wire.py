"""Host-link framing: one request line, one reply line, the board's end of the USB serial link.

A line is BODY "*" CRC "\\n", where CRC is the CRC-32 of BODY as 8 lower-case hex digits and BODY
holds no control bytes. The host sends one request and waits for its reply (the ESP32 stdin ring
holds about 260 bytes: docs/esp32-notes.md, note 24), so a request line is at most REQUEST_MAX
bytes and a reply line at most REPLY_MAX.

    request  BODY = ID " " COMMAND [" " ARGS]    ID 1..65535, COMMAND one of COMMANDS
    reply    BODY = ID " " STATUS [" " JSON]     STATUS: OK, ERR, EV (a streamed event), END

ID 0 answers a line whose id could not be read. An ERR reply's JSON is
{"error": code, "message": text}, code one of the ERR_* names. Journal records travel as
base64 text (`records_text`), RECORDS_PER_REPLY at most per reply.

The board parses requests and makes replies; the host's end (requests made, replies read, the
records back from their text) is bzcore.wirehost, which the board never loads.

`LineReader` collects request bytes on the board in a preallocated buffer and recognises
mpremote's break-in (CR, Ctrl-C, CR: it sends "\\r\\x03" then "\\r\\x01").
"""

import binascii
import json

from bzcore.ids import const

REQUEST_MAX = const(200)
REPLY_MAX = const(2048)  # streamed in pieces: the board never holds a whole reply
ID_MAX = const(65535)
RECORDS_PER_REPLY = const(12)  # 12 base64 records of 48 bytes fit a reply with room to spare

COMMANDS = ("HELLO", "STATUS", "TIME SET", "CONFIG GET", "CONFIG STAGE", "CONFIG SET", "LOG PULL",
            "LOG ACK", "EVENTS", "RESTART", "MAINT", "KEY PROVE", "OUTPUTS TEST", "EXEMPT")
# KEY PROVE answers HMAC-SHA256(board key, KEY_PROOF_TAG + nonce): the tag keeps a proof from
# ever equalling a journal MAC, whatever nonce the host sends.
KEY_PROOF_TAG = b"bzgate key proof 1\x00"
KEY_NONCE_BYTES = const(16)
OK = "OK"
ERR = "ERR"
EV = "EV"
END = "END"

ERR_CRC = "crc"  # the checksum does not match: resend
ERR_FORMAT = "format"  # not ID COMMAND ARGS, or control bytes in the line
ERR_TOO_LONG = "too-long"  # the line ran past REQUEST_MAX (or a reply past REPLY_MAX)
ERR_UNKNOWN = "unknown-command"
ERR_ARGS = "bad-args"  # the command's arguments are missing or malformed
ERR_REFUSED = "refused"  # understood, but the gate will not do it (e.g. invalid config)
ERR_BUSY = "busy"  # the gate cannot do it now; try again
ERR_BAD_REASON = "bad-reason"  # EXEMPT with a reason not in bzcore.record.REASON_CODES
ERR_COUNT_MODE = "count-mode"  # a decision asked of a gate in count mode, which takes none

# LineReader.feed results.
NOTHING = const(0)
LINE = const(1)
OVERLONG = const(2)
BREAK_IN = const(3)

_CR = const(13)
_LF = const(10)
_CTRL_C = const(3)


def checksum(body):
    return "%08x" % (binascii.crc32(body) & 0xFFFFFFFF)


def frame(body):
    """bytes of a whole line for BODY (str or bytes)."""
    if type(body) is str:
        body = body.encode()
    return body + b"*" + checksum(body).encode() + b"\n"


def _printable(data):
    for b in data:
        if b < 32 or b == 127:
            return False
    return True


def unframe(line):
    """(body bytes, None) or (None, error code) for one line without its newline."""
    line = bytes(line).rstrip(b"\r\n")
    star = line.rfind(b"*")
    if star < 0 or len(line) - star != 9 or not _printable(line):
        return None, ERR_FORMAT
    body = line[:star]
    if checksum(body).encode() != line[star + 1:].lower():
        return None, ERR_CRC
    return body, None


def leading_id(body):
    """The decimal id at the start of body and the rest after one space; id 0 when unreadable."""
    space = body.find(b" ")
    head = body if space < 0 else body[:space]
    if not 1 <= len(head) <= 5 or not head.isdigit():
        return 0, b""
    value = int(head)
    if value > ID_MAX:
        return 0, b""
    return value, b"" if space < 0 else body[space + 1:]


def parse_request(line):
    """(id, command, args text, error code or None) for a request line."""
    body, error = unframe(line)
    if error:
        return leading_id(bytes(line))[0] if error == ERR_CRC else 0, None, "", error
    req_id, rest = leading_id(body)
    if not req_id:
        return 0, None, "", ERR_FORMAT
    try:
        text = rest.decode()
    except (ValueError, UnicodeError):
        return req_id, None, "", ERR_FORMAT
    for command in COMMANDS:
        if text == command or text.startswith(command + " "):
            return req_id, command, text[len(command) + 1:], None
    return req_id, None, "", ERR_UNKNOWN


def _json_pieces(data):
    """json.dumps(data) in pieces (a dict field by field): no one large string on a small heap."""
    if type(data) is not dict:
        yield json.dumps(data).encode()
        return
    yield b"{"
    sep = ""
    for key in data:
        yield (sep + json.dumps(key) + ": ").encode()
        yield json.dumps(data[key]).encode()
        sep = ", "
    yield b"}"


def reply_pieces(req_id, status, data=None):
    """One reply line as pieces of bytes to write one after another (the last ends the line);
    a reply that would run past REPLY_MAX becomes an ERR_TOO_LONG reply."""
    head = ("%d %s" % (req_id, status) + ("" if data is None else " ")).encode()
    size = len(head) + 10  # "*" + 8 hex digits + "\n"
    if data is not None:
        for piece in _json_pieces(data):
            size += len(piece)
    if size > REPLY_MAX:
        yield error_reply(req_id, ERR_TOO_LONG, "reply longer than %d bytes" % REPLY_MAX)
        return
    crc = binascii.crc32(head)
    yield head
    if data is not None:
        for piece in _json_pieces(data):
            crc = binascii.crc32(piece, crc)
            yield piece
    yield ("*%08x\n" % (crc & 0xFFFFFFFF)).encode()


def error_reply(req_id, code, message):
    """A short ERR line (bytes)."""
    return frame("%d %s %s" % (req_id, ERR, json.dumps({"error": code, "message": message[:200]})))


def records_text(records):
    """Journal records (bytes each) as a list of base64 strings for a reply."""
    return [binascii.b2a_base64(r).decode().rstrip("\n") for r in records]


class LineReader:
    """Bytes in, lines out, in a fixed buffer: feed() each byte, then line() after LINE.

    Lines end at CR or LF; empty lines are skipped. A line past `limit` bytes is reported once
    (OVERLONG) at its end and dropped. CR, Ctrl-C (one or more), CR is BREAK_IN: what mpremote
    sends to stop a program (the caller decides whether it really is mpremote)."""

    def __init__(self, limit=REQUEST_MAX):
        self._buf = bytearray(limit)
        self._len = 0
        self._overlong = False
        self._last = 0
        self._brk = 0  # progress through CR, Ctrl-C+, CR

    def feed(self, b):
        brk = self._brk
        self._brk = 1 if b == _CR else 2 if b == _CTRL_C and brk else 0
        if b == _CR and brk == 2:
            self._len = 0
            self._overlong = False
            return BREAK_IN
        if b == _CR or b == _LF:
            return self._end()
        if self._len < len(self._buf):
            self._buf[self._len] = b
            self._len += 1
        else:
            self._overlong = True
        return NOTHING

    def _end(self):
        size, overlong = self._len, self._overlong
        self._last = size
        self._len = 0
        self._overlong = False
        if overlong:
            return OVERLONG
        return LINE if size else NOTHING

    def line(self):
        """The line just completed (valid until the next feed)."""
        return memoryview(self._buf)[: self._last]

    def pending(self):
        return self._len
