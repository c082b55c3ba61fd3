"""The gate program: builds the parts, runs one asyncio task per concern and supervises them.

    import gate.app; gate.app.main()          # all that main.py does

Boot: the relay is already safe and BLE on (boot.py, main.py: docs/esp32-notes.md, note 10).
Every module is imported before the first long-lived buffer is made, and the big preallocated
tables come first, so the heap stays in few large pieces (docs/esp32-notes.md, note 12). The
config is loaded with bzcore.config.load (each error: a CONFIG_ERROR event and a slow red blink;
a broken file gives defaults, never a crash loop); the journal gets a BOOT event with the reset
cause.

Tasks: scan (radio consumer), scan-watch, reader (iPhones), decide and at-once (the guard's
and the exits' presses: policy) or count, outputs, presence (ends visits: SIGHTING records),
beacon (the gate's own adverts), journal (flush), hostlink (serve_host: gate.hostlink is loaded
when the host first writes and forgotten when it goes quiet), and the supervisor's own loop. A
task that raises is restarted (TASK_RESTART); one that fails _RESTARTS_MAX times within
_RESTART_WINDOW_S takes the board down (TASK_FAILED, then a reset). The watchdog is fed only
while every task has reported healthy within HEALTHY_MS. The heap watchdog checks the largest free block every HEAP_CHECK_MS (HEAP_LOW below _HEAP_LOW_BYTES),
and the IDF heap's, which NimBLE and Wi-Fi allocate from (HEAP_LOW "idf" below _IDF_LOW_BYTES).

Crashes (a fatal error, a watchdog reset) are counted in RTC memory (gate.crashes); three
within ten minutes boot the board into safe mode: host link and REPL only, relay off, fast red
blink, no watchdog.

With config wifi and mqtt set (and not in safe mode), the task "uplink" (gate.uplink) sends
the journal and the live events to an MQTT broker; its module and MQTT client are loaded only
then. Its counters are in STATUS ("uplink") and in its status events.

For the host link (gate.hostlink.HostLink(app)):
    app.status() -> dict          app.config -> dict          app.apply_config(new) -> errors
    app.subscribe_events() -> EventQueue (await q.get(): live decisions and alarms as dicts)
    app.unsubscribe(q)            app.link_sessions (times the link was loaded since boot)
    app.restart()                 app.maintenance()            app.journal, app.clock
    app.key (KEY PROVE)           app.outputs (OUTPUTS TEST)
"""

import gc
import struct
import sys
import time

import asyncio
import bluetooth
import esp32
import machine
import micropython
from micropython import const

from bzcore import record
from gate import bootonly, clock, crashes, secret
from gate.beacon import Beacon
from gate.journal import Journal
from gate.outputs import BLINK_FAST, BLINK_SLOW, Outputs
from gate.policy import Policy
from gate.presence import Presence
from gate.radio import BLE_RESET, Radio
from gate.reader import Reader

VERSION = "0.1.0"
CONFIG_PATH = "/config.json"
_JOURNAL_ROOT = const("/journal")
HEALTHY_MS = const(8000)
_WDT_MS = const(10000)
_MAINT_WDT_MS = const(3600000)  # the watchdog cannot be stopped: an hour for mpremote's work
_RESTARTS_MAX = const(5)
_RESTART_WINDOW_S = const(600)
HEAP_CHECK_MS = const(10000)
_GC_EVERY_BYTES = const(8192)
_HEAP_LOW_BYTES = const(1536)  # a host-link reply needs about 1 KB in one piece
_IDF_LOW_BYTES = const(4096)  # a Wi-Fi frame buffer is 1.6 KB; NimBLE panicked at 336 (docs/esp32-notes.md, note 38)
EVENT_QUEUE_MAX = const(16)
_RESTART_FIELDS = const(("mode", "trigger", "direction", "ios_read", "scan", "board", "wifi", "mqtt"))
# ESP32 bytes the uplink needs free once the gate is built: the uplink running took about 19 KB
# with mqtt_async (bench/uplink_scan.py, heap_free with it off and on: its code, gate.uplink and
# bzcore.uplink, buffers and objects) and more at its peaks, gate.mqtt about 3 KB less
# (bench/uplink_heap.py), the gate's own tasks about 10 KB more once running, and 4 KB stay for
# host-link replies. Forced on with 22 KB spare, it left the largest free block at 888 bytes and
# lost most of its batches.
_UPLINK_RUN_BYTES = const(37000)
# Without PSRAM the station and its socket then take what the heap could grow into, which
# gc.mem_free() still counts before they start (docs/esp32-notes.md, note 38): 36 KB, and 9.6 KB
# less in bzgate's image, whose Wi-Fi driver keeps 4 static RX buffers of ESP-IDF's 10.
_STATION_BYTES = const(32768 + 4096)
_STATION_BYTES_BZGATE_IMAGE = const(32768 + 4096 - 9600)
WORD_BYTES = struct.calcsize("P")  # the heap counts in this board's words; the ESP32's are 4 bytes
FROM_ROMFS = __file__.startswith("/rom/")  # bzgate's image: the modules run in place (note 40)
UPLINK_HEAP_BYTES = _UPLINK_RUN_BYTES + (_STATION_BYTES_BZGATE_IMAGE if FROM_ROMFS else _STATION_BYTES)
_NVS_BOOT = "boot"
_LINK_MODULES = ("gate.hostlink", "bzcore.wire")  # the host link's alone: forgotten when it idles


class Fatal(Exception):
    """A task kept failing: the board resets."""


class EventQueue:
    """Bounded queue of live events for one host-link subscriber; the oldest goes when full."""

    def __init__(self):
        self.items = []
        self.dropped = 0
        self._flag = asyncio.ThreadSafeFlag()

    def put(self, item):
        if len(self.items) >= EVENT_QUEUE_MAX:
            self.items.pop(0)
            self.dropped += 1
        self.items.append(item)
        self._flag.set()

    def clear(self):
        self.items = []

    async def get(self):
        while not self.items:
            await self._flag.wait()
        return self.items.pop(0)


def largest_free_block():
    """The largest block the heap can give now (bisection; docs/esp32-notes.md, note 12). Each
    trial is a list that clear() frees at once: a bytearray let go stays taken while a stale copy
    of its address is on the stack, which the collector scans conservatively, and the trials
    after it fail."""
    gc.collect()
    low, high = 0, gc.mem_free()  # pyright: ignore[reportAttributeAccessIssue]
    while high - low > 256:
        mid = (low + high) // 2
        try:
            trial = [None] * (mid // WORD_BYTES)
            trial.clear()
            low = mid
        except MemoryError:
            high = mid
    return low


def _next_boot_id():
    nvs = esp32.NVS("bzgate")
    try:
        boot = nvs.get_i32(_NVS_BOOT) + 1
    except OSError:
        boot = 1
    try:
        nvs.set_i32(_NVS_BOOT, boot)
        nvs.commit()
    except OSError:
        pass
    return boot


def read_config():
    """(config, errors) from /config.json; never raises."""
    from bzcore import config

    try:
        with open(CONFIG_PATH) as f:
            return config.load(f.read())
    except OSError:
        cfg, errors = config.load("")
        return cfg, ["config.json: missing; every field has its default"]


class _Task:
    def __init__(self, name, start, beats=True):
        self.name = name
        self.start = start  # (beat) -> coroutine
        self.beats = beats  # False: alive is healthy (the task has no heartbeat)
        self.last_beat = time.ticks_ms()
        self.failures = []  # clock seconds of recent failures

    def beat(self):
        self.last_beat = time.ticks_ms()

    def healthy(self, now):
        return not self.beats or time.ticks_diff(now, self.last_beat) < HEALTHY_MS


class App:
    def __init__(self):
        self.clock = clock
        self.reset_cause = machine.reset_cause()
        self.config, self.config_errors = read_config()
        recent = crashes.note() if self.reset_cause == machine.WDT_RESET else crashes.recent()
        self.safe_mode = len(recent) >= crashes.FOR_SAFE_MODE
        self.crashes = len(recent)
        cfg = self.config
        self.presence = Presence(cfg["near_rssi"], self.log)
        self.ble = bluetooth.BLE()
        self.reader = None
        self.radio = Radio(self.ble, cfg["scan"]["interval_us"], cfg["scan"]["window_us"],
                           self._gatt_event, self._recovered)
        if not self.safe_mode:
            self.radio.start()
        from bzcore import config

        self.pins = config.board_pins(cfg)  # role -> (gpio, active_low) or None
        self.outputs = Outputs(self.pins, config.OUTPUT_ROLES)
        key, created = secret.load_key()
        self.key = key
        self.boot_id = _next_boot_id()
        self.journal = Journal(_JOURNAL_ROOT, key, self.boot_id, clock)
        self.journal.retention_days = cfg["retention_days"]
        self.subscribers = []
        self.alarms = []
        self.heap_largest = 0
        self.heap_live_free = 0
        self.heap_least = None  # [free, largest]
        self.link_sessions = 0
        self.idf_largest = 0
        self.tasks = []
        self._stop = asyncio.Event()
        self._restart = False
        self.fatal = None
        self.input_pins = []  # the armed inputs: kept, so their IRQs stay
        self.policy = Policy(cfg, self.presence, self.outputs, self.log, self.publish)
        self.reader = Reader(self.ble, self.radio, clock.now, self.presence.learn) \
            if cfg["ios_read"] else None
        self.beacon = None if self.safe_mode else Beacon(self, secret.load_checkpoint())
        self.log(record.event(record.BOOT, self.reset_cause, VERSION.encode()))
        if created:
            self.log(record.event(record.KEY_CREATED))
        for error in self.config_errors:
            self.log(record.event(record.CONFIG_ERROR, 0, error.split(":")[0].encode()))
        if self.config_errors:
            self.outputs.blink = BLINK_SLOW
            self.alarm("config-error")
        if self.safe_mode:
            self.outputs.blink = BLINK_FAST
            self.log(record.event(record.SAFE_MODE, self.crashes))
            self.alarm("safe-mode")
        self.uplink = None
        bootonly.forget()  # before the uplink measures what it has to spare
        if cfg["wifi"] and cfg["mqtt"] and not self.safe_mode:
            self._start_uplink()

    def _start_uplink(self):
        """Loaded last, and only when configured: with its MQTT client it takes UPLINK_HEAP_BYTES.
        A board without that much to spare keeps deciding without it (alarm "uplink-no-heap")."""
        gc.collect()
        spare = gc.mem_free() * 4 // WORD_BYTES  # pyright: ignore[reportAttributeAccessIssue]
        if spare >= UPLINK_HEAP_BYTES:
            from gate import uplink

            self.uplink = uplink.Uplink(self)
            return
        self.log(record.event(record.HEAP_LOW, spare, b"uplink"))
        self.alarm("uplink-no-heap")

    # ---- records and live events ---------------------------------------------------------

    def log(self, rec):
        """Journal a record: its seq, or None when it could not be written."""
        return self.journal.append(rec[0], None, rec[1])

    def publish(self, event):
        for q in self.subscribers:
            q.put(event)

    def alarm(self, name):
        if name not in self.alarms:
            self.alarms.append(name)
        self.publish({"alarm": name})

    def _gatt_event(self, event, data):
        if self.reader is not None:
            self.reader.irq(event, data)

    def _recovered(self, code):
        self.log(record.event(record.BLE_RESET if code == BLE_RESET else record.SCAN_RESTART))

    # ---- what the host link calls --------------------------------------------------------

    def subscribe_events(self):
        q = EventQueue()
        self.subscribers.append(q)
        return q

    def unsubscribe(self, q):
        if q in self.subscribers:
            self.subscribers.remove(q)

    def status(self):
        """STATUS but for the host link's own counters; the uplink's status events too.
        heap_least: the least free and the least largest block of any heap check since boot."""
        t, valid = clock.now()
        out = {"uptime_ms": clock.uptime_ms(), "time": t, "clock_valid": valid,
               "heap_free": gc.mem_free(), "storage": self.journal.stats(),  # pyright: ignore[reportAttributeAccessIssue]
               "heap_least": self.heap_least, "boot_id": self.boot_id, "mode": self.config["mode"],
               "safe_mode": self.safe_mode,
               "heap_largest": self.heap_largest, "heap_free_gc": self.heap_live_free,
               "idf_largest": self.idf_largest, "romfs": FROM_ROMFS,
               "alarms": self.alarms,
               "decisions": self.policy.decisions, "latency_max_ms": self.policy.latency_max_ms,
               "checking": self.policy.checking, "presses_merged": self.policy.presses_merged,
               "last_decision": self.policy.last, "present": self.presence.used,
               "evictions": self.presence.evictions, "glimpses": self.presence.glimpses,
               "task_restarts": sum(len(task.failures) for task in self.tasks)}
        # restarts: [scan restarts, BLE resets]; reads: [ok, timeout, failed, absent, bad value]
        out.update(self.radio.stats())
        if self.reader is not None:
            out.update(self.reader.stats())
        if self.beacon is not None:
            out.update(self.beacon.stats())
        if self.uplink is not None:
            out["uplink"] = self.uplink.counters()
        return out

    def apply_config(self, new):
        """Use a new, checked configuration (the host link has written config.json). Fields
        that shape the tasks or the pins take effect by a restart; the rest at once."""
        old, self.config = self.config, new
        for name in _RESTART_FIELDS:
            if old[name] != new[name]:
                self.restart()
                return
        self.policy.configure(new)
        self.presence.set_near(new["near_rssi"])
        self.journal.retention_days = new["retention_days"]

    def restart(self):
        """Reset the board once the journal is flushed (the host link's reply goes out first)."""
        self._restart = True
        self._stop.set()

    def maintenance(self):
        """Stop cleanly and return to the REPL (for mpremote)."""
        self._stop.set()

    # ---- supervision ---------------------------------------------------------------------

    def _tasks(self):
        radio, presence, policy = self.radio, self.presence, self.policy
        tasks = [_Task("journal", lambda beat: self.journal.run(), beats=False),
                 _Task("hostlink", lambda beat: serve_host(self), beats=False),
                 _Task("outputs", self.outputs.run)]
        uplink = self.uplink  # never in safe mode
        if uplink is not None:
            tasks.append(_Task("uplink", lambda beat: uplink.run(), beats=False))
        if self.safe_mode:
            return tasks
        tasks += [_Task("scan", lambda beat: radio.consume(presence, self.reader, clock.now, beat)),
                  _Task("scan-watch", radio.watch),
                  _Task("presence", self._visits)]
        if self.beacon is not None:
            tasks.append(_Task("beacon", self.beacon.run))
        if self.reader is not None:
            tasks.append(_Task("reader", self.reader.run))
        if self.config["mode"] == "count":
            tasks.append(_Task("count", lambda beat: policy.count_minutes(radio, beat)))
            return tasks
        if self.config["trigger"] != "none":
            tasks.append(_Task("decide", policy.run))
        tasks.append(_Task("at-once", policy.run_at_once))
        return tasks

    async def _visits(self, beat):
        while True:
            await asyncio.sleep_ms(1000)
            beat()
            self.presence.expire(time.ticks_ms())

    async def _supervise(self, task):
        while True:
            try:
                await task.start(task.beat)
                return
            except asyncio.CancelledError:
                raise
            except Exception as e:  # noqa: BLE001 - any failure of a task is the supervisor's
                now = clock.now()[0]
                task.failures = [t for t in task.failures if 0 <= now - t < _RESTART_WINDOW_S]
                task.failures.append(now)
                if len(task.failures) >= _RESTARTS_MAX:
                    self.log(record.event(record.TASK_FAILED, len(task.failures), task.name.encode()))
                    self.journal.flush()
                    raise Fatal(task.name) from e
                self.log(record.event(record.TASK_RESTART, len(task.failures), task.name.encode()))
                self.alarm("task-restart")
                task.beat()
                await asyncio.sleep_ms(200)

    async def _watchdog(self, wdt):
        heap_due = 0
        while not self._stop.is_set():
            gc.collect()  # often and early: garbage freed young keeps the heap in big pieces
            now = time.ticks_ms()
            clock.uptime_ms()  # keeps the uptime count across ticks_ms wraps
            if wdt is not None and all(task.healthy(now) for task in self.tasks):
                wdt.feed()
            heap_due -= 1
            if heap_due <= 0:
                heap_due = HEAP_CHECK_MS // 1000
                self._check_heap()
            await asyncio.sleep_ms(1000)

    def _check_heap(self):
        # Free memory first: the bisection's last block is garbage until the next collection.
        gc.collect()
        self.heap_live_free = gc.mem_free()  # pyright: ignore[reportAttributeAccessIssue]
        self.heap_largest = largest_free_block()  # after a collection: live objects only
        least = self.heap_least
        if least is None:
            self.heap_least = [self.heap_live_free, self.heap_largest]
        else:
            least[0] = min(least[0], self.heap_live_free)
            least[1] = min(least[1], self.heap_largest)
        self.idf_largest = max(region[2] for region in esp32.idf_heap_info(esp32.HEAP_DATA))
        self._watch("heap-low", self.heap_largest, _HEAP_LOW_BYTES, b"")
        self._watch("idf-heap-low", self.idf_largest, _IDF_LOW_BYTES, b"idf")

    def _watch(self, alarm, largest, least, text):
        if largest < least:
            if alarm not in self.alarms:
                self.log(record.event(record.HEAP_LOW, largest, text))
            self.alarm(alarm)
        elif alarm in self.alarms:
            self.alarms.remove(alarm)

    async def run(self):
        # Collect after every few KB: the garbage of the scan path then reuses the same few
        # holes instead of spreading over the heap and splitting its large free pieces.
        gc.threshold(_GC_EVERY_BYTES)  # pyright: ignore[reportAttributeAccessIssue]
        wdt = None if self.safe_mode else machine.WDT(timeout=_WDT_MS)
        self.tasks = self._tasks()
        running = [asyncio.create_task(self._supervise(task)) for task in self.tasks]
        if not self.safe_mode:
            self._arm_inputs()
        if self.config["trigger"] == "tap":
            self.presence.on_near = self.policy.tap
        watchdog = asyncio.create_task(self._watchdog(wdt))
        failed = asyncio.create_task(self._first_failure(running))
        await self._stop.wait()
        for task in running + [watchdog, failed]:
            task.cancel()
        self.shutdown()
        if wdt is not None:
            machine.WDT(timeout=_MAINT_WDT_MS)
        if self._restart:
            machine.reset()

    async def _first_failure(self, running):
        """A supervised task that gave up ends the program (main() then resets the board)."""
        try:
            await asyncio.gather(*running)
        except Fatal as e:
            self.fatal = e
            self._stop.set()

    def _arm_inputs(self):
        """The trigger (an entry, or with direction "out" an exit), and unless in count mode the
        guard's key switch and, with direction "both", the exit button."""
        cfg, policy = self.config, self.policy
        role = cfg["trigger"]
        if role in ("button", "beam"):
            code = record.BUTTON if role == "button" else record.BEAM
            if cfg["direction"] == "out":
                self._arm(role, True, lambda p: policy.exit_press(code))
            else:
                self._arm(role, True, lambda p: policy.press(code))
        if cfg["mode"] == "count":
            return
        self._arm("guard", False, lambda p: policy.guard_press())
        if cfg["direction"] == "both":
            self._arm("exit_button", True, lambda p: policy.exit_press(record.EXIT_BUTTON))

    def _arm(self, role, needed, handler):
        """The IRQ of an input role's pin; a board without it: a CONFIG_ERROR when `needed`."""
        spec = self.pins[role]
        if spec is None:
            if needed:
                self.log(record.event(record.CONFIG_ERROR, 0, b"board." + role.encode()))
            return
        if spec[1]:  # active low: a switch to ground, held high by the pull-up
            pin = machine.Pin(spec[0], machine.Pin.IN, machine.Pin.PULL_UP)
            edge = machine.Pin.IRQ_FALLING
        else:
            pin = machine.Pin(spec[0], machine.Pin.IN)
            edge = machine.Pin.IRQ_RISING
        pin.irq(handler, edge)
        self.input_pins.append(pin)

    def shutdown(self):
        """Relay safe, scan stopped, presence visits and journal flushed."""
        self.outputs.safe()
        try:
            self.radio.pause()
            self.ble.active(False)
        except OSError:
            pass
        self.presence.close_all()
        self.journal.flush()


async def serve_host(app, **link_args):
    """The host link until MAINT or mpremote's break-in. gate.hostlink is loaded when the host
    first writes and forgotten, with bzcore.wire, once it has been quiet for its idle time: a
    gate no host talks to (a Wi-Fi gate at its door) keeps that heap (docs/esp32-notes.md,
    note 42). Ctrl-C is data all the while."""
    micropython.kbd_intr(-1)  # Ctrl-C on the line must not stop the gate
    reader = asyncio.StreamReader(sys.stdin.buffer)
    try:
        while True:
            first = await reader.read(1)  # sleeps until the host writes
            if not first:  # stdin closed (never on a board): do not spin
                await asyncio.sleep_ms(100)
                continue
            app.link_sessions += 1
            if await _host_session(app, first[0], link_args):
                return
            bootonly.forget(_LINK_MODULES)
    finally:
        micropython.kbd_intr(3)


async def _host_session(app, first, link_args):
    from gate.hostlink import HostLink  # here, not in serve_host: the link goes with this frame

    return await HostLink(app, **link_args).run(first)


def main():
    app = None
    try:
        app = App()
        asyncio.run(app.run())
        if app.fatal is not None:
            raise app.fatal
    except KeyboardInterrupt:  # Ctrl-C at a console: back to the REPL, relay safe
        if app is not None:
            app.shutdown()
    except Exception as e:  # noqa: BLE001 - the last line of defence: safe, counted, reset
        if app is not None:
            app.outputs.safe()
            app.log(record.event(record.CRASH, 0, type(e).__name__.encode()))
            app.journal.flush()
        crashes.note()
        time.sleep_ms(500)
        machine.reset()
