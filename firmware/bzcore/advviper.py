"""bzcore.adv's walk and rules in viper, for the BLE IRQ (docs/esp32-notes.md, notes 35 and 37).

verdict() gives the same int as bzcore.advwalk.verdict_portable() for any bytes, at a fraction of
the cost; bzcore.adv imports it on MicroPython (CPython has no viper). Viper reads constants only
at compile time, so the verdict codes and reference bytes are restated here, and the walk reads
no global at all: one would cost a globals swap and an exception handler on every call
(docs/esp32-notes.md, note 41), so its caller hands it len. tests/fastpath_cases.py holds the two
walks to the same answers. ptr8 is a viper built-in the ESP32 stubs do not describe: hence the
pyright ignores.
"""

import micropython
from micropython import const

# As in bzcore.adv.
_VERDICT_AT_SHIFT = const(4)
_V_NONE = const(0)
_V_ANDROID = const(1)
_V_ANDROID_V1 = const(2)
_V_IOS_V1 = const(3)
_V_IBEACON = const(4)
_V_IOS = const(5)
_V_IOS_BACKGROUND = const(6)
_V_IOS_V1_READ = const(7)
_V_IOS_V1_BACKGROUND = const(8)
_IN_SCAN_RSP = const(0x10000)
_OFFSET = const(0xFFFF)

# Features seen in one packet (bzcore.advwalk's _F_ flags).
_F_UUID16 = const(0x01)
_F_MFR_ID = const(0x02)
_F_MFR_V1 = const(0x04)
_F_IOS = const(0x08)
_F_OVERFLOW = const(0x10)
_F_V1_ANDROID = const(0x20)
_F_V1_IOS = const(0x40)
_F_OVERFLOW_V1 = const(0x80)
_F_IBEACON = const(0x100)

# bzcore.advwalk's _UUID128_MIDDLE and _IBEACON_UUID.
_UUID128_MIDDLE = const(b"\x07\xad\xd1\x17\x2f\xa1\xc4\x4b\xf5\x73")
_IBEACON_UUID = const(b"\xc7\xaf\xef\x7b\x17\x88\x4f\x4a\xa8\x7d\x69\x1d\x53\xbf\x21\xc4")


@micropython.viper
def verdict(adv, scan_rsp, len) -> int:
    """bzcore.advwalk.verdict_portable(adv, scan_rsp), step by step: the verdict as one int."""
    pa = ptr8(adv)  # pyright: ignore[reportUndefinedVariable]
    pr = pa
    rsp_n = -1  # no SCAN_RSP (an empty one holds nothing either)
    if scan_rsp:  # viper has no "is None" on an object
        pr = ptr8(scan_rsp)  # pyright: ignore[reportUndefinedVariable]
        rsp_n = int(len(scan_rsp))
    p = pa
    n = int(len(adv))
    flags = 0
    id_at = 0
    v1_at = 0
    name_at = 0
    base = 0
    while True:
        before = flags  # a malformed packet takes back what it added
        i = 0
        while i < n:
            length = int(p[i])
            end = i + 1 + length
            if end > n:
                flags = before
                break
            if length < 3:  # nothing Bluezone sends is this short: the cheapest way past it
                if not length:
                    break
                i = end
                continue
            ad_type = int(p[i + 1])
            # 16-bit UUID lists (0x02, 0x03) first: the commonest type that can matter, and the
            # longest walks a 31-byte advert allows are lists of one (bench/classify_cost.py)
            if uint(ad_type - 2) <= uint(1):  # pyright: ignore[reportUndefinedVariable]
                j = i + 3  # each UUID's second byte; length >= 3: there is one at least
                while True:
                    if int(p[j]) == 0x4E and int(p[j - 1]) == 0x56:
                        flags |= _F_UUID16
                        break
                    j += 2
                    if j >= end:
                        break
            elif ad_type == 0xFF:
                if length >= 9:
                    company = int(p[i + 2])
                    if company == 0xB5 and int(p[i + 3]) == 0x22:
                        if length == 15 and not flags & _F_MFR_ID:
                            flags |= _F_MFR_ID
                            id_at = base + i + 4
                        elif length == 9 and not flags & _F_MFR_V1:
                            flags |= _F_MFR_V1
                            v1_at = base + i + 4
                    elif company == 0x4C and length >= 20 and int(p[i + 3]) == 0:
                        q = i + 4  # Apple's data: _apple_flags()
                        if int(p[q]) == 0x01 and length == 20:
                            if int(p[q + 1]) & 0x08:
                                flags |= _F_OVERFLOW
                            if int(p[q + 5]) & 0x01:
                                flags |= _F_OVERFLOW_V1
                        elif (int(p[q]) == 0x02 and length == 26 and int(p[q + 1]) == 0x15
                              and int(p[q + 18]) == 0 and int(p[q + 19]) == 0x14
                              and int(p[q + 20]) == 0 and int(p[q + 21]) == 0x14):
                            ref = ptr8(_IBEACON_UUID)  # pyright: ignore[reportUndefinedVariable]
                            k = 0
                            while k < 16 and p[q + 2 + k] == ref[k]:
                                k += 1
                            if k == 16:
                                flags |= _F_IBEACON
            elif ad_type >= 0x08:
                if ad_type <= 0x09 and length == 11 and not name_at:
                    name_at = base + i + 1  # + 1: zero means no name
            elif ad_type >= 0x06:  # 0x00, 0x01 (Flags), 0x04 and 0x05 (32-bit UUIDs) skip
                j = i + 2
                while j + 16 <= end:  # _uuid128_flag()
                    new = 0
                    old = 0
                    if int(p[j]) == 0x67 and int(p[j + 1]) == 0xA6:
                        new = _F_IOS
                        old = _F_V1_IOS
                    elif int(p[j]) == 0x89 and int(p[j + 1]) == 0xA8:
                        old = _F_V1_ANDROID
                    found = 0
                    if not old:
                        pass  # not one of Bluezone's first two bytes
                    elif (int(p[j + 12]) == 0x56 and int(p[j + 13]) == 0x4E
                            and int(p[j + 14]) == 0 and int(p[j + 15]) == 0):
                        found = new
                    elif (int(p[j + 12]) == 0xF4 and int(p[j + 13]) == 0x39
                          and int(p[j + 14]) == 0x0A and int(p[j + 15]) == 0xE2):
                        found = old
                    if found:
                        ref = ptr8(_UUID128_MIDDLE)  # pyright: ignore[reportUndefinedVariable]
                        k = 0
                        while k < 10 and p[j + 2 + k] == ref[k]:
                            k += 1
                        if k == 10:
                            flags |= found
                    j += 16
            i = end
        if rsp_n < 0 or base:
            break
        base = _IN_SCAN_RSP
        p = pr
        n = rsp_n

    if not flags:
        return _V_NONE
    if flags & _F_UUID16 and flags & _F_MFR_ID:
        return _V_ANDROID | id_at << _VERDICT_AT_SHIFT
    if flags & _F_IOS:
        return _V_IOS
    if flags & _F_OVERFLOW:
        return _V_IOS_BACKGROUND
    if flags & _F_V1_ANDROID and flags & _F_MFR_V1:
        p = pa
        if v1_at >= _IN_SCAN_RSP:
            p = pr
        k = v1_at & _OFFSET
        last = k + 6
        while k < last:  # _is_code_char()
            c = int(p[k])
            if not (0x30 <= c <= 0x39 or 0x41 <= c <= 0x5A or 0x61 <= c <= 0x7A):
                break
            k += 1
        if k == last:
            return _V_ANDROID_V1 | v1_at << _VERDICT_AT_SHIFT
    if flags & _F_V1_IOS:
        if name_at:
            return _V_IOS_V1 | (name_at - 1) << _VERDICT_AT_SHIFT
        return _V_IOS_V1_READ
    if flags & _F_OVERFLOW_V1:
        return _V_IOS_V1_BACKGROUND
    if flags & _F_IBEACON:
        return _V_IBEACON
    return _V_NONE

