# The bzcore.uplink and bzcore.uplinkhost case table (tests/cases/uplink.json), checked the
# same way on MicroPython and CPython by test_core_cases.py, as core_cases.py is. Under
# MicroPython:
#   MICROPYPATH=firmware:.frozen micropython tests/uplink_cases.py tests/cases
# prints one tab-separated line per case: PASS <case id>, or FAIL <case id> <why>.
import json
import sys

from casekit import expect, hexbytes, report

from bzcore import record, uplink, uplinkhost


def _raises_value_error(call, what):
    try:
        call()
    except ValueError:
        return
    raise AssertionError(what + ": accepted")


def _batch_check(case, chain):
    def check():
        records = [chain[i] for i in case["records"]]
        payload = uplink.encode_batch(hexbytes(case["board_id"]), records)
        expect(payload.hex().upper(), case["payload"], "encode_batch")
        want = (case["board_id"].lower(), records)
        for wrap in (bytes, bytearray, memoryview):
            expect(uplinkhost.decode_batch(wrap(payload)), want, "decode_batch " + wrap.__name__)
    return check


def _bad_batch_check(case):
    def check():
        _raises_value_error(lambda: uplinkhost.decode_batch(hexbytes(case["payload"])), "decode_batch")
    return check


def _batch_limits_check(chain):
    # MAX_RECORDS records encode; one more does not, either way round; wrong types are refused.
    def check():
        key = bytes(range(32))
        prev = record.GENESIS
        records = []
        for seq in range(uplink.MAX_RECORDS + 1):
            raw = record.encode(key, prev, seq, record.COUNT, 0, True, 1, b"")
            prev = record.mac_of(raw)
            records.append(raw)
        full = uplink.encode_batch(b"\x01", records[:-1])
        expect(len(uplinkhost.decode_batch(full)[1]), uplink.MAX_RECORDS, "a full batch")
        expect(len(full) <= 1024, True, "a full batch fits 1 KB")
        over = full + records[-1]
        _raises_value_error(lambda: uplinkhost.decode_batch(over), "decode_batch of 21 records")
        _raises_value_error(lambda: uplink.encode_batch(b"\x01", records), "encode_batch of 21")
        _raises_value_error(lambda: uplink.encode_batch(b"\x01", []), "encode_batch of none")
        _raises_value_error(lambda: uplink.encode_batch(b"", chain[:1]), "an empty board id")
        _raises_value_error(lambda: uplink.encode_batch(b"\x01" * 33, chain[:1]), "33-byte board")
        _raises_value_error(lambda: uplink.encode_batch(b"\x01", [chain[0][:47]]), "47 bytes")
        for junk in (None, 5, "x" * 50, [1] * 50, 2.5):
            _raises_value_error(lambda: uplinkhost.decode_batch(junk), "decode_batch(%r)" % (junk,))
    return check


def _ack_check(case):
    def check():
        payload = uplinkhost.ack_payload(case["board"], case["seq"])
        expect(payload, case["payload"].encode(), "ack_payload")
        for wrap in (bytes, bytearray, memoryview):
            expect(uplink.parse_ack(wrap(payload)), (case["board"], case["seq"]),
                    "parse_ack " + wrap.__name__)
        expect(uplink.parse_ack(case["payload"]), (case["board"], case["seq"]), "parse_ack str")
    return check


def _other_ack_check(case):
    def check():
        expect(uplink.parse_ack(case["payload"].encode()), (case["board"], case["seq"]), "parse_ack")
    return check


def _bad_ack_check(case):
    def check():
        expect(uplink.parse_ack(case["payload"].encode()), None, "parse_ack")
        expect(uplink.parse_ack(case["payload"]), None, "parse_ack str")
    return check


def _ack_refusals_check():
    def check():
        for board, seq in (("00FF", 1), ("0ff", 1), ("", 1), (b"\x00", 1), ("00", -2), ("00", True),
                           ("00", 2 ** 32), ("00", "1"), ("ab" * 33, 1)):
            _raises_value_error(lambda: uplinkhost.ack_payload(board, seq), "ack_payload%r" % ((board, seq),))
        for junk in (None, 5, [1], b"\xff\xfe", b"{\"board\": \"00\", \"seq\": 1" + b" " * 200 + b"}"):
            expect(uplink.parse_ack(junk), None, "parse_ack(%r)" % (junk,))
    return check


def _topic_check(case):
    def check():
        name = uplink.topic(case["prefix"], case["gate_id"], case["leaf"])
        expect(name, case["topic"], "topic")
        want = (case["prefix"], case["gate_id"], case["leaf"])
        expect(uplinkhost.parse_topic(name), want, "parse_topic")
        expect(uplinkhost.parse_topic(name.encode()), want, "parse_topic of bytes")
    return check


def _bad_topics_check(table):
    def check():
        for name in table["bad_topics"]:
            expect(uplinkhost.parse_topic(name), None, "parse_topic(%r)" % name)
            expect(uplinkhost.parse_topic(name.encode()), None, "parse_topic(%r bytes)" % name)
        for junk in (None, 5, b"\xff/g/journal"):
            expect(uplinkhost.parse_topic(junk), None, "parse_topic(%r)" % (junk,))
        for parts in table["bad_topic_parts"]:
            _raises_value_error(lambda: uplink.topic(*parts), "topic%r" % (tuple(parts),))
    return check


def checks(cases_dir):
    """[(case id, check)] for uplink.json: each check returns None or raises AssertionError."""
    with open(cases_dir + "/uplink.json") as f:
        table = json.load(f)
    with open(cases_dir + "/records.json") as f:
        chain = [hexbytes(c["record"]) for c in json.load(f)["chain"]["records"]]
    out = [("batch: " + c["name"], _batch_check(c, chain)) for c in table["batches"]]
    out += [("bad batch: " + c["name"], _bad_batch_check(c)) for c in table["bad_batches"]]
    out.append(("batch: limits and wrong types", _batch_limits_check(chain)))
    out += [("ack: %s %d" % (c["board"], c["seq"]), _ack_check(c)) for c in table["acks"]]
    out += [("ack: " + c["name"], _other_ack_check(c)) for c in table["other_acks"]]
    out += [("bad ack: " + c["name"], _bad_ack_check(c)) for c in table["bad_acks"]]
    out.append(("ack: refused values and junk", _ack_refusals_check()))
    out += [("topic: " + c["topic"], _topic_check(c)) for c in table["topics"]]
    out.append(("topic: malformed names and parts", _bad_topics_check(table)))
    return out


if __name__ == "__main__":
    report(checks(sys.argv[1]))
