# The bzcore case tables (tests/cases/*.json), checked the same way on MicroPython and CPython.
#
# pytest imports checks() under CPython; under MicroPython this file runs as a script:
#   MICROPYPATH=firmware:.frozen micropython tests/core_cases.py tests/cases
# and prints one tab-separated line per case: PASS <case id>, or FAIL <case id> <why>.
import sys

from casekit import Lcg, expect, hexbytes, load, report

from bzcore import adv, advwalk, idexpand, ids


def _shown_id(ident):
    if isinstance(ident, bytes):
        return ident.hex().upper()
    return ident


def _advert_check(case):
    def check():
        data = hexbytes(case["adv"])
        scan_rsp = hexbytes(case["scan_rsp"]) if "scan_rsp" in case else None
        want = (case["kind"], case["platform"], case["id"], case["needs_gatt"])
        # The same bytes as bytes, bytearray and memoryview (what a BLE IRQ hands over).
        for wrap in (bytes, bytearray, memoryview):
            rsp = wrap(scan_rsp) if scan_rsp is not None else None
            r = adv.classify(wrap(data), rsp)
            expect((r.kind, r.platform, _shown_id(r.id), r.needs_gatt), want, wrap.__name__)
    return check


def _v1_name_check(case):
    def check():
        expect(advwalk.encode_v1_name(case["code"], case["d1"], case["d2"]), case["name"], "encode")
        expect(advwalk.encode_v1_name(case["code"], case["d2"], case["d1"])[1:9], case["name"][1:9],
                "digit order")
        expect(adv.decode_v1_name(case["name"].encode()), case["code"], "decode")
    return check


def _bad_v1_name_check(name):
    def check():
        expect(adv.decode_v1_name(name.encode()), None, "decode")
    return check


def _day_check(day):
    def check():
        key = hexbytes(day["daily_key"])
        max_ids = day["max"]
        start = day["time_start"]
        size = day["slot_seconds"]
        expect(ids.slot_seconds(max_ids), size, "slot seconds")
        count = 0
        for index, ident in enumerate(idexpand.day_ids(key, max_ids)):
            want = day["ids"].get(str(index))
            if want is not None:
                expect(ident.hex().upper(), want, "day_ids slot %d" % index)
            count += 1
        expect(count, max_ids, "IDs per day")
        for slot in day["ids"]:
            want = day["ids"][slot]
            index = int(slot)
            t = start + index * size + size // 2
            expect(ids.slot_index(t, max_ids), index, "slot_index")
            expect(ids.slot_window(t, max_ids), (start + index * size, start + (index + 1) * size),
                    "slot_window")
            expect(ids.id_at(key, t, max_ids).hex().upper(), want, "id_at slot " + slot)
        next_key = ids.daily_key(key, 1)
        expect(next_key.hex().upper(), day["next_daily_key"], "next daily key")
        expect(ids.id_at(next_key, start + 86400, max_ids).hex().upper(),
                day["next_day_first_id"], "next day's first ID")
    return check


def _sub_key_check():
    # docs/protocol.md §9: SK_0, SK_1 and the day-key chain of the test key.
    def check():
        key = bytes(range(32))
        sk0 = ids.first_sub_key(key)
        expect(sk0.hex().upper(), "13C6BB550CB98253EA96A3AC64CB0023724E138C0C3F18DD5D6486934388DFB4",
                "SK_0")
        expect(ids.sha256(sk0).hex().upper(),
                "89AA45AE3D916F9DAE80A23C34A6EEDC24B7375813730CAAE5BEE23C384D37D7", "SK_1")
        expect(ids.daily_key(key, 0), key, "day 0 key")
        expect(ids.daily_key(key, 2).hex()[:8], "2f287b4d", "day 2 key")
        expect(ids.day_start(1600389123), 1600387200, "day_start")
    return check


def _bad_input_check():
    def check():
        for max_ids in (0, -96, 7, 86401):
            try:
                ids.slot_seconds(max_ids)
            except ValueError:
                continue
            raise AssertionError("max %d accepted" % max_ids)
        try:
            list(idexpand.expand_f0(b"\x00" * 31, 1600387200, 96, 1600473600))
        except ValueError:
            return
        raise AssertionError("a 31-byte daily key was accepted")
    return check


def _f0_check(table, case):
    def check():
        start = idexpand.f0_seconds(case["time_start"])
        end = idexpand.f0_seconds(case["time_end"])
        want = hexbytes(case["id"])
        at = case["at"]
        tol = case["tolerance_s"]
        hit = False
        count = 0
        for ident, valid_from, valid_to in idexpand.expand_f0(hexbytes(table["daily_key"]), start,
                                                          case["max"], end):
            count += 1
            if ident == want and valid_from - tol <= at <= valid_to + tol:
                hit = True
        expect(count, case["windows"], "windows")
        expect(hit, case["match"], "match")
    return check


def _fuzz_check(adverts):
    # Random bytes and damaged Bluezone adverts: classify must answer, never raise.
    def check():
        rng = Lcg(2020)
        samples = [hexbytes(c["adv"]) for c in adverts if c["adv"]]
        for n in range(600):
            if n % 2:
                data = bytearray(rng.next(32))
                for k in range(len(data)):
                    data[k] = rng.next(256)
            else:
                data = bytearray(samples[rng.next(len(samples))])
                data[rng.next(len(data))] = rng.next(256)
                data = data[:rng.next(len(data) + 1)]
            r = adv.classify(data, samples[n % len(samples)] if n % 3 == 0 else None)
            if r.kind not in advwalk.KINDS:
                raise AssertionError("unknown kind %r for %s" % (r.kind, bytes(data).hex()))
            if r.kind == adv.KIND_ANDROID and len(r.id) != 12:
                raise AssertionError("android ID of %d bytes" % len(r.id))
    return check


def checks(cases_dir):
    """[(case id, check)]: each check returns None or raises AssertionError."""
    adverts = load(cases_dir, "adverts.json")
    vectors = load(cases_dir, "bluezone-vectors.json")
    f0 = load(cases_dir, "f0.json")
    out = [("advert: " + c["name"], _advert_check(c)) for c in adverts["cases"]]
    out += [("v1 name: " + c["name"], _v1_name_check(c)) for c in adverts["v1_names"]]
    out += [("bad v1 name: " + name, _bad_v1_name_check(name)) for name in adverts["bad_v1_names"]]
    out += [("vectors: max %d" % d["max"], _day_check(d)) for d in vectors["days"]]
    out += [("ids: sub-key chain", _sub_key_check()), ("ids: bad input", _bad_input_check())]
    out += [("f0: " + c["name"], _f0_check(f0, c)) for c in f0["cases"]]
    out.append(("advert: fuzz", _fuzz_check(adverts["cases"])))
    return out


if __name__ == "__main__":
    report(checks(sys.argv[1]))
