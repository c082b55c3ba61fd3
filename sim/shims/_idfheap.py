# The IDF heap of the virtual board (virtual board only; never deployed): what BLE, the Wi-Fi
# station and sockets take while on, on the module the board models (boardmemory: the figures,
# their sources and the model). esp32.idf_heap_info() reports it.
import errno
import os

import boardmemory
from _heaphold import WORD, hold, let_go, piece_bytes  # WORD host bytes per 4 ESP32 bytes

_MODULE = os.getenv("BZSIM_MODULE") or boardmemory.DEFAULT_MODULE
# a ROMFS partition: bzgate's image, with its smaller Wi-Fi buffers
_IMAGE = boardmemory.BZGATE_IMAGE if os.getenv("BZSIM_ROMFS") else boardmemory.MICROPYTHON_IMAGE
_PIECE_MIN = const(1024)  # ESP32 bytes: the IDF's buffers are of about this size and larger
_PIECES = const(16)
_BALLAST = boardmemory.ballast_in_python_heap(_MODULE)
_SPARE = boardmemory.IDF_SPARE if _BALLAST else boardmemory.INTERNAL_POOL
_spare = _SPARE
_min_spare = _SPARE


def take(part):
    """Switch a part on ("ble", "wifi", "socket"): its RAM is held until release(token).
    OSError(ENOMEM) when neither the Python heap nor the IDF's spare has it."""
    global _spare, _min_spare
    need = boardmemory.part_bytes(part, _IMAGE)
    pieces = [None] * _PIECES
    if _BALLAST:
        hold(pieces, 0, need * WORD // 4, _PIECE_MIN * WORD // 4)
    held = sum(piece_bytes(p) for p in pieces if p is not None) * 4 // WORD
    short = need - held if need - held >= _PIECE_MIN else 0  # the pieces' headers aside
    if short > _spare:
        raise OSError(errno.ENOMEM)
    _spare -= short
    _min_spare = min(_min_spare, _spare)
    return [pieces, short]


def release(token):
    """Switch the part off again (a token from take(), or None: nothing was on)."""
    global _spare
    if token is not None:
        _spare += token[1]
        let_go(token[0] or ())
        token[:] = [None, 0]


def regions():
    """(total, free, largest free, least free seen) per region, as esp32.idf_heap_info gives
    them: the region the Python heap took (nothing free in it), then the IDF's own."""
    python = int(os.getenv("BZSIM_HEAP_BYTES")) * 4 // WORD
    return [(python, 0, 0, 0), (_SPARE, _spare, _spare, _min_spare)]
