# Holding parts of the virtual board's heap (virtual board only; never deployed): the share of
# the shims at startup (_startup), and the RAM of the parts switched on (_idfheap).
import gc


def largest_free():
    """The largest bytearray the heap can give now (bisection)."""
    low, high = 0, gc.mem_free()
    while high - low > 32:
        mid = (low + high) // 2
        try:
            bytearray(mid)
            low = mid
        except MemoryError:
            high = mid
    gc.collect()
    return low


def hold(held, n, total, smallest):
    """Hold about `total` bytes in pieces, largest first (first fit puts each as low as it
    fits), in held[n:]: preallocated, since growing a list can fail on a full heap. Returns
    the next free slot."""
    piece = total
    while total >= smallest and piece >= smallest and n < len(held):
        try:
            held[n] = bytearray(piece)
            n += 1
            total -= piece + 16
        except MemoryError:
            piece //= 2
        piece = min(piece, total)
    return n
