"""Bluezone advert classification: the rules A-F of docs/protocol.md §7.2.

verdict() walks the AD structures of an ADV packet and an optional SCAN_RSP once, by index,
comparing bytes in place, and answers with one small int: the kind, and where its ID or name
is. classify() turns that into an Advert. Neither raises on any bytes, and a non-Bluezone
advert is rejected without building an object, so both are safe for memoryviews straight from
a BLE IRQ. On MicroPython verdict() is viper code (bzcore/advviper.py) and classify() native
code; CPython runs verdict_portable(), which gives the same answers.

A packet (ADV or SCAN_RSP) whose structure runs past its end is malformed and contributes
nothing, as Android's ScanRecord parser does; a zero-length structure ends a packet early
(Core spec: the rest is padding).
"""

import sys
from collections import namedtuple

try:
    import micropython  # pyright: ignore[reportAssignmentType]
    from micropython import const  # pyright: ignore[reportAssignmentType]
except ImportError:  # CPython: const() and the native decorator are compile-time hints on MicroPython

    def const(expr):
        return expr

    class micropython:  # noqa: N801 - stands in for the module
        @staticmethod
        def native(func):
            return func


Advert = namedtuple("Advert", ("kind", "platform", "id", "needs_gatt"))

KIND_ANDROID = "android"
KIND_IOS = "ios"
KIND_IOS_BACKGROUND = "ios-background"
KIND_ANDROID_V1 = "android-v1"
KIND_IOS_V1 = "ios-v1"
KIND_IOS_V1_BACKGROUND = "ios-v1-background"
KIND_IBEACON = "ibeacon"
KIND_NONE = "none"
KINDS = (KIND_ANDROID, KIND_IOS, KIND_IOS_BACKGROUND, KIND_ANDROID_V1, KIND_IOS_V1,
         KIND_IOS_V1_BACKGROUND, KIND_IBEACON, KIND_NONE)

PLATFORM_ANDROID = "android"
_PLATFORM_IOS = const("ios")

NONE = Advert(KIND_NONE, None, None, False)
_IOS_READ = Advert(KIND_IOS, _PLATFORM_IOS, None, True)
_IOS_BACKGROUND_READ = Advert(KIND_IOS_BACKGROUND, _PLATFORM_IOS, None, True)
_IOS_V1_READ = Advert(KIND_IOS_V1, _PLATFORM_IOS, None, True)
_IOS_V1_BACKGROUND_READ = Advert(KIND_IOS_V1_BACKGROUND, _PLATFORM_IOS, None, True)
_IBEACON = Advert(KIND_IBEACON, PLATFORM_ANDROID, None, False)

# A verdict, the walk's answer in one int (a small int on every port: nothing allocated):
# bits 0-3 one of these codes, then the position classify() reads the ID or name at.
# Codes 1-7 are also the kinds the gate's radio ring keeps (gate/radio.py).
VERDICT_CODE = const(0x0F)
VERDICT_AT_SHIFT = const(4)
V_NONE = const(0)
V_ANDROID = const(1)  # at: the 12-byte ID
V_ANDROID_V1 = const(2)  # at: the 6-character code, already checked
V_IOS_V1 = const(3)  # at: the name's AD structure (decoded by classify)
V_IBEACON = const(4)  # from here on nothing to read in the packet
V_IOS = const(5)
V_IOS_BACKGROUND = const(6)
V_IOS_V1_READ = const(7)  # a v1 iPhone without a name: read it over GATT
V_IOS_V1_BACKGROUND = const(8)
_ID_LESS = (_IBEACON, _IOS_READ, _IOS_BACKGROUND_READ, _IOS_V1_READ,
            _IOS_V1_BACKGROUND_READ)  # classify()'s answer for V_IBEACON and the codes after it

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
_IN_SCAN_RSP = const(0x10000)  # marks a position in the SCAN_RSP (packets are < 64 KiB)
_OFFSET = const(0xFFFF)
_AD_ROLE = bytearray(256)
_AD_ROLE[0x02] = _AD_ROLE[0x03] = _ROLE_UUID16
_AD_ROLE[0x06] = _AD_ROLE[0x07] = _ROLE_UUID128
_AD_ROLE[0x08] = _AD_ROLE[0x09] = _ROLE_NAME
_AD_ROLE[0xFF] = _ROLE_MFR


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


def _is_code_char(c):
    return 0x30 <= c <= 0x39 or 0x41 <= c <= 0x5A or 0x61 <= c <= 0x7A


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


def _v1(buf, i, code):
    """classify()'s answer for a v1 verdict: the code or name at buf[i]. (A frame small enough
    for the C stack, docs/esp32-notes.md, note 39: bytecode on MicroPython too.)"""
    if code == V_ANDROID_V1:
        return Advert(KIND_ANDROID_V1, PLATFORM_ANDROID, bytes(buf[i:i + 6]).decode(), False)
    name = decode_v1_name(bytes(buf[i + 2:i + 1 + buf[i]]))  # V_IOS_V1: i is the name's AD
    if name is not None:
        return Advert(KIND_IOS_V1, _PLATFORM_IOS, name, False)
    return _IOS_V1_READ


def _packet(adv, scan_rsp, at):
    """The packet holding a position recorded by the walk; its offset there is at & _OFFSET."""
    if at >= _IN_SCAN_RSP:
        assert scan_rsp is not None  # positions there are only recorded when it was given
        return scan_rsp
    return adv


def verdict_portable(adv, scan_rsp, len=len):
    """What classify() needs from an advert, as one int: see VERDICT_CODE. The portable walk;
    on MicroPython verdict() is its viper twin, which gives the same int. len is the builtin:
    the viper twin is handed it (a global read in viper code costs every call, note 41)."""
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


def decode_v1_name(name):
    """The 6-character code hidden in a v1 iOS 10-character name (docs/protocol.md §6), or None.

    name is bytes (as read from the air or over GATT); anything that does not decode is None.
    """
    if len(name) != 10:
        return None
    s = name[0] - 0x30
    e = name[9] - 0x30
    if s > e:
        s, e = e, s
    if s < 1 or e > 5 or s == e:
        return None
    for c in name:
        if not _is_code_char(c):
            return None
    b = name[1:9]
    c1 = b[s]
    c2 = b[e + 1]
    code = b[:s] + b[s + 1:e + 1] + b[e + 2:]
    if code[s - 1] != c2 or code[e - 1] != c1:
        return None
    return code.decode()


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



# MicroPython runs the walk as viper code (bzcore/advviper.py); CPython has no viper.
if sys.implementation.name == "micropython":
    from bzcore.advviper import verdict
else:
    verdict = verdict_portable


def _bluezone(adv, scan_rsp, found):
    """classify()'s answer for a verdict that is not V_NONE (bytecode with a frame small enough
    for the C stack, docs/esp32-notes.md, note 39)."""
    code = found & VERDICT_CODE
    if code >= V_IBEACON:
        return _ID_LESS[code - V_IBEACON]
    at = found >> VERDICT_AT_SHIFT
    buf = _packet(adv, scan_rsp, at)
    if code == V_ANDROID:
        return _android(buf, at & _OFFSET)
    return _v1(buf, at & _OFFSET, code)


def _android(buf, i):
    return Advert(KIND_ANDROID, PLATFORM_ANDROID, bytes(buf[i:i + 12]), False)


# The defaults after scan_rsp bind what the call needs: native code that reads no global skips
# the globals swap and the exception handler that guards it (docs/esp32-notes.md, note 41).
@micropython.native  # its frame on the C stack (docs/esp32-notes.md, note 39)
def classify(adv, scan_rsp=None, _verdict=verdict, _len=len, _none=NONE, _bluezone=_bluezone):
    """Classify one advert (ADV bytes plus optional SCAN_RSP bytes) by the rules A-F of
    docs/protocol.md §7.2.

    Returns Advert(kind, platform, id, needs_gatt): id is the 12-byte ID (bytes) for Android,
    the 6-character code (str) for v1, else None. Never raises for bytes-like input. A
    non-Bluezone advert allocates nothing (a BLE IRQ handler may call it on memoryviews); the
    gate's radio reads verdict() itself.
    """
    found = _verdict(adv, scan_rsp, _len)
    if found:
        return _bluezone(adv, scan_rsp, found)
    return _none
