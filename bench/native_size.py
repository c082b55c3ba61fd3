"""Bytes of native and viper code in an .mpy file: what the ESP32 copies into IRAM when it
imports the module (docs/esp32-notes.md, note 37).

Reads the .mpy v6 layout that mpy-cross writes (MicroPython's docs/reference/mpyfiles.rst):
header, qstr and constant tables, then the tree of raw code, each piece tagged bytecode,
native or viper with its length.
"""

import sys
from pathlib import Path

_BYTECODE, _NATIVE, _VIPER = 2, 3, 4  # raw code kinds (py/emitglue.h: MP_CODE_*)
_FLAG_VIPER_RELOC, _FLAG_VIPER_RODATA, _FLAG_VIPER_BSS = 0x10, 0x20, 0x40  # py/runtime0.h
_OBJ_STR, _OBJ_BYTES, _OBJ_TUPLE = 5, 6, 10  # py/persistentcode.h: MP_PERSISTENT_OBJ_*
_OBJ_NO_DATA = (0, 1, 2, 3, 4)  # the function table, None, False, True, Ellipsis


class _Reader:
    def __init__(self, data: bytes):
        self.data = data
        self.at = 0

    def byte(self) -> int:
        self.at += 1
        return self.data[self.at - 1]

    def skip(self, n: int) -> None:
        self.at += n

    def uint(self) -> int:
        value = 0
        while True:
            b = self.byte()
            value = (value << 7) | (b & 0x7F)
            if not b & 0x80:
                return value


def _skip_obj(r: _Reader) -> None:
    kind = r.byte()
    if kind in _OBJ_NO_DATA:
        return
    if kind == _OBJ_TUPLE:
        for _ in range(r.uint()):
            _skip_obj(r)
        return
    r.skip(r.uint() + (1 if kind in (_OBJ_STR, _OBJ_BYTES) else 0))  # str and bytes end in \0


def _native_in_raw_code(r: _Reader) -> int:
    kind_len = r.uint()
    kind = (kind_len & 3) + _BYTECODE
    size = kind_len >> 3
    r.skip(size)
    if kind == _NATIVE:
        r.uint()  # the prelude's offset
    elif kind == _VIPER:
        flags = r.uint()
        rodata = r.uint() if flags & _FLAG_VIPER_RODATA else 0
        if flags & _FLAG_VIPER_BSS:
            r.uint()
        r.skip(rodata)
        if flags & _FLAG_VIPER_RELOC:
            while (op := r.byte()) != 0xFF:
                if op & 1:
                    r.uint()
                if (op >> 1) <= 5 and (op >> 1) & 1:
                    r.uint()
    total = size if kind in (_NATIVE, _VIPER) else 0
    if kind_len & 4:  # children
        for _ in range(r.uint()):
            total += _native_in_raw_code(r)
    return total


def native_bytes(mpy: Path) -> int:
    """Native and viper code bytes in one .mpy file (0 for bytecode only)."""
    r = _Reader(mpy.read_bytes())
    if r.data[:2] != b"M\x06":
        raise ValueError(f"{mpy}: not an .mpy v6 file")
    r.skip(4)
    n_qstr, n_obj = r.uint(), r.uint()
    for _ in range(n_qstr):
        length = r.uint()
        if not length & 1:  # a static qstr is its index alone
            r.skip((length >> 1) + 1)
    for _ in range(n_obj):
        _skip_obj(r)
    total = _native_in_raw_code(r)
    if r.at != len(r.data):
        raise ValueError(f"{mpy}: {len(r.data) - r.at} bytes left over: not the layout read here")
    return total


if __name__ == "__main__":
    for name in sys.argv[1:]:
        print(native_bytes(Path(name)), name)
