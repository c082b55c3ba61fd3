"""The board's serial input as an ESP32 receives it: bytes arrive at the line's baud rate
(8N1: 10 bits a byte) into MicroPython's stdin ring (260 bytes), and a byte that arrives while
the ring is full is lost (ports/esp32/mphalport.c). The host side (OS, USB-serial chip)
buffers what is still on its way and loses nothing."""

STDIN_RING = 259  # stdin_ringbuf_array[260]: a ring buffer holds one byte less than its size
DEFAULT_BAUD = 115200
_GRAIN = 0.005  # bytes are handed over in bursts this far apart, not one by one


class SerialLine:
    def __init__(self, baud: int = DEFAULT_BAUD):
        self.bytes_per_second = baud / 10
        self._on_the_way = bytearray()
        self._head_since = 0.0  # when the first byte on the way started arriving
        self.lost = 0

    def send(self, data: bytes, now: float) -> None:
        if not self._on_the_way:
            self._head_since = now
        self._on_the_way += data

    def arrived(self, now: float, room: int) -> bytes:
        """The bytes that reached the board by now; those beyond room (free ring space) are lost."""
        n = min(len(self._on_the_way), int((now - self._head_since) * self.bytes_per_second))
        if n <= 0:
            return b""
        data = bytes(self._on_the_way[:n])
        del self._on_the_way[:n]
        self._head_since += n / self.bytes_per_second
        kept = data[: max(0, room)]
        self.lost += len(data) - len(kept)
        return kept

    def next_arrival(self, now: float) -> float | None:
        if not self._on_the_way:
            return None
        return max(now + _GRAIN, self._head_since + 1 / self.bytes_per_second)
