"""What the interpreter prints, turned into what an ESP32 prints on its serial port.

- the unix port's banner becomes the ESP32 port's banner;
- after a soft reboot into the raw REPL the bridge types Ctrl-A at the new interpreter's
  friendly prompt; the banner and prompt that precede "raw REPL" are swallowed, so the
  host sees what mpremote expects: "MPY: soft reboot", boot.py's output, "raw REPL...";
- a lone "\\n" becomes "\\r\\n", as the port's stdout does;
- the REPL mode (friendly or raw) is tracked, so a soft reboot can return to it.
"""

import re
import time

ESP32_BANNER = (
    b"MicroPython v1.28.0 on 2026-04-06; Generic ESP32 module with ESP32\r\n"
    b'Type "help()" for more information.\r\n'
)
RAW_ENTERED = b"raw REPL; CTRL-B to exit\r\n"
_BANNER_START = b"MicroPython "
_UNIX_BANNER = re.compile(rb'MicroPython [^\r\n]*; linux [^\r\n]*\r\nType "help\(\)" for more information\.\r\n')
_PROMPT_TO_RAW = b">>> \r\n" + RAW_ENTERED
_HOLD_LIMIT = 400  # a held-back banner candidate longer than this is not a banner
HOLD_SECONDS = 0.1  # held-back output goes out after this even when incomplete


def _partial_tail(data: bytes, marker: bytes) -> int:
    """Length of the longest end of data that starts marker."""
    for n in range(min(len(marker) - 1, len(data)), 0, -1):
        if marker.startswith(data[-n:]):
            return n
    return 0


class ConsoleFilter:
    def __init__(self) -> None:
        self.raw_repl = False
        self.swallow_to_raw = False
        self._held = b""
        self._held_since = 0.0
        self._last = b""
        self._tail = b""  # end of the previous output, to spot a marker split across reads

    def feed(self, data: bytes) -> bytes:
        self._held += data
        out = self._process(force=False)
        if self._held and not self._held_since:
            self._held_since = time.monotonic()
        return self._cook(out)

    def flush_due(self) -> bytes:
        """Held-back output whose time is up (call periodically)."""
        if self._held and time.monotonic() - self._held_since >= HOLD_SECONDS:
            return self.flush()
        return b""

    def flush(self) -> bytes:
        """Everything held back, now (the interpreter is going away)."""
        return self._cook(self._process(force=True))

    def reset(self) -> None:
        """A new interpreter: nothing it prints continues the old one's output."""
        self._held = b""
        self._held_since = 0.0
        self._tail = b""
        self.swallow_to_raw = False

    def _process(self, force: bool) -> bytes:
        out = []
        data = self._held
        while data:
            start = data.find(_BANNER_START)
            if start < 0:
                keep = 0 if force else _partial_tail(data, _BANNER_START)
                out.append(data[: len(data) - keep])
                data = data[len(data) - keep :]
                break
            out.append(data[:start])
            data = data[start:]
            match = _UNIX_BANNER.match(data)
            if match is None:
                if force or len(data) > _HOLD_LIMIT or b"\n" in data[data.find(b"\n") + 1 :]:
                    out.append(data[:1])
                    data = data[1:]
                    continue
                break
            rest = data[match.end() :]
            if self.swallow_to_raw:
                if rest.startswith(_PROMPT_TO_RAW):
                    out.append(RAW_ENTERED)
                    data = rest[len(_PROMPT_TO_RAW) :]
                    self.swallow_to_raw = False
                    continue
                if _PROMPT_TO_RAW.startswith(rest) and not force:
                    break
                self.swallow_to_raw = False
            out.append(ESP32_BANNER)
            data = rest
        self._held = data
        if not data:
            self._held_since = 0.0
        text = b"".join(out)
        self._track_mode(text)
        return text

    def _track_mode(self, text: bytes) -> None:
        """Raw REPL after "raw REPL; CTRL-B to exit", friendly after a banner."""
        window = self._tail + text
        raw_at, banner_at = window.rfind(RAW_ENTERED), window.rfind(ESP32_BANNER)
        if raw_at >= 0 or banner_at >= 0:
            self.raw_repl = raw_at > banner_at
        self._tail = window[-(len(RAW_ENTERED) - 1) :]

    def _cook(self, data: bytes) -> bytes:
        if not data:
            return data
        cooked = re.sub(rb"(?<!\r)\n", b"\r\n", data)
        if self._last == b"\r" and data.startswith(b"\n"):
            cooked = cooked[1:]  # the "\r" went out with the previous chunk
        self._last = data[-1:]
        return cooked


class ConsoleLog:
    """Everything the board printed, readable by offset (older output is dropped past a cap)."""

    def __init__(self, cap: int = 4 << 20):
        self._data = bytearray()
        self._dropped = 0
        self._cap = cap

    def append(self, data: bytes) -> None:
        self._data += data
        excess = len(self._data) - self._cap
        if excess > 0:
            del self._data[:excess]
            self._dropped += excess

    @property
    def end(self) -> int:
        return self._dropped + len(self._data)

    def since(self, offset: int) -> bytes:
        return bytes(self._data[max(0, offset - self._dropped) :])
