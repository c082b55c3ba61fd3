"""The virtual ESP32: a serial pty for the host, the MicroPython interpreter behind it,
and the board state that outlives the interpreter (reset cause, RTC clock and memory,
watchdog, pins). One thread, one select loop; resets restart the interpreter.

Files in the board's private directory DIR/.bzsim (hidden from code on the board):
  board.json   {"serial": pty path, "control": "127.0.0.1:port", "pid": bridge pid}
  uid          the board's 6-byte unique id (its MAC), made once
  nvs-*.json   esp32.NVS namespaces; pending/ holds uncommitted file writes
  romfs.img    the ROMFS partition of bzgate's image (bzsim.shims._romfs), unless --no-romfs
"""

import json
import os
import pty
import secrets
import selectors
import socket
import struct
import time
import tty
from pathlib import Path

from bzsim.air.link import encode, split_frames
from bzsim.air.wifi import Plan
from bzsim.air.wire import MSG as AIR_MSG
from bzsim.board import visitors
from bzsim.board.console import ConsoleFilter, ConsoleLog
from bzsim.board.control import handle_request
from bzsim.board.interpreter import Interpreter
from bzsim.board.pins import PinBank
from bzsim.board.serialline import DEFAULT_BAUD, STDIN_RING, SerialLine
from bzsim.shims import boardmemory
from bzsim.shims import boardmsg as msg

PRIVATE = ".bzsim"
DEFAULT_FLASH_BYTES = 2 << 20  # the vfs partition of a 4 MB board
PWRON_RESET, HARD_RESET, WDT_RESET, DEEPSLEEP_RESET, SOFT_RESET = 1, 2, 3, 4, 5
_ROM_RESET_NAMES = {
    PWRON_RESET: b"0x1 (POWERON_RESET)",
    HARD_RESET: b"0xc (SW_CPU_RESET)",
    WDT_RESET: b"0x7 (TG0WDT_SYS_RESET)",
    DEEPSLEEP_RESET: b"0x5 (DEEPSLEEP_RESET)",
}
# The shims are Python here but C on the board: the interpreter gets this much more heap,
# and _startup holds the surplus back so the firmware finds the board's heap, no more. Enough
# that the board's heap fits above the shims' high-water mark, in one piece as on the board.
SHIM_HEAP_BYTES = 384 * 1024
_TICK = 0.05  # longest sleep of the loop: watchdog and timers are checked this often


def _rom_banner(cause: int) -> bytes:
    return b"ets Jul 29 2019 12:21:46\r\n\r\nrst:" + _ROM_RESET_NAMES[cause] + b",boot:0x13 (SPI_FAST_FLASH_BOOT)\r\n"


def heap_bytes(heap: str) -> int:
    """A heap given in ESP32 (32-bit) terms ("96K") as bytes on this host, so it holds as many
    objects as the board's does: twice the bytes on a 64-bit host."""
    number, unit = (heap[:-1], heap[-1].upper()) if heap[-1:].isalpha() else (heap, "")
    return int(number) * {"": 1, "K": 1024, "M": 1024 * 1024}[unit] * struct.calcsize("P") // 4


def module_heap(module: str) -> str:
    """The Python heap of a module with nothing switched on (bzsim.shims.boardmemory), as --heap
    writes it."""
    return "%d" % boardmemory.PYTHON_HEAP[module]


def _board_uid(private: Path) -> bytes:
    path = private / "uid"
    if not path.exists():
        path.write_bytes(bytes((0x24, 0x0A, 0xC4)) + secrets.token_bytes(3))  # Espressif OUI
    return path.read_bytes()


class _Peer:
    """A socket the loop serves: a shim link (frames) or a control client (JSON lines)."""

    def __init__(self, sock: socket.socket):
        self.sock = sock
        self.buffer = bytearray()
        self.boot_id = None


class Board:
    def __init__(self, flash: Path, *, module: str = boardmemory.DEFAULT_MODULE, heap: str | None = None,
                 name: str = "gate", air: str | None = None,
                 flash_bytes: int = DEFAULT_FLASH_BYTES, baud: int = DEFAULT_BAUD,
                 wifi: tuple[str, str] | None = None, wifi_plan: Plan | None = None,
                 romfs: bool = True):
        self.flash = Path(flash).resolve()
        self.private = self.flash / PRIVATE
        self.private.mkdir(parents=True, exist_ok=True)
        if module not in boardmemory.PYTHON_HEAP:
            raise ValueError(f"module {module!r}: one of {', '.join(boardmemory.PYTHON_HEAP)}")
        self.module = module  # the memory it models; heap, if given, overrides its Python heap
        self.heap_bytes = heap_bytes(heap or module_heap(module))
        self.name, self.air, self.flash_bytes = name, air, flash_bytes
        self.romfs = romfs  # bzgate's image (a ROMFS partition) or MicroPython's own (none)
        self.uid = _board_uid(self.private)
        self.console, self.filter, self.pins = ConsoleLog(), ConsoleFilter(), PinBank()
        self.line = SerialLine(baud)
        # The access point in range: --wifi's (ssid, password), up until the control op "wifi"
        # drops it, or the scenario's for this gate (wifi_plan), gone in its outages; not both.
        if wifi is not None and wifi_plan is not None:
            raise ValueError("an access point from the scenario and another one: give one")
        self.wifi = None if wifi is None else {"ssid": wifi[0], "password": wifi[1], "up": True}

        self._serial_fd, self._serial_slave = pty.openpty()
        tty.setraw(self._serial_slave)  # kept open: the port exists while nobody has it open
        os.set_blocking(self._serial_fd, False)
        self.serial_path = os.ttyname(self._serial_slave)

        self._sel = selectors.DefaultSelector()
        self._link_server = self._listen(self._accept_link)
        self._control_server = self._listen(self._accept_control)
        self._sel.register(self._serial_fd, selectors.EVENT_READ, self._on_serial_input)

        self.powered = False
        self.interpreter: Interpreter | None = None
        self.boot_id = 0
        self.reset_cause = PWRON_RESET
        self.rtc_offset_ns = 0
        self.rtc_memory = b""
        self.watchdog_ms = None
        self._wdt_deadline = None
        self._timers: list[tuple[float, object]] = []
        self._shim: _Peer | None = None
        self._air_peer: _Peer | None = None  # the air's visitors (follow_visitors)
        self._signal_outputs = None  # (config.json's mtime, role -> (gpio, active_low))
        self._signal_sent = {role: 0 for role in visitors.SIGNAL_ROLES}
        self.stopping = False
        if wifi_plan is not None:
            self._follow_wifi_plan(wifi_plan)
        control_host, control_port = self._control_server.getsockname()
        self.control_address = f"{control_host}:{control_port}"
        (self.private / "board.json").write_text(json.dumps(
            {"serial": self.serial_path, "control": self.control_address, "pid": os.getpid()}))

    # --- sockets -------------------------------------------------------------------
    def _listen(self, on_accept) -> socket.socket:
        server = socket.create_server(("127.0.0.1", 0))
        server.setblocking(False)
        self._sel.register(server, selectors.EVENT_READ, on_accept)
        return server

    def _accept(self, server: socket.socket, on_data) -> None:
        sock, _ = server.accept()
        sock.setblocking(True)
        peer = _Peer(sock)
        self._sel.register(sock, selectors.EVENT_READ, lambda: self._receive(peer, on_data))

    def _receive(self, peer: _Peer, on_data) -> None:
        try:
            data = peer.sock.recv(65536)
        except OSError:
            data = b""
        if not data:
            self._sel.unregister(peer.sock)
            peer.sock.close()
            return
        peer.buffer += data
        on_data(peer)

    def _accept_link(self) -> None:
        self._accept(self._link_server, self._on_link_data)

    def _accept_control(self) -> None:
        self._accept(self._control_server, self._on_control_data)

    # --- the loop ------------------------------------------------------------------
    def serve(self) -> None:
        """Run until stop() (or a signal handler setting .stopping)."""
        while not self.stopping:
            now = time.monotonic()
            deadlines = [when for when, _ in self._timers]
            if self._wdt_deadline is not None:
                deadlines.append(self._wdt_deadline)
            if self.line.next_arrival(now) is not None:
                deadlines.append(self.line.next_arrival(now))
            timeout = min([_TICK] + [max(0.0, d - now) for d in deadlines])
            for key, _ in self._sel.select(timeout):
                key.data()
            self._deliver_serial_input()
            self._check_interpreter_exit()
            self._emit(self.filter.flush_due())
            self._run_due_timers()
            if self._wdt_deadline is not None and time.monotonic() >= self._wdt_deadline:
                self._emit(b"E (%d) task_wdt: Task watchdog got triggered.\r\n" % (self.watchdog_ms or 0))
                self._hard_reset(WDT_RESET)

    def stop(self) -> None:
        self.stopping = True

    def close(self) -> None:
        self._stop_interpreter(drain=True)
        for sock in (self._link_server, self._control_server):
            sock.close()
        os.close(self._serial_fd)
        os.close(self._serial_slave)
        self._sel.close()
        (self.private / "board.json").unlink(missing_ok=True)

    def after(self, seconds: float, action) -> None:
        self._timers.append((time.monotonic() + seconds, action))

    def _run_due_timers(self) -> None:
        now = time.monotonic()
        due = [t for t in self._timers if t[0] <= now]
        self._timers = [t for t in self._timers if t[0] > now]
        for _, action in due:
            action()

    # --- serial --------------------------------------------------------------------
    def _on_serial_input(self) -> None:
        try:
            data = os.read(self._serial_fd, 65536)
        except OSError:
            return
        self.line.send(data, time.monotonic())

    def _deliver_serial_input(self) -> None:
        """Bytes reach the interpreter at the line's pace; a board that is off or asleep loses them."""
        room = STDIN_RING - self.interpreter.pending_input() if self.interpreter is not None else 0
        data = self.line.arrived(time.monotonic(), room)
        if data:
            self.interpreter.write(data)

    def _emit(self, data: bytes) -> None:
        if not data:
            return
        self.console.append(data)
        try:
            os.write(self._serial_fd, data)
        except OSError:  # nobody reads the port and its buffer is full: bytes are lost
            pass

    def _on_interpreter_output(self) -> None:
        if self.interpreter is None:  # a control request earlier in this select() cut the power
            return
        self._emit(self.filter.feed(self.interpreter.read()))

    def _check_interpreter_exit(self) -> None:
        status = self.interpreter.exit_status() if self.interpreter is not None else None
        if status is None:
            return
        if status < 0:  # killed by a signal we did not send: a panic
            self._emit(b"Guru Meditation Error: Core  1 panic'ed (signal %d)\r\n" % -status)
            self._hard_reset(HARD_RESET)
        else:  # Ctrl-D at a REPL or sys.exit(): the port soft-reboots
            self._soft_reset()

    # --- power and resets ----------------------------------------------------------
    def power_on(self) -> None:
        if self.powered:
            return
        self.powered = True
        self.rtc_offset_ns = -time.time_ns()  # no battery: the clock starts at 2000-01-01
        self.rtc_memory = b""
        self._hard_reset(PWRON_RESET)

    def power_off(self) -> None:
        """Cut the power at this instant: nothing more is flushed or printed."""
        self._stop_interpreter(drain=False)
        self.powered = False
        self.watchdog_ms = self._wdt_deadline = None
        self.pins.release_outputs()
        self._signal_gate()
        self._timers = [t for t in self._timers if t[1] != self._wake]

    def _hard_reset(self, cause: int) -> None:
        self._stop_interpreter(drain=True)
        self.watchdog_ms = self._wdt_deadline = None
        self.pins.release_outputs()
        self._signal_gate()
        self.filter.raw_repl = False
        self._emit(_rom_banner(cause))
        self._start(cause)

    def _soft_reset(self) -> None:
        self._stop_interpreter(drain=True)
        self._emit(b"MPY: soft reboot\r\n")
        self._start(SOFT_RESET)

    def _deep_sleep(self, ms: int) -> None:
        self._stop_interpreter(drain=True)
        self.watchdog_ms = self._wdt_deadline = None
        self.pins.release_outputs()
        self._signal_gate()
        if ms:
            self.after(ms / 1000, self._wake)

    def _wake(self) -> None:
        if self.powered and self.interpreter is None:
            self._hard_reset(DEEPSLEEP_RESET)

    def _start(self, cause: int) -> None:
        self.boot_id += 1
        self.reset_cause = cause
        self.filter.reset()
        raw = self.filter.raw_repl
        env = {
            "BZSIM_FLASH": str(self.flash),
            "BZSIM_FLASH_BYTES": str(self.flash_bytes),
            "BZSIM_BOARD": "%s:%d" % self._link_server.getsockname(),
            "BZSIM_BOOT_ID": str(self.boot_id),
            "BZSIM_RESET_CAUSE": str(cause),
            "BZSIM_RUN_MAIN": "0" if raw else "1",
            "BZSIM_RTC_OFFSET_NS": str(self.rtc_offset_ns),
            "BZSIM_RTC_MEMORY": self.rtc_memory.hex(),
            "BZSIM_UID": self.uid.hex(),
            "BZSIM_OUTPUTS": ",".join(f"{pin}:{level}" for pin, level in self.pins.outputs.items()
                                      if level is not None),
            "BZSIM_NAME": self.name,
            "BZSIM_HEAP_BYTES": str(self.heap_bytes),
            "BZSIM_MODULE": self.module,
        }
        shim_heap = SHIM_HEAP_BYTES
        if self.romfs:
            env["BZSIM_ROMFS"] = boardmemory.ROMFS_FILE
            env["BZSIM_ROMFS_BYTES"] = str(boardmemory.ROMFS_BYTES)
            shim_heap += boardmemory.ROMFS_BYTES  # the mapped partition: outside the board's heap
        if self.air:
            env["BZSIM_AIR"] = self.air
        if self.wifi:
            env["BZSIM_WIFI"] = json.dumps(self.wifi)
        self.interpreter = Interpreter(env, self.heap_bytes + shim_heap)
        self._sel.register(self.interpreter.fd, selectors.EVENT_READ, self._on_interpreter_output)
        if raw:  # back to the raw REPL once boot.py is done, as the port does
            self.filter.swallow_to_raw = True
            self.interpreter.write(b"\x01")

    def _stop_interpreter(self, drain: bool) -> None:
        interpreter, self.interpreter = self.interpreter, None
        self._shim = None
        if interpreter is None:
            return
        self._sel.unregister(interpreter.fd)
        if drain:  # what it printed before the reset was already on the wire
            self._emit(self.filter.feed(interpreter.read()))
            self._emit(self.filter.flush())
        interpreter.kill()
        interpreter.close()

    # --- the shims' link -----------------------------------------------------------
    def _on_link_data(self, peer: _Peer) -> None:
        for mtype, payload in split_frames(peer.buffer):
            self._on_link_message(peer, mtype, payload)

    def _on_link_message(self, peer: _Peer, mtype: int, payload: bytes) -> None:
        if mtype == msg.HELLO and len(payload) == 4:
            peer.boot_id = struct.unpack(">I", payload)[0]
            if peer.boot_id == self.boot_id:
                self._shim = peer
                peer.sock.sendall(encode(msg.INPUTS, self.pins.driven_payload()))
            return
        if peer is not self._shim:  # a message from a life that has ended
            return
        handler = {
            msg.PIN_MODE: lambda: self.pins.set_mode(payload[0], payload[1]),
            msg.PIN_OUT: lambda: self.pins.set_output(payload[0], payload[1]),
            msg.WDT_START: lambda: self._arm_watchdog(struct.unpack(">I", payload)[0]),
            msg.WDT_FEED: lambda: self._arm_watchdog(self.watchdog_ms),
            msg.RTC_OFFSET: lambda: setattr(self, "rtc_offset_ns", struct.unpack(">q", payload)[0]),
            msg.RTC_MEMORY: lambda: setattr(self, "rtc_memory", bytes(payload)),
            msg.RESET: lambda: self._hard_reset(HARD_RESET),
            msg.SOFT_RESET: self._soft_reset,
            msg.DEEPSLEEP: lambda: self._deep_sleep(struct.unpack(">I", payload)[0]),
        }.get(mtype)
        if handler is not None:
            try:
                handler()
            except (IndexError, struct.error):  # a malformed frame changes nothing
                pass
            if mtype in (msg.PIN_MODE, msg.PIN_OUT):
                self._signal_gate()

    def _arm_watchdog(self, timeout_ms: int | None) -> None:
        if timeout_ms:
            self.watchdog_ms = timeout_ms
            self._wdt_deadline = time.monotonic() + timeout_ms / 1000

    # --- inputs from the outside world ----------------------------------------------
    def drive(self, pin: int, level: int | None) -> None:
        payload = self.pins.drive(pin, level)
        if self._shim is not None:
            try:
                self._shim.sock.sendall(encode(msg.INPUTS, payload))
            except OSError:
                pass

    def set_wifi(self, up: bool) -> None:
        """The access point goes (the station loses its IP, its sockets are reset) or returns."""
        if self.wifi is None:
            raise ValueError("this board has no access point in range (bzgate sim board --wifi)")
        self.wifi["up"] = up
        if self._shim is not None:
            try:
                self._shim.sock.sendall(encode(msg.WIFI, bytes((1 if up else 0,))))
            except OSError:
                pass

    def _follow_wifi_plan(self, plan: Plan) -> None:
        """The scenario's access point, going and coming back at its outages (the air's clock)."""
        now = time.monotonic()
        self.wifi = {"ssid": plan.ssid, "password": plan.password, "up": plan.up_at(now)}
        for delay, up in plan.changes_after(now):
            self.after(delay, lambda up=up: self.set_wifi(up))

    def press(self, pin: int, seconds: float, level: int = 0) -> None:
        """Hold an input at level (a button to ground, a broken beam), then release it."""
        self.drive(pin, level)
        self.after(seconds, lambda: self.drive(pin, None))

    def follow_visitors(self) -> None:
        """Let the air's visitors press this gate's button (see bzsim.board.visitors)."""
        if not self.air:
            return
        host, port = self.air.rsplit(":", 1)
        sock = socket.create_connection((host, int(port)), timeout=5)
        sock.sendall(encode(AIR_MSG["SUBSCRIBE"]))
        peer = _Peer(sock)
        self._air_peer = peer
        self._sel.register(sock, selectors.EVENT_READ, lambda: self._receive(peer, self._on_air_data))

    def _signal_gate(self) -> None:
        """Tell the air when the relay, red or green output (as config.json wires them) turns
        on or off: what the visitor at the scanner sees (bzsim.air.visitors)."""
        peer = self._air_peer
        if peer is None:
            return
        try:
            mtime = (self.flash / "config.json").stat().st_mtime_ns
        except OSError:
            mtime = None
        if self._signal_outputs is None or self._signal_outputs[0] != mtime:
            self._signal_outputs = (mtime, visitors.gate_outputs(self.flash))
        on = visitors.signal_levels(self._signal_outputs[1], self.pins.outputs)
        if on == self._signal_sent:
            return
        self._signal_sent = on
        try:
            peer.sock.sendall(encode(AIR_MSG["GATE_SIGNAL"], visitors.signal_payload(self.name, on)))
        except OSError:
            pass

    def _on_air_data(self, peer: _Peer) -> None:
        for mtype, payload in split_frames(peer.buffer):
            if mtype == AIR_MSG["EVENT"] and visitors.press_for(payload, self.name):
                wired = visitors.gate_input(self.flash)
                if wired is not None:
                    self.press(wired[0], visitors.PRESS_SECONDS, wired[1])

    # --- control clients -----------------------------------------------------------
    def _on_control_data(self, peer: _Peer) -> None:
        while b"\n" in peer.buffer:
            line, _, rest = bytes(peer.buffer).partition(b"\n")
            peer.buffer[:] = rest
            try:
                peer.sock.sendall(json.dumps(handle_request(self, line)).encode() + b"\n")
            except OSError:
                return
