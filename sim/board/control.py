"""Control of a running virtual board, for tests, the demo and `bzgate sim ...`.

The board listens on 127.0.0.1 (address in DIR/.bzsim/board.json); a request is one JSON
line {"op": ..., ...} and gets one JSON line back ({"error": text} when it failed).

    board = BoardControl.for_flash("flash/")   # or BoardControl("127.0.0.1:PORT")
    board.press(13, seconds=0.2)          # button to ground on GPIO13 for 200 ms
    board.drive(14, 1); board.drive(14, None)   # hold an input at 1, then release it
    board.pins()                          # {"outputs": {"26": 1}, "modes", "driven", "history"}
    board.output(26)                      # 1, 0, or None (not driven: input or after a reset)
    board.history(26)                     # [(unix time, level), ...]
    board.power_off(); board.power_on()   # cut power at this instant; boot (PWRON_RESET)
    board.console(since=0)                # everything the board printed (str)
    board.wait_console(">>> ", timeout=5, since=0)
    board.status()                        # powered, serial, uid (hex), boot_id, reset_cause,
                                          # raw_repl, watchdog_ms, console_end (for since=)
"""

import json
import socket
import time
from pathlib import Path

BOARD_FILE = Path(".bzsim") / "board.json"


def _status(board) -> dict:
    return {
        "powered": board.powered,
        "serial": board.serial_path,
        "uid": board.uid.hex(),
        "boot_id": board.boot_id,
        "reset_cause": board.reset_cause,
        "raw_repl": board.filter.raw_repl,
        "watchdog_ms": board.watchdog_ms,
        "console_end": board.console.end,
    }


def _pins(board) -> dict:
    return {
        "outputs": {str(pin): level for pin, level in board.pins.outputs.items()},
        "modes": {str(pin): mode for pin, mode in board.pins.modes.items()},
        "driven": {str(pin): level for pin, level in board.pins.driven.items()},
        "history": [[t, pin, level] for t, pin, level in board.pins.history],
    }


def _level(request: dict) -> int | None:
    level = request.get("level")
    if level not in (0, 1, None):
        raise ValueError("level must be 0, 1 or null")
    return level


def _pin(request: dict) -> int:
    pin = request.get("pin")
    if not isinstance(pin, int) or not 0 <= pin < 40:
        raise ValueError("pin must be a GPIO number 0-39")
    return pin


def _drive(board, request: dict) -> dict:
    board.drive(_pin(request), _level(request))
    return _pins(board)


def _press(board, request: dict) -> dict:
    board.press(_pin(request), float(request.get("seconds", 0.2)), _level(request) or 0)
    return _pins(board)


def _power(board, request: dict) -> dict:
    if request.get("on"):
        board.power_on()
    else:
        board.power_off()
    return _status(board)


def _wifi(board, request: dict) -> dict:
    up = request.get("up")
    if not isinstance(up, bool):
        raise ValueError("up must be true or false")
    board.set_wifi(up)
    return {"wifi": board.wifi}


def _console(board, request: dict) -> dict:
    text = board.console.since(int(request.get("since", 0)))
    return {"text": text.decode("utf-8", "replace"), "end": board.console.end}


_OPS = {
    "status": lambda board, request: _status(board),
    "pins": lambda board, request: _pins(board),
    "drive": _drive,
    "press": _press,
    "power": _power,
    "console": _console,
    "wifi": _wifi,
}


def handle_request(board, line: bytes) -> dict:
    """The answer to one request line; bad requests get {"error": ...}, never an exception."""
    try:
        request = json.loads(line)
        op = _OPS[request["op"]]
        return op(board, request)
    except (ValueError, KeyError, TypeError) as e:
        return {"error": f"bad request: {e!r}"}


class BoardControlError(RuntimeError):
    pass


class BoardControl:
    def __init__(self, address: str, timeout: float = 10.0):
        host, port = address.rsplit(":", 1)
        self._sock = socket.create_connection((host, int(port)), timeout=timeout)
        self._file = self._sock.makefile("rb")

    @classmethod
    def for_flash(cls, flash, timeout: float = 10.0) -> "BoardControl":
        """The board running on flash directory `flash`."""
        path = Path(flash) / BOARD_FILE
        try:
            info = json.loads(path.read_text())
        except FileNotFoundError:
            raise BoardControlError(f"no virtual board runs on {flash} (no {path})") from None
        return cls(info["control"], timeout)

    def close(self) -> None:
        self._file.close()
        self._sock.close()

    def __enter__(self) -> "BoardControl":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def request(self, op: str, **args) -> dict:
        self._sock.sendall(json.dumps({"op": op, **args}).encode() + b"\n")
        line = self._file.readline()
        if not line:
            raise BoardControlError("the board closed the control connection")
        answer = json.loads(line)
        if "error" in answer:
            raise BoardControlError(answer["error"])
        return answer

    def status(self) -> dict:
        return self.request("status")

    def pins(self) -> dict:
        return self.request("pins")

    def output(self, pin: int) -> int | None:
        """The level an output pin drives now (None: not an output, or released by a reset)."""
        return self.pins()["outputs"].get(str(pin))

    def history(self, pin: int) -> list[tuple[float, int | None]]:
        return [(t, level) for t, p, level in self.pins()["history"] if p == pin]

    def drive(self, pin: int, level: int | None) -> None:
        self.request("drive", pin=pin, level=level)

    def press(self, pin: int, seconds: float = 0.2, level: int = 0) -> None:
        self.request("press", pin=pin, seconds=seconds, level=level)

    def power_off(self) -> None:
        self.request("power", on=False)

    def power_on(self) -> None:
        self.request("power", on=True)

    def wifi(self, up: bool) -> None:
        """Take the board's access point away (False) or bring it back (True)."""
        self.request("wifi", up=up)

    def console(self, since: int = 0) -> str:
        return self.request("console", since=since)["text"]

    def wait_console(self, text: str, timeout: float = 5.0, since: int = 0) -> str:
        """The console from `since` once it contains text; BoardControlError after timeout."""
        deadline = time.monotonic() + timeout
        while True:
            seen = self.console(since)
            if text in seen:
                return seen
            if time.monotonic() > deadline:
                raise BoardControlError(f"{text!r} not on the console after {timeout} s; it shows:\n{seen[-2000:]}")
            time.sleep(0.02)
