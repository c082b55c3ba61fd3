# bzcore.beacon and bzcore.beaconread cases (tests/cases/beacon.json), the same on MicroPython and
# CPython; run by tests/test_core_cases.py (under MicroPython this file runs as a script, as
# core_cases.py does).
import json
import sys

from casekit import expect

from bzcore import adv, beacon, beaconread, ids


def _status_check(case):
    def check():
        data = beacon.status_advert(case["gate_id"], case["mode"], case["alarms"], case["counts"],
                                    case["clock_valid"], case["checkpoint"])
        expect(data.hex().upper(), case["adv"], "advert")
        if len(data) > 31:
            raise AssertionError("%d bytes do not fit an advert" % len(data))
        expect(adv.classify(data).kind, adv.KIND_NONE, "not taken for a phone")
        for wrap in (bytes, bytearray, memoryview):
            got = beaconread.decode_status(wrap(data))
            want = {"version": 1, "gate_hash": beacon.gate_hash(case["gate_id"]),
                    "mode": case["mode"], "alarms": case["decoded_alarms"],
                    "clock_valid": case["clock_valid"], "checkpoint": case["checkpoint"],
                    "counts": case["decoded_counts"]}
            expect(got, want, "decoded from " + wrap.__name__)
    return check


def _not_status_check(case):
    def check():
        expect(beaconread.decode_status(bytes.fromhex(case["adv"])), None, "decode")
    return check


def _later_version_check(case):
    def check():
        expect(beaconread.decode_status(bytes.fromhex(case["adv"])), {"version": case["version"]},
                "decode")
    return check


def _checkpoint_check(table):
    def check():
        key = bytes.fromhex(table["base_key"])
        for row in table["ids"]:
            got = beacon.checkpoint_id(key, table["base_day"], row["t"])
            expect(got.hex().upper(), row["id"], "ID at %d" % row["t"])
        first = beacon.checkpoint_id(key, table["base_day"], table["ids"][0]["t"])
        data = beacon.checkpoint_advert(first)
        expect(data.hex().upper(), table["advert"], "advert")
        expect(adv.classify(data), (adv.KIND_ANDROID, adv.PLATFORM_ANDROID, first, False),
                "a gate's checkpoint advert is an Android phone's")
        expect(beaconread.decode_status(data), None, "not a status beacon")
        for bad in table["refused"]:
            _refused(bad["name"], ids.key_for_day, key, bad["base_day"], bad["t"])
        _refused("an 11-byte ID", beacon.checkpoint_advert, first[:11])
    return check


def _refused(what, call, *args):
    try:
        call(*args)
    except ValueError:
        return
    raise AssertionError(what + " accepted")


def checks(cases_dir):
    with open(cases_dir + "/beacon.json") as f:
        table = json.load(f)
    out = [("beacon: " + c["name"], _status_check(c)) for c in table["status"]]
    out += [("beacon: not status: " + c["name"], _not_status_check(c)) for c in table["not_status"]]
    out.append(("beacon: a later version", _later_version_check(table["later_version"])))
    out.append(("beacon: checkpoint IDs and advert", _checkpoint_check(table["checkpoint"])))
    return out


if __name__ == "__main__":
    import core_cases

    core_cases.report(checks(sys.argv[1]))
