"""The radio: continuous BLE scanning, the IRQ handler and the ring of Bluezone adverts.

The IRQ handler runs in the Bluetooth host task on ESP32 (docs/esp32-notes.md, notes 1 and 35):
it takes each advert's verdict in place on the memoryview it is given (bzcore.adv.verdict, viper
code on the board), copies a Bluezone one into a preallocated ring (the presence key: 12-byte
ID, v1 code, or address type and address; RSSI; kind code) with viper code too, and sets a
ThreadSafeFlag. Nothing is allocated but for a v1 iPhone's name, which classify() decodes. A
full ring drops the advert and counts it; any exception is counted, never raised
(docs/esp32-notes.md, note 2).

GATT events are passed on to a second handler (the iPhone reader). The scan is continuous
(interval == window), restarted after every GATT read and every `_RESTART_MS`; a scan that has
heard nothing for `_SILENT_MS` is restarted, and after `_MAX_RESTARTS` such restarts in a row the
BLE stack is switched off and on. Each recovery is reported through `on_recovery(code)`.

The radio also sends the gate's own adverts (gate.beacon decides what): non-connectable, at
`advertise(interval_us, data)`. NimBLE interleaves advertising events with the scan, and each
event (3 channels) takes the receiver away for about _ADV_EVENT_US (an estimate: three
21-23-byte PDUs at 1 Mbit/s with the channel switches and the controller's scheduling), so the
scan-time share in STATUS counts that time as not scanned.
"""

import time
from array import array

import asyncio
import micropython
from micropython import const

from bzcore import adv
from bzcore.adv import verdict
from bzcore.record import ANDROID, IOS
from gate.presence import ASK_READER, KEY_BYTES, KEY_ID, update_known

_IRQ_SCAN_RESULT = const(5)
_IRQ_SCAN_DONE = const(6)

# Kind codes in the ring: bzcore.adv's verdict codes 1-7 (V_IOS_V1_BACKGROUND is read over GATT
# as K_IOS_V1_READ). Up to _K_IOS_V1 the advert carries the ID; from FIRST_NEEDS_READ on the
# device is an iPhone read over GATT; iBeacons have no ID at all.
_K_ANDROID = const(1)
_K_ANDROID_V1 = const(2)
_K_IOS_V1 = const(3)
_K_IBEACON = const(4)
_K_IOS = const(5)
_K_IOS_BACKGROUND = const(6)
K_IOS_V1_READ = const(7)
FIRST_NEEDS_READ = const(5)
# gate.presence's KEY_ID, KEY_ADDR and KEY_BYTES, for viper code (it reads constants at compile
# time, and a global read costs every call: docs/esp32-notes.md, note 41).
_KEY_ID = const(1)
_KEY_ADDR = const(2)
_KEY_BYTES = const(13)
_ZEROS_AFTER_V1_CODE = bytes(6)
# The platform of each kind code (records' codes): v1 and rolling-ID iPhones are iOS.
_PLATFORM = bytes((0, ANDROID, ANDROID, IOS, ANDROID, IOS, IOS, IOS))

RING_SIZE = const(32)
_WAKE = const(2)  # Ring.push: the advert went into an empty ring
_SILENT_MS = const(60000)
_RESTART_MS = const(600000)
_MAX_RESTARTS = const(2)

_ADV_EVENT_US = const(3000)

# What on_recovery(code) is told (the app turns them into events).
SCAN_RESTART = const(1)
BLE_RESET = const(2)


def _v1_code_key(key, data):
    """A v1 iPhone with a name in its advert: True with the code the name hides written as the
    key, False when the name does not decode (the device is then known by its address, and the
    name read over GATT). Allocates; v1 is rare."""
    code = adv.classify(data[4]).id
    if code is None:
        return False
    key[0] = KEY_ID
    key[1:] = code.encode() + _ZEROS_AFTER_V1_CODE
    return True


class Ring:
    """Preallocated single-producer (IRQ) / single-consumer ring of Bluezone adverts.

    Each slot holds the device's presence key (gate.presence: a type byte, then the 12-byte
    ID, the v1 code or the address type and address, zero-padded) in a bytearray of its own,
    made once, and its RSSI and kind code. push() is viper code, called by the IRQ handler."""

    def __init__(self, size=RING_SIZE):
        self.size = size
        self.keys = [bytearray(KEY_BYTES) for _ in range(size)]
        self.rssi = array("b", bytes(size))
        self.kind = bytearray(size)
        self.head = 0  # next slot the IRQ writes
        self.tail = 0  # next slot the consumer reads
        self.drops = 0

    # ptr8 is a viper built-in the ESP32 stubs do not describe: hence the pyright ignores.
    @micropython.viper
    def push(self, data, found: int) -> int:
        """Copy in the advert of a _IRQ_SCAN_RESULT (data: addr_type, addr, adv_type, rssi,
        adv_data) whose verdict is `found` (not V_NONE): the slot's key is the ID or v1 code at
        its place in the advert, or the address type and address, zero-padded. Returns 0 (and
        counts it) when full, else _WAKE when the ring was empty (the consumer is waiting for
        it), else 1."""
        head = int(self.head)
        nxt = head + 1
        if nxt == int(self.size):
            nxt = 0
        tail = int(self.tail)
        if nxt == tail:
            self.drops = int(self.drops) + 1
            return 0
        key = self.keys[head]
        code = found & 0x0F  # adv.VERDICT_CODE
        if code == _K_IOS_V1 and not _v1_code_key(key, data):
            code = K_IOS_V1_READ
        if code != _K_IOS_V1:
            k = ptr8(key)  # pyright: ignore[reportUndefinedVariable]
            if code <= _K_ANDROID_V1:
                src = ptr8(data[4])  # pyright: ignore[reportUndefinedVariable]
                at = found >> 4  # adv.VERDICT_AT_SHIFT; the IRQ has no SCAN_RSP
                n = 12 if code == _K_ANDROID else 6
                k[0] = _KEY_ID
                o = 1
            else:
                src = ptr8(data[1])  # pyright: ignore[reportUndefinedVariable]
                at = 0
                n = 6
                k[0] = _KEY_ADDR
                k[1] = int(data[0])
                o = 2
                if code > K_IOS_V1_READ:
                    code = K_IOS_V1_READ
            j = 0
            while o < _KEY_BYTES:
                if j < n:
                    k[o] = src[at + j]
                else:
                    k[o] = 0
                j += 1
                o += 1
        rssi = ptr8(self.rssi)  # pyright: ignore[reportUndefinedVariable]
        rssi[head] = int(data[3])
        kinds = ptr8(self.kind)  # pyright: ignore[reportUndefinedVariable]
        kinds[head] = code
        self.head = nxt
        return _WAKE if head == tail else 1

    def pending(self):
        return self.head != self.tail

    def release(self, i):
        """The consumer is done with slot i, the ring's tail."""
        i += 1
        self.tail = 0 if i == self.size else i


class Radio:
    def __init__(self, ble, interval_us, window_us, gatt_handler, on_recovery, ring=None):
        """gatt_handler(event, data): the reader's part of the IRQ; on_recovery(code): a scan
        restart or BLE reset was needed."""
        self.ble = ble
        self.interval_us = interval_us
        self.window_us = window_us
        self.ring = ring or Ring()
        self.flag = asyncio.ThreadSafeFlag()
        self.gatt_handler = gatt_handler
        self.on_recovery = on_recovery
        self.adverts = 0  # every advert heard
        self.bluezone = 0  # Bluezone adverts put in the ring
        self.irq_errors = 0
        self.scanning = False
        self.paused = False  # a GATT read owns the radio
        self.restarts = 0
        self.resets = 0
        self._scan_ms = 0  # time spent scanning, for the scan-time share
        self._scan_since = 0
        self.adv_interval_us = 0  # 0: not advertising
        self._adv_ms = 0  # receiver time taken by advertising events so far
        self._adv_rem_us = 0
        self._adv_since = 0
        self._started = time.ticks_ms()
        self._last_result = self._started
        self._scan_started = self._started
        self._handler = self._irq  # bound once: the IRQ must not allocate

    # ---- IRQ -----------------------------------------------------------------------------

    # The defaults bind what the handler calls: no global lookups (docs/esp32-notes.md, note 41).
    @micropython.native  # its frame on the C stack (docs/esp32-notes.md, note 39)
    def _irq(self, event, data, _verdict=verdict, _len=len):
        try:
            if event == _IRQ_SCAN_RESULT:
                self.adverts += 1
                found = _verdict(data[4], None, _len)
                if found:
                    kept = self.ring.push(data, found)
                    if kept:
                        self.bluezone += 1
                        if kept == _WAKE:  # the consumer drains all there is once woken
                            self.flag.set()
            else:
                self._other_event(event, data)
        except BaseException:  # noqa: B036 - one escape would end BLE events for good
            self.irq_errors += 1

    def _other_event(self, event, data):
        """The IRQ's rarer events, in bytecode: native code is kept for the scan results."""
        if event == _IRQ_SCAN_DONE:
            self._stopped()
        else:
            self.gatt_handler(event, data)

    # ---- scan control --------------------------------------------------------------------

    def start(self):
        """BLE on (early, before the big allocations: docs/esp32-notes.md, note 10) and scanning."""
        self.ble.active(True)
        self.ble.irq(self._handler)
        self._scan()

    def _scan(self):
        if self.paused:
            return
        try:
            self.ble.gap_scan(0, self.interval_us, self.window_us)
        except OSError:
            pass  # EALREADY: a scan still runs
        if not self.scanning:
            self.scanning = True
            self._scan_since = time.ticks_ms()
        self._scan_started = time.ticks_ms()

    def _stopped(self):
        if self.scanning:
            self.scanning = False
            self._scan_ms += time.ticks_diff(time.ticks_ms(), self._scan_since)

    def pause(self):
        """Stop scanning for a GATT read (the connect would stop it anyway: docs/esp32-notes.md,
        note 6)."""
        self.paused = True
        try:
            self.ble.gap_scan(None)
        except OSError:
            pass
        self._stopped()

    def resume(self):
        """Scan again after a GATT read: a fresh scan, as docs/esp32-notes.md, note 6 asks."""
        self.paused = False
        self._scan()

    def restart(self):
        try:
            self.ble.gap_scan(None)
        except OSError:
            pass
        self._stopped()
        self._scan()

    def reset_ble(self):
        """BLE off and on: the last resort when restarting the scan brings nothing."""
        self._stopped()
        try:
            self.ble.active(False)
        except OSError:
            pass
        self.ble.active(True)
        self.ble.irq(self._handler)
        self._scan()

    def advertise(self, interval_us, data):
        """Advertise `data` (non-connectable) every interval_us; True when the stack took it.
        The data of the one advertising set is replaced; interval_us 0 stops advertising."""
        self._advertised_until(time.ticks_ms())
        try:
            self.ble.gap_advertise(interval_us or None, data, connectable=False)
        except OSError:  # BLE off (a reset under way): the next call tries again
            self.adv_interval_us = 0
            return False
        self.adv_interval_us = interval_us
        return True

    def _advertised_until(self, now):
        if self.adv_interval_us:
            us = (time.ticks_diff(now, self._adv_since) * _ADV_EVENT_US // (self.adv_interval_us // 1000)
                  + self._adv_rem_us)
            self._adv_ms += us // 1000
            self._adv_rem_us = us % 1000
        self._adv_since = now

    def scan_share_permille(self):
        """Of the time since start, how much was spent scanning (per mille), less the time
        advertising events took the receiver away."""
        now = time.ticks_ms()
        scanned = self._scan_ms
        if self.scanning:
            scanned += time.ticks_diff(now, self._scan_since)
        self._advertised_until(now)
        scanned -= self._adv_ms
        total = time.ticks_diff(now, self._started)
        return 1000 if total <= 0 else max(0, scanned) * 1000 // total

    def stats(self):
        return {"adverts": self.adverts, "bluezone": self.bluezone, "drops": self.ring.drops,
                "irq_errors": self.irq_errors, "restarts": [self.restarts, self.resets],
                "scan_permille": self.scan_share_permille()}

    # ---- the consumer --------------------------------------------------------------------

    def drain(self, presence, reader, now_ms, now_s):
        """Hand every advert in the ring to the presence table, and unread iPhones to the
        reader. Allocates nothing for a device already in the table."""
        ring = self.ring
        first_read = FIRST_NEEDS_READ if reader is not None else K_IOS_V1_READ + 1
        hot = presence.hot
        while True:
            i = update_known(hot, ring, now_ms, now_s, first_read)  # known devices, in place
            if i < 0:
                return
            code = ring.kind[i & 0xFF]
            if i >= ASK_READER:  # a known iPhone, updated: the reader may be due
                e = (i >> 8) & 0xFF
                i &= 0xFF
            else:
                e = presence.seen(ring.keys[i], ring.rssi[i], _PLATFORM[code], now_ms, now_s)
            if code >= FIRST_NEEDS_READ and reader is not None and presence.needs_read(e, now_ms):
                reader.want(ring.keys[i][1:8], code == K_IOS_V1_READ)  # address type + address
            ring.release(i)

    async def consume(self, presence, reader, clock_now, healthy):
        """The consumer task: woken by the IRQ's flag, at least every second."""
        while True:
            try:
                await asyncio.wait_for_ms(self.flag.wait(), 1000)
            except asyncio.TimeoutError:
                pass
            healthy()
            self.drain(presence, reader, time.ticks_ms(), clock_now()[0])

    # ---- the watch task ------------------------------------------------------------------

    async def watch(self, healthy, silent_ms=_SILENT_MS, period_ms=_RESTART_MS, tick_ms=1000):
        """Keep the scan alive: restart it when silent or due, reset BLE when that fails.

        healthy() is the supervisor's heartbeat for this task.
        """
        seen = self.adverts
        silent_restarts = 0
        while True:
            await asyncio.sleep_ms(tick_ms)
            healthy()
            now = time.ticks_ms()
            if self.adverts != seen:
                seen = self.adverts
                self._last_result = now
                silent_restarts = 0
            if self.paused:
                continue
            if time.ticks_diff(now, self._last_result) >= silent_ms:
                self._last_result = now
                if silent_restarts >= _MAX_RESTARTS:
                    silent_restarts = 0
                    self.resets += 1
                    self.reset_ble()
                    self._report(BLE_RESET)
                else:
                    silent_restarts += 1
                    self.restarts += 1
                    self.restart()
                    self._report(SCAN_RESTART)
            elif not self.scanning or time.ticks_diff(now, self._scan_started) >= period_ms:
                self.restart()  # routine (docs/esp32-notes.md, note 9), or one that ended by itself

    def _report(self, code):
        self.on_recovery(code)

