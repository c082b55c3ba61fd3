# Holding parts of the virtual board's heap (virtual board only; never deployed): the share of
# the shims at startup (_startup), and the RAM of the parts switched on (_idfheap).
#
# A piece is a list, not a bytearray: list.clear() gives its items back at once, whereas a
# bytearray is freed only when nothing refers to it, and the collector scans the C stack
# conservatively, where a stale copy of its address can stay for as long as nothing overwrites
# it and keep its block taken (it did, in CI: the board found no heap at boot).
import gc
import struct

WORD = struct.calcsize("P")  # bytes of a pointer here: a list item


def piece_bytes(piece):
    """The heap a piece holds (its items)."""
    return len(piece) * WORD


def let_go(pieces):
    """Give the pieces' heap back now, whoever still refers to them."""
    for piece in pieces:
        if piece is not None:
            piece.clear()


def take_largest(at_least):
    """A piece as large as the heap can give now, if that is at least `at_least` bytes, else
    None. Tried from the free total down: a failed trial makes nothing."""
    step = max(32, gc.mem_free() // 512)
    size = gc.mem_free() - 64
    while size >= at_least:
        try:
            return [None] * (size // WORD)
        except MemoryError:
            size -= step
    return None


def hold(held, n, total, smallest):
    """Hold about `total` bytes in pieces, largest first (first fit puts each as low as it
    fits), in held[n:]: preallocated, since growing a list can fail on a full heap. Returns
    the next free slot."""
    piece = total
    while total >= smallest and piece >= smallest and n < len(held):
        try:
            held[n] = [None] * (piece // WORD)
            n += 1
            total -= piece + 16
        except MemoryError:
            piece //= 2
        piece = min(piece, total)
    return n
