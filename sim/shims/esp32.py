# ESP32 `esp32` for the virtual board (never deployed): NVS kept in the board's private
# directory. As on the port, only int32 and blob values exist, a missing key (or one of
# the other type) raises OSError(ENOENT), and nothing persists without commit().
# idf_heap_info() reports the modelled IDF heap (_idfheap).
import errno
import json
import vfs

import _flashfs
import _idfheap

_KEY_MAX = const(15)
_ESP_ERR_NVS_KEY_TOO_LONG = const(0x1109)
_ESP_ERR_NVS_INVALID_LENGTH = const(0x110C)
HEAP_DATA = const(4)  # MALLOC_CAP_8BIT, as ports/esp32/modesp32.c defines it
HEAP_EXEC = const(1)  # MALLOC_CAP_EXEC


def _flash():
    for fs, point in vfs.mount():
        if point == "/" and isinstance(fs, _flashfs.FlashFS):
            return fs
    raise OSError(errno.ENODEV)


def idf_heap_info(capabilities):
    """A list of (total, free, largest free block, least free seen), one per heap region."""
    return _idfheap.regions() if capabilities & HEAP_DATA else []


def _check_key(key):
    if len(key) > _KEY_MAX:
        raise OSError(-_ESP_ERR_NVS_KEY_TOO_LONG)


class NVS:
    def __init__(self, namespace):
        _check_key(namespace)
        self._file = "nvs-%s.json" % namespace
        try:
            with _flash().private_open(self._file, "r") as f:
                self._items = json.load(f)  # key -> ["i", int] or ["b", hex]
        except OSError:
            self._items = {}

    def _get(self, key, kind):
        item = self._items.get(key)
        if item is None or item[0] != kind:
            raise OSError(errno.ENOENT)
        return item[1]

    def set_i32(self, key, value):
        _check_key(key)
        if not -0x80000000 <= value <= 0x7FFFFFFF:
            raise OverflowError("overflow converting long int to machine word")
        self._items[key] = ["i", value]

    def get_i32(self, key):
        return self._get(key, "i")

    def set_blob(self, key, value):
        _check_key(key)
        self._items[key] = ["b", bytes(value).hex()]

    def get_blob(self, key, buffer):
        data = bytes.fromhex(self._get(key, "b"))
        if len(buffer) < len(data):
            raise OSError(-_ESP_ERR_NVS_INVALID_LENGTH)
        buffer[: len(data)] = data
        return len(data)

    def erase_key(self, key):
        if self._items.pop(key, None) is None:
            raise OSError(errno.ENOENT)

    def commit(self):
        flash = _flash()
        with flash.private_open(self._file + ".tmp", "w") as f:
            json.dump(self._items, f)
        flash.private_replace(self._file + ".tmp", self._file)
