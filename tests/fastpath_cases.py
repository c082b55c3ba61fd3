# The fast path against the portable one: bzcore.adv.verdict (viper code on MicroPython) and
# bzcore.advwalk.verdict_portable must give the same int for any advert. Checked the same way on
# MicroPython and CPython by test_core_cases.py, as core_cases.py is. Under MicroPython:
#   MICROPYPATH=firmware:.frozen micropython tests/fastpath_cases.py tests/cases
# prints one tab-separated line per case: PASS <case id>, or FAIL <case id> <why>.
# On CPython verdict is verdict_portable, so there the checks hold the portable path to the case
# table (tests/cases/adverts.json), and the random adverts only to never raising.
import sys

from casekit import Lcg, expect, hexbytes, load, report

from bzcore import adv, advwalk

ADVERTS = 5000
# Structures that Bluezone phones and their neighbours send, whole: random ones, damaged copies
# and cut-off packets come from these.
PIECES = [hexbytes(h) for h in (
    "020102", "02011A", "020106",
    "0303564E", "0302564E", "05030F18564E", "04030F564E", "03030F18", "0503564E",
    "0FFFB522130CEA6472130C185D8643DF", "09FFB522614233785939", "09FFB522614233785921",
    "0EFFB522130CEA6472130C185D8643", "10FFB522130CEA6472130C185D8643DF00",
    "1107" "67A607ADD1172FA1C44BF573564E0000", "1107" "89A807ADD1172FA1C44BF573F4390AE2",
    "1106" "67A607ADD1172FA1C44BF573F4390AE2", "1107" "67A607ADD1172FA1C44BF574564E0000",
    "1107" "89A607ADD1172FA1C44BF573564E0000", "1207" "67A607ADD1172FA1C44BF573564E000000",
    "14FF4C000108000000000000000000000000000000", "14FF4C000100000000010000000000000000000000",
    "13FF4C0001080000000000000000000000000000", "0AFF4C00100501183A5B6C",
    "1AFF4C000215C7AFEF7B17884F4AA87D691D53BF21C400140014C5",
    "1AFF4C000215C7AFEF7B17884F4AA87D691D53BF21C400150014C5",
    "0909426C75657A6F6E65", "0B0934614278337842593932", "0708424C45696F73", "0A0A0A",
    "0F16564E130CEA6472130C185D8643DF", "00", "02FFB5",
)]


def _packet(rng):
    """Up to 31 bytes: 1-10 structures, now and then damaged, random or cut short."""
    out = bytearray()
    for _ in range(1 + rng.next(10)):
        pick = rng.next(len(PIECES) + 4)
        if pick < len(PIECES):
            piece = PIECES[pick]
        else:  # a random structure, its length byte sometimes wrong
            body = bytearray(rng.next(8))
            for k in range(len(body)):
                body[k] = rng.next(256)
            piece = bytes((len(body) + 1 + (rng.next(3) - 1 if rng.next(3) == 0 else 0),
                           rng.next(256))) + body
        if len(out) + len(piece) > 31 and rng.next(4):
            continue  # mostly whole structures; now and then one cut off at 31 bytes
        out += piece
    if out and rng.next(4) == 0:
        out[rng.next(len(out))] = rng.next(256)  # a damaged byte: a length, a type, a UUID byte
    cut = rng.next(len(out) + 1) if rng.next(6) == 0 else len(out)
    return bytes(out[:min(cut, 31)])


def _same_verdicts_check():
    def check():
        rng = Lcg(1620)
        for n in range(ADVERTS):
            data = _packet(rng)
            rsp = _packet(rng) if n % 3 == 0 else None
            want = advwalk.verdict_portable(data, rsp)
            for wrap in (bytes, bytearray, memoryview):
                got = adv.verdict(wrap(data), wrap(rsp) if rsp is not None else None, len)
                expect(got, want, "%s %s / %s" % (
                    wrap.__name__, data.hex(), rsp.hex() if rsp is not None else None))
    return check


# The kind classify() reports for each verdict code.
KINDS = {adv.V_NONE: adv.KIND_NONE, adv.V_ANDROID: adv.KIND_ANDROID,
         adv.V_ANDROID_V1: adv.KIND_ANDROID_V1, adv.V_IOS_V1: adv.KIND_IOS_V1,
         adv.V_IBEACON: adv.KIND_IBEACON, adv.V_IOS: adv.KIND_IOS,
         adv.V_IOS_BACKGROUND: adv.KIND_IOS_BACKGROUND, adv.V_IOS_V1_READ: adv.KIND_IOS_V1,
         adv.V_IOS_V1_BACKGROUND: adv.KIND_IOS_V1_BACKGROUND}


def _case_kind_check(case):
    def check():
        data = memoryview(hexbytes(case["adv"]))
        rsp = memoryview(hexbytes(case["scan_rsp"])) if "scan_rsp" in case else None
        for walk in (adv.verdict, advwalk.verdict_portable):
            expect(KINDS[walk(data, rsp, len) & adv.VERDICT_CODE], case["kind"], "kind")
    return check


def checks(cases_dir):
    """[(case id, check)]: each check returns None or raises AssertionError."""
    cases = load(cases_dir, "adverts.json")["cases"]
    out = [("fast path: " + c["name"], _case_kind_check(c)) for c in cases]
    out.append(("fast path: %d random adverts of 1-10 structures" % ADVERTS, _same_verdicts_check()))
    return out


if __name__ == "__main__":
    report(checks(sys.argv[1]))
