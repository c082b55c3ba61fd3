# The baseline classify() is measured against: the obvious way, a full AD walk that builds a
# list of structures (bzcore.advwalk.structures), then the rules of docs/protocol.md §7.2 over that
# list with slices.
# Runs on MicroPython and CPython; tests/test_bench_baseline.py keeps it agreeing with classify.
from bzcore import adv

try:
    from bzcore import advwalk as walk  # structures() and is_v1_code()
except ImportError:  # a firmware tree from before bzcore.advwalk: bench/classify_cost.py runs one
    walk = adv

IOS_UUID = bytes.fromhex("67A607ADD1172FA1C44BF573564E0000")
V1_ANDROID_UUID = bytes.fromhex("89A807ADD1172FA1C44BF573F4390AE2")
V1_IOS_UUID = bytes.fromhex("67A607ADD1172FA1C44BF573F4390AE2")
IBEACON = bytes.fromhex("0215C7AFEF7B17884F4AA87D691D53BF21C400140014")


def _packet_structures(data):
    found = walk.structures(data or b"")
    if found and found[-1][0] is None:
        return []  # a malformed packet counts for nothing
    return found


def classify(data, scan_rsp=None):
    ads = _packet_structures(data) + _packet_structures(scan_rsp)
    uuid16 = []
    uuid128 = []
    mfr = {}
    name = None
    for ad_type, body in ads:
        if ad_type in (2, 3):
            uuid16 += [body[k:k + 2] for k in range(0, len(body) - 1, 2)]
        elif ad_type in (6, 7):
            uuid128 += [body[k:k + 16] for k in range(0, len(body) - 15, 16)]
        elif ad_type == 0xFF and len(body) >= 2:
            mfr.setdefault(body[:2], []).append(body[2:])
        elif ad_type in (8, 9) and len(body) == 10 and name is None:  # a v1 name's length
            name = body
    bluezone = mfr.get(b"\xb5\x22", [])
    apple = mfr.get(b"\x4c\x00", [])
    ident = [m for m in bluezone if len(m) == 12]
    if b"\x56\x4e" in uuid16 and ident:
        return adv.Advert("android", "android", ident[0], False)
    if IOS_UUID in uuid128:
        return adv.Advert("ios", "ios", None, True)
    overflow = [m for m in apple if len(m) == 17 and m[0] == 1]
    if [m for m in overflow if m[1] & 0x08]:
        return adv.Advert("ios-background", "ios", None, True)
    codes = [m.decode() for m in bluezone if len(m) == 6 and walk.is_v1_code(m.decode())]
    if V1_ANDROID_UUID in uuid128 and codes:
        return adv.Advert("android-v1", "android", codes[0], False)
    if V1_IOS_UUID in uuid128:
        code = adv.decode_v1_name(name) if name is not None else None
        return adv.Advert("ios-v1", "ios", code, code is None)
    if [m for m in overflow if m[5] & 0x01]:
        return adv.Advert("ios-v1-background", "ios", None, True)
    if [m for m in apple if len(m) == 23 and m[:22] == IBEACON]:
        return adv.Advert("ibeacon", "android", None, False)
    return adv.NONE
