"""The host's and the tests' part of bzcore.adv: the portable walk, AD structures, v1 names.

verdict_portable() is the walk of bzcore.adv in plain Python: CPython's verdict() (bzcore.adv
imports it there) and, on MicroPython, the reference its viper twin (bzcore/advviper.py) is held
to (tests/fastpath_cases.py). structures() lists a packet's AD structures for display and tools,
encode_v1_name() and is_v1_code() make and check v1 codes, KINDS lists classify()'s kinds.

None of it runs on the board, where every function costs heap (its object, its raw code and a
dict entry) and every name its .mpy carries is interned: the gate imports bzcore.adv alone.
Portable all the same (MicroPython and CPython), as the rest of bzcore.
"""

from bzcore.ids import const

# Features seen in one packet (bit flags, merged only when the packet is well formed).
_F_UUID16 = const(0x01)  # 16-bit UUID list holds 0x4E56
_F_MFR_ID = const(0x02)  # manufacturer 0x22B5 with 12 bytes
_F_MFR_V1 = const(0x04)  # manufacturer 0x22B5 with a 6-character v1 code
_F_IOS = const(0x08)  # 128-bit iOS service UUID 00004E56-73F5-...-A667
_F_OVERFLOW = const(0x10)  # Apple overflow area with the Bluezone bit
_F_V1_ANDROID = const(0x20)  # 128-bit v1 Android UUID E20A39F4-...-A889
_F_V1_IOS = const(0x40)  # 128-bit v1 iOS UUID E20A39F4-...-A667
_F_OVERFLOW_V1 = const(0x80)  # Apple overflow area with the v1 iOS bit
_F_IBEACON = const(0x100)  # Android 3.0.7 iBeacon

# Bytes 2..11 of all four Bluezone 128-bit UUIDs (on-air, little-endian order).
_UUID128_MIDDLE = b"\x07\xad\xd1\x17\x2f\xa1\xc4\x4b\xf5\x73"
# iBeacon proximity UUID C7AFEF7B-1788-4F4A-A87D-691D53BF21C4 (big-endian on air).
_IBEACON_UUID = b"\xc7\xaf\xef\x7b\x17\x88\x4f\x4a\xa8\x7d\x69\x1d\x53\xbf\x21\xc4"


# What an AD type can mean for Bluezone; a lookup keeps irrelevant types to one subscript.
_ROLE_UUID16 = const(1)
_ROLE_UUID128 = const(2)
_ROLE_NAME = const(3)
_ROLE_MFR = const(4)
_AD_ROLE = bytearray(256)
_AD_ROLE[0x02] = _AD_ROLE[0x03] = _ROLE_UUID16
_AD_ROLE[0x06] = _AD_ROLE[0x07] = _ROLE_UUID128
_AD_ROLE[0x08] = _AD_ROLE[0x09] = _ROLE_NAME
_AD_ROLE[0xFF] = _ROLE_MFR
# As in bzcore.adv (constants there: on MicroPython no module attributes).
_IN_SCAN_RSP = const(0x10000)  # marks a position in the SCAN_RSP
_OFFSET = const(0xFFFF)


def _same(buf, off, ref):
    """True when buf[off:off+len(ref)] == ref, compared without slicing."""
    k = 0
    n = len(ref)
    while k < n:
        if buf[off + k] != ref[k]:
            return False
        k += 1
    return True


def _uuid128_flag(buf, j):
    """Which Bluezone 128-bit UUID, if any, starts at buf[j] (16 bytes are there)."""
    b0 = buf[j]
    b1 = buf[j + 1]
    if b0 == 0x67 and b1 == 0xA6:
        new, old = _F_IOS, _F_V1_IOS
    elif b0 == 0x89 and b1 == 0xA8:
        new, old = 0, _F_V1_ANDROID
    else:
        return 0
    if buf[j + 12] == 0x56 and buf[j + 13] == 0x4E and buf[j + 14] == 0 and buf[j + 15] == 0:
        found = new
    elif buf[j + 12] == 0xF4 and buf[j + 13] == 0x39 and buf[j + 14] == 0x0A and buf[j + 15] == 0xE2:
        found = old
    else:
        return 0
    if found and _same(buf, j + 2, _UUID128_MIDDLE):
        return found
    return 0


def _apple_flags(buf, p, size):
    """Flags for Apple manufacturer data of `size` bytes at buf[p] (after the company ID)."""
    kind = buf[p]
    if kind == 0x01 and size == 17:  # overflow area: type, then a 16-byte bitmap
        return (_F_OVERFLOW if buf[p + 1] & 0x08 else 0) | (_F_OVERFLOW_V1 if buf[p + 5] & 0x01 else 0)
    if (kind == 0x02 and size == 23 and buf[p + 1] == 0x15 and _same(buf, p + 2, _IBEACON_UUID)
            and buf[p + 18] == 0 and buf[p + 19] == 0x14 and buf[p + 20] == 0 and buf[p + 21] == 0x14):
        return _F_IBEACON
    return 0


def is_v1_code(code):
    """True for a v1 user code: 6 characters of [0-9A-Za-z]."""
    if len(code) != 6:
        return False
    for ch in code:
        if not _is_code_char(ord(ch)):
            return False
    return True


def _v1_code_at(buf, off):
    """True when the 6 bytes at buf[off] are a v1 code."""
    k = 0
    while k < 6:
        if not _is_code_char(buf[off + k]):
            return False
        k += 1
    return True


def verdict_portable(adv, scan_rsp, len=len):
    """What classify() needs from an advert, as one int: see bzcore.adv.VERDICT_CODE. The
    portable walk; on MicroPython verdict() is its viper twin, which gives the same int. len is
    the builtin: the viper twin is handed it (a global read in viper code costs every call,
    note 41)."""
    # The AD walk of structures() inlined: no list, no slices, nothing allocated on the way.
    roles = _AD_ROLE  # a local: one global lookup per advert, not per AD structure
    flags = 0
    # Where a feature's bytes start: offset in the ADV, or _IN_SCAN_RSP + offset in the SCAN_RSP.
    id_at = v1_at = name_at = 0
    base = 0
    buf = adv
    while True:
        before = flags  # a malformed packet takes back what it added
        n = len(buf)
        i = 0
        while i < n:
            length = buf[i]
            if length == 0:
                break
            end = i + 1 + length
            if end > n:
                flags = before
                break
            role = roles[buf[i + 1]]
            if role == _ROLE_MFR:
                if length >= 9:  # shorter ones carry nothing Bluezone sends
                    company = buf[i + 2]
                    if company == 0xB5 and buf[i + 3] == 0x22:
                        if length == 15 and not flags & _F_MFR_ID:
                            flags |= _F_MFR_ID
                            id_at = base + i + 4
                        elif length == 9 and not flags & _F_MFR_V1:
                            flags |= _F_MFR_V1
                            v1_at = base + i + 4
                    elif company == 0x4C and length >= 20 and buf[i + 3] == 0x00:
                        flags |= _apple_flags(buf, i + 4, length - 3)
            elif role:
                if role == _ROLE_UUID16:
                    j = i + 2
                    while j + 1 < end:
                        if buf[j] == 0x56 and buf[j + 1] == 0x4E:
                            flags |= _F_UUID16
                            break
                        j += 2
                elif role == _ROLE_UUID128:
                    j = i + 2
                    while j + 16 <= end:
                        flags |= _uuid128_flag(buf, j)
                        j += 16
                elif length == 11 and not name_at:  # 10 characters: the length of a v1 name
                    name_at = base + i + 1  # + 1: zero means no name
            i = end
        if scan_rsp is None or base:
            break
        base = _IN_SCAN_RSP
        buf = scan_rsp

    if not flags:
        return V_NONE
    if flags & _F_UUID16 and flags & _F_MFR_ID:
        return V_ANDROID | id_at << VERDICT_AT_SHIFT
    if flags & _F_IOS:
        return V_IOS
    if flags & _F_OVERFLOW:
        return V_IOS_BACKGROUND
    if flags & _F_V1_ANDROID and flags & _F_MFR_V1 and _v1_code_at(
            _packet(adv, scan_rsp, v1_at), v1_at & _OFFSET):
        return V_ANDROID_V1 | v1_at << VERDICT_AT_SHIFT
    if flags & _F_V1_IOS:
        if name_at:
            return V_IOS_V1 | (name_at - 1) << VERDICT_AT_SHIFT
        return V_IOS_V1_READ
    if flags & _F_OVERFLOW_V1:
        return V_IOS_V1_BACKGROUND
    if flags & _F_IBEACON:
        return V_IBEACON
    return V_NONE


def encode_v1_name(code, d1, d2):
    """The 10-character v1 iOS name for a 6-character code and two distinct digits 1..5."""
    if not is_v1_code(code) or d1 == d2 or not (1 <= d1 <= 5 and 1 <= d2 <= 5):
        raise ValueError("need a 6-character [0-9A-Za-z] code and two distinct digits 1..5")
    p = min(d1, d2)
    q = max(d1, d2)
    body = code[0:p] + code[q - 1] + code[p:q] + code[p - 1] + code[q:6]
    return str(d1) + body + str(d2)


def structures(data):
    """The AD structures of one packet as (type, data bytes) pairs, for display and tools.

    Stops at a zero-length structure; a structure running past the end is returned as
    (None, rest) so a caller can show where the packet breaks.
    """
    out = []
    i = 0
    n = len(data)
    while i < n:
        length = data[i]
        if length == 0:
            break
        end = i + 1 + length
        if end > n:
            out.append((None, bytes(data[i:])))
            break
        out.append((data[i + 1], bytes(data[i + 2:end])))
        i = end
    return out


# Imported last: on CPython bzcore.adv imports this module for its verdict(), so whichever of
# the two comes first, verdict_portable exists when bzcore.adv asks for it.
from bzcore.adv import (  # noqa: E402
    KIND_ANDROID, KIND_ANDROID_V1, KIND_IBEACON, KIND_IOS, KIND_IOS_BACKGROUND, KIND_IOS_V1,
    KIND_IOS_V1_BACKGROUND, KIND_NONE, V_ANDROID, V_ANDROID_V1, V_IBEACON, V_IOS,
    V_IOS_BACKGROUND, V_IOS_V1, V_IOS_V1_BACKGROUND, V_IOS_V1_READ, V_NONE, VERDICT_AT_SHIFT,
    _is_code_char, _packet)

KINDS = (KIND_ANDROID, KIND_IOS, KIND_IOS_BACKGROUND, KIND_ANDROID_V1, KIND_IOS_V1,
         KIND_IOS_V1_BACKGROUND, KIND_IBEACON, KIND_NONE)
