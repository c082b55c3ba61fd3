"""Bluezone advert classification: the rules A-F of docs/protocol.md §7.2.

verdict() walks the AD structures of an ADV packet and an optional SCAN_RSP once, by index,
comparing bytes in place, and answers with one small int: the kind, and where its ID or name
is. classify() turns that into an Advert. Neither raises on any bytes, and a non-Bluezone
advert is rejected without building an object, so both are safe for memoryviews straight from
a BLE IRQ. On MicroPython verdict() is viper code (bzcore/advviper.py) and classify() native
code; CPython runs verdict_portable() (bzcore/advwalk.py, with the rest of what only the host
and the tests use: structures(), encode_v1_name(), is_v1_code(), KINDS), which gives the same
answers.

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

_IN_SCAN_RSP = const(0x10000)  # marks a position in the SCAN_RSP (packets are < 64 KiB)
_OFFSET = const(0xFFFF)


def _is_code_char(c):
    return 0x30 <= c <= 0x39 or 0x41 <= c <= 0x5A or 0x61 <= c <= 0x7A


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


# MicroPython runs the walk as viper code (bzcore/advviper.py) and never imports bzcore.advwalk;
# CPython has no viper. (bzcore.advwalk reads this module's codes above: imported here, not first.)
if sys.implementation.name == "micropython":
    from bzcore.advviper import verdict
else:
    from bzcore.advwalk import verdict_portable as verdict


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
