# bzcore.wire and bzcore.wirehost cases (tests/cases/wire.json), the same on MicroPython and
# CPython; run by tests/test_link_cases.py (core_cases.report prints them under MicroPython).
import json

from casekit import expect

from bzcore import wire, wirehost

_READ = {wire.LINE: "line", wire.OVERLONG: "overlong", wire.BREAK_IN: "break-in"}


def _raw(text):
    """Bytes written in the table as latin-1 text, one character per byte."""
    return bytes([ord(c) for c in text])


def _frame_check(case):
    def check():
        line = _raw(case["line"])
        expect(wire.frame(case["body"]), line, "frame")
        expect(wire.unframe(line[:-1]), (case["body"].encode(), None), "unframe")
    return check


def _request_check(case):
    def check():
        got = wire.parse_request(_raw(case["line"]).rstrip(b"\n"))
        expect(list(got), case["want"], "parse_request")
    return check


def _reply_check(case):
    def check():
        got = wirehost.parse_reply(_raw(case["line"]).rstrip(b"\n"))
        expect(list(got), case["want"], "parse_reply")
    return check


def _reader_check(case):
    def check():
        reader = wire.LineReader(case["limit"])
        seen = []
        for b in _raw(case["bytes"]):
            got = reader.feed(b)
            if got == wire.LINE:
                seen.append(["line", "".join([chr(c) for c in reader.line()])])
            elif got != wire.NOTHING:
                seen.append([_READ[got]])
        expect(seen, case["want"], "lines")
    return check


def _limits_check():
    def check():
        request = wirehost.request(wire.ID_MAX, "CONFIG SET", "x" * 200)
        expect(wire.parse_request(request)[3], None, "a long line still parses")
        too_long = wirehost.reply(3, wire.OK, {"text": "y" * wire.REPLY_MAX})
        expect(len(too_long) <= wire.REPLY_MAX, True, "a reply stays short")
        expect(wirehost.parse_reply(too_long)[2]["error"], wire.ERR_TOO_LONG, "too-long error")
        records = [bytes([n] * 48) for n in range(wire.RECORDS_PER_REPLY)]
        full = wirehost.reply(wire.ID_MAX, wire.OK, {"records": wire.records_text(records), "next": 4294967295})
        expect(wirehost.records_from_text(wirehost.parse_reply(full)[2]["records"]), records, "records")
    return check


def checks(cases_dir):
    with open(cases_dir + "/wire.json") as f:
        table = json.load(f)
    out = [("wire: frame " + c["body"], _frame_check(c)) for c in table["frames"]]
    out += [("wire: request " + c["name"], _request_check(c)) for c in table["requests"]]
    out += [("wire: reply " + c["name"], _reply_check(c)) for c in table["replies"]]
    out += [("wire: reader " + c["name"], _reader_check(c)) for c in table["reader"]]
    out.append(("wire: line and reply limits", _limits_check()))
    return out
