"""The board's GPIO as the outside world sees it: output levels with their timed history,
and the levels that buttons and beams force onto inputs. Pins are plain numbers here;
the firmware's board profile gives them roles."""

import time

IN, OUT, OPEN_DRAIN = 1, 3, 7
RELEASED = 2  # input level on the wire: nobody drives the pin


class PinBank:
    def __init__(self) -> None:
        self.modes: dict[int, int] = {}
        self.outputs: dict[int, int | None] = {}
        self.history: list[tuple[float, int, int | None]] = []  # (unix time, pin, level)
        self.driven: dict[int, int] = {}

    def set_mode(self, pin: int, mode: int) -> None:
        self.modes[pin] = mode
        if mode not in (OUT, OPEN_DRAIN) and self.outputs.get(pin) is not None:
            self._record(pin, None)

    def set_output(self, pin: int, level: int) -> None:
        if self.outputs.get(pin, -1) != level:
            self._record(pin, level)

    def release_outputs(self) -> None:
        """A reset: every pad returns to a floating input."""
        for pin, level in list(self.outputs.items()):
            if level is not None:
                self._record(pin, None)
        self.modes.clear()

    def _record(self, pin: int, level: int | None) -> None:
        self.outputs[pin] = level
        self.history.append((time.time(), pin, level))

    def drive(self, pin: int, level: int | None) -> bytes:
        """Force an input level (None releases it); returns the INPUTS payload to send."""
        if level is None:
            self.driven.pop(pin, None)
        else:
            self.driven[pin] = 1 if level else 0
        return bytes((pin, RELEASED if level is None else self.driven[pin]))

    def driven_payload(self) -> bytes:
        return b"".join(bytes((pin, level)) for pin, level in sorted(self.driven.items()))
