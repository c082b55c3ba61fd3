# The bzcore.record case table (tests/cases/records.json), checked the same way on MicroPython
# and CPython by test_core_cases.py, as core_cases.py is. Under MicroPython:
#   MICROPYPATH=firmware:.frozen micropython tests/record_cases.py tests/cases
# prints one tab-separated line per case: PASS <case id>, or FAIL <case id> <why>.
import json
import sys

from casekit import expect, hexbytes, report

from bzcore import record, recordread


def _builder_args(case):
    args = list(case["args"])
    if case["build"] == "sighting":
        args[0] = hexbytes(args[0])
    elif case["build"] == "decision" and args[3] is not None:
        args[3] = hexbytes(args[3])
    return args


def _shown_fields(fields):
    shown = {}
    for name in fields:
        value = fields[name]
        if name == "id" and value is not None:
            value = value.hex().upper()
        elif name == "text":
            value = value.decode()
        shown[name] = value
    return shown


def _hmac_check(case):
    def check():
        mac = record.hmac_sha256(hexbytes(case["key"]), hexbytes(case["data"]))
        expect(mac.hex().upper(), case["mac"], "HMAC-SHA256")
    return check


def _payload_check(case):
    def check():
        if case["build"] is None:  # a payload as an older record holds it: read back only
            kind, payload = case["kind"], hexbytes(case["payload"])
        else:
            kind, payload = getattr(record, case["build"])(*_builder_args(case))
            expect(kind, case["kind"], "kind")
            expect(payload.hex().upper(), case["payload"], "payload")
            expect(len(payload) <= record.PAYLOAD_SIZE, True, "fits")
        expect(_shown_fields(recordread.payload_fields(kind, payload)), case["fields"], "fields")
    return check


def _encode_check(chain, payloads):
    def check():
        key = hexbytes(chain["key"])
        prev = record.GENESIS
        for case in chain["records"]:
            p = payloads[case["payload_case"]]
            raw = record.encode(key, prev, case["seq"], p["kind"], case["time"],
                                case["clock_valid"], case["boot_id"], hexbytes(p["payload"]))
            expect(raw.hex().upper(), case["record"], "record %d" % case["seq"])
            rec = record.decode(raw)
            expect((rec.seq, rec.kind, rec.time, rec.clock_valid, rec.boot_id),
                    (case["seq"], p["kind"], case["time"], case["clock_valid"], case["boot_id"]),
                    "decoded header")
            expect(recordread.payload_fields(rec.kind, rec.payload),
                    recordread.payload_fields(p["kind"], hexbytes(p["payload"])), "decoded payload")
            prev = record.mac_of(raw)
    return check


def _break_index(key, records, what, want, prev_mac=record.GENESIS, prev_seq=None):
    got = recordread.verify_chain(key, records, prev_mac, prev_seq)
    expect(got[0], want, what)
    expect(got[1] is None, want == len(records), what + " (reason)")


def _tamper_check(chain):
    # Each change, deletion, insertion or reordering is found where it happens.
    def check():
        key = hexbytes(chain["key"])
        good = [hexbytes(c["record"]) for c in chain["records"]]
        _break_index(key, good, "untouched", 4)
        for pos in range(record.RECORD_SIZE):
            for bit in (0x01, 0x80):
                changed = bytearray(good[2])
                changed[pos] ^= bit
                _break_index(key, good[:2] + [bytes(changed)] + good[3:],
                             "byte %d bit %02x of record 2" % (pos, bit), 2)
        _break_index(key, good[:1] + good[2:], "record 1 deleted", 1)
        _break_index(key, good[:2] + good[1:], "record 1 inserted twice", 2)
        _break_index(key, [good[0], good[2], good[1], good[3]], "records 1 and 2 swapped", 1)
        _break_index(key, good[1:], "record 0 deleted", 0)
        _break_index(b"\x55" * 32, good, "another board's key", 0)
        _break_index(key, good[2:], "resumed after record 1", 2, record.mac_of(good[1]), 1)
        _break_index(key, good[2:], "resumed after the wrong seq", 0, record.mac_of(good[1]), 0)
    return check


def _not_record_check(case):
    def check():
        expect(record.decode(hexbytes(case["hex"])), None, "decode")
        expect(recordread.verify_chain(b"k", [hexbytes(case["hex"])])[0], 0, "verify_chain")
    return check


def _garbage_check():
    # decode and payload_fields answer anything, never raise.
    def check():
        for junk in (None, 5, "x" * 48, [0] * 48, bytearray(48), memoryview(bytes(48))):
            expect(record.decode(junk), None, "decode %r" % type(junk).__name__)
        for kind in (record.SIGHTING, record.DECISION, record.COUNT, record.EVENT, 0, 99):
            for payload in (b"", b"\x01", None, 7, b"\x00\x00\x00\x00\x00\x15" + b"x" * 20):
                recordread.payload_fields(kind, payload)
        try:
            record.sighting(b"short", 0, 0, 0, 0, 0, 0)
        except ValueError:
            return
        raise AssertionError("an ID of 5 bytes was accepted")
    return check


def checks(cases_dir):
    """[(case id, check)] for records.json: each check returns None or raises AssertionError."""
    with open(cases_dir + "/records.json") as f:
        table = json.load(f)
    payloads = {}
    for case in table["payloads"]:
        payloads[case["name"]] = case
    out = [("hmac: " + c["name"], _hmac_check(c)) for c in table["hmac"]]
    out += [("payload: " + c["name"], _payload_check(c)) for c in table["payloads"]]
    out.append(("record: chain encodes and decodes", _encode_check(table["chain"], payloads)))
    out.append(("record: tampering breaks the chain", _tamper_check(table["chain"])))
    out += [("not a record: " + c["name"], _not_record_check(c)) for c in table["not_records"]]
    out.append(("record: garbage never raises", _garbage_check()))
    return out


if __name__ == "__main__":
    report(checks(sys.argv[1]))
