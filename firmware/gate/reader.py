"""The iPhone reader: Bluezone IDs of iPhones read over GATT, one connection at a time.

An iPhone does not put its ID in the advert (foreground, background and v1 iPhones alike), so
the radio's consumer asks for a read with want(). Reads run one at a time: the scan is paused,
the connect is cancelled with gap_connect(None) when it times out (docs/esp32-notes.md,
note 7), the characteristic is found by UUID over handles 1..0xFFFF (docs/esp32-notes.md,
note 8), and the value must be 12 bytes (v1: the 10-character name, decoded to its code). The
scan resumes after every read.

An ID read is cached by address until its ID slot ends (bzcore.ids.slot_window); an address
whose read failed, timed out or lacks the service is left alone for _DENY_MS. Reads never
starve scanning: after a read of d ms the next waits _READ_SPACING * d ms, so the scan keeps at
least _READ_SPACING / (_READ_SPACING + 1) of the time (6/7 with 6: a margin over 80 % for
the moments around each read).

on_id(key, ident, until_ms) is told of each ID, read or cached (key: address type + address).
"""

import time

import asyncio
import bluetooth
from micropython import const

from bzcore import adv, ids

_IRQ_PERIPHERAL_CONNECT = const(7)
_IRQ_PERIPHERAL_DISCONNECT = const(8)
_IRQ_GATTC_CHARACTERISTIC_RESULT = const(11)
_IRQ_GATTC_CHARACTERISTIC_DONE = const(12)
_IRQ_GATTC_READ_RESULT = const(15)
_IRQ_GATTC_READ_DONE = const(16)
_FAILED_CONNECT = const(0xFF)

# Characteristics (docs/protocol.md §1).
ID_CHAR = bluetooth.UUID("00004E56-73F5-4BC4-A12F-17D1AD07A689")
V1_NAME_CHAR = bluetooth.UUID("08590F7E-DB05-467E-8757-72F6FAEB13D4")
ID_BYTES = const(12)
_V1_NAME_BYTES = const(10)

_CONNECT_MS = const(1500)  # a background iPhone advertises about once a second
_STEP_MS = const(2000)  # discovery, read and disconnect each get this long
_DENY_MS = const(60000)
_READ_SPACING = const(6)
_QUEUE_MAX = const(8)
_TABLE_MAX = const(32)  # cache and deny-list entries
_SLOT_IDS = const(96)  # iPhones roll IDs every 900 s
_POLL_MS = const(5)
_CONNECT_GRACE_MS = const(300)  # the stack's own connect timeout reports first

# Outcomes, counted in stats().
OK = const(0)
TIMEOUT = const(1)
FAILED = const(2)
ABSENT = const(3)
_BAD_VALUE = const(4)


def _bounded_put(table, key, value, now_ms):
    """table[key] = (value, until_ms) with at most _TABLE_MAX entries: expired ones go first."""
    if key not in table and len(table) >= _TABLE_MAX:
        for k in [k for k, v in table.items() if time.ticks_diff(v[1], now_ms) <= 0]:
            del table[k]
        if len(table) >= _TABLE_MAX:
            del table[next(iter(table))]
    table[key] = value


def _live(table, key, now_ms):
    entry = table.get(key)
    if entry is None:
        return None
    if time.ticks_diff(entry[1], now_ms) <= 0:
        del table[key]
        return None
    return entry


class Reader:
    def __init__(self, ble, radio, clock_now, on_id):
        self.ble = ble
        self.radio = radio
        self.clock_now = clock_now  # () -> (unix seconds, valid)
        self.on_id = on_id
        self.queue = []  # [(addr_type, addr bytes, v1)]
        self.cache = {}  # type+addr -> (ident, until_ms)
        self.denied = {}  # type+addr -> (outcome, until_ms)
        self.outcomes = [0] * 5
        self.queue_drops = 0
        self.busy_ms = 0
        self._next_ms = time.ticks_ms()
        self._reset_state()

    def _reset_state(self):
        self._conn = None
        self._failed = False
        self._disconnected = False
        self._handle = None
        self._chars_done = False
        self._value = None
        self._read_done = False
        # A DONE with a non-zero status: the link dropped mid-procedure (its DISCONNECT may
        # come after the DONE), so a missing characteristic is a failure, not an absence.
        self._link_lost = False

    # ---- requests ------------------------------------------------------------------------

    def want(self, key, v1):
        """Read the ID of the iPhone at key (address type byte + address) unless it is cached
        (then on_id at once), denied or queued already."""
        key = bytes(key)
        now = time.ticks_ms()
        cached = _live(self.cache, key, now)
        if cached is not None:
            self.on_id(key, cached[0], cached[1])
            return
        if _live(self.denied, key, now) is not None:
            return
        for job in self.queue:
            if job[0] == key:
                return
        if len(self.queue) >= _QUEUE_MAX:
            self.queue_drops += 1
            return
        self.queue.append((key, v1))

    # ---- IRQ (via the radio's handler) ---------------------------------------------------

    def irq(self, event, data):
        if event == _IRQ_PERIPHERAL_CONNECT:
            self._conn = data[0]
        elif event == _IRQ_PERIPHERAL_DISCONNECT:
            if data[1] == _FAILED_CONNECT:
                self._failed = True
            self._disconnected = True
        elif event == _IRQ_GATTC_CHARACTERISTIC_RESULT:
            self._handle = data[2]
        elif event == _IRQ_GATTC_CHARACTERISTIC_DONE:
            self._chars_done = True
            self._link_lost = self._link_lost or data[1] != 0
        elif event == _IRQ_GATTC_READ_RESULT:
            self._value = bytes(data[2])
        elif event == _IRQ_GATTC_READ_DONE:
            self._read_done = True
            self._link_lost = self._link_lost or data[2] != 0

    # ---- the task ------------------------------------------------------------------------

    async def run(self, healthy):
        while True:
            healthy()
            wait = time.ticks_diff(self._next_ms, time.ticks_ms())
            if not self.queue or wait > 0:
                await asyncio.sleep_ms(min(max(wait, 50), 500))
                continue
            key, v1 = self.queue.pop(0)
            started = time.ticks_ms()
            self.radio.pause()
            try:
                outcome, ident = await self._read(key, v1)
            finally:
                self.radio.resume()
            took = time.ticks_diff(time.ticks_ms(), started)
            self.busy_ms += took
            self._next_ms = time.ticks_add(time.ticks_ms(), took * _READ_SPACING)
            self.outcomes[outcome] += 1
            now = time.ticks_ms()
            if ident is None:
                _bounded_put(self.denied, key, (outcome, time.ticks_add(now, _DENY_MS)), now)
            else:
                until = time.ticks_add(now, self._ms_to_slot_end())
                _bounded_put(self.cache, key, (ident, until), now)
                self.on_id(key, ident, until)

    def _ms_to_slot_end(self):
        t, valid = self.clock_now()
        if not valid:
            return ids.slot_seconds(_SLOT_IDS) * 1000  # at most one slot, wherever it started
        return (ids.slot_window(t, _SLOT_IDS)[1] - t) * 1000

    async def _until(self, done, ms):
        deadline = time.ticks_add(time.ticks_ms(), ms)
        while not done():
            if time.ticks_diff(deadline, time.ticks_ms()) <= 0:
                return False
            await asyncio.sleep_ms(_POLL_MS)
        return True

    async def _read(self, key, v1):
        """(outcome, ident or None) of one read of the iPhone at key (type byte + address)."""
        self._reset_state()
        ble = self.ble
        try:
            ble.gap_connect(key[0], key[1:], _CONNECT_MS)
        except OSError:
            return FAILED, None
        if not await self._until(lambda: self._conn is not None or self._disconnected,
                                 _CONNECT_MS + _CONNECT_GRACE_MS):
            try:
                ble.gap_connect(None)  # a pending connect blocks every later one
            except OSError:
                pass
            return TIMEOUT, None
        if self._conn is None:
            return (TIMEOUT if self._failed else FAILED), None
        conn = self._conn
        try:
            outcome, ident = await self._fetch(conn, V1_NAME_CHAR if v1 else ID_CHAR, v1)
        except OSError:
            outcome, ident = FAILED, None
        if not self._disconnected:
            try:
                ble.gap_disconnect(conn)
            except OSError:
                pass
            await self._until(lambda: self._disconnected, _STEP_MS)
        return outcome, ident

    async def _fetch(self, conn, uuid, v1):
        self.ble.gattc_discover_characteristics(conn, 1, 0xFFFF, uuid)
        if not await self._until(lambda: self._chars_done or self._disconnected, _STEP_MS):
            return TIMEOUT, None
        if self._handle is None:
            return (FAILED if self._disconnected or self._link_lost else ABSENT), None
        self.ble.gattc_read(conn, self._handle)
        if not await self._until(lambda: self._read_done or self._disconnected, _STEP_MS):
            return TIMEOUT, None
        value = self._value
        if value is None:
            return FAILED, None
        if v1:
            code = adv.decode_v1_name(value) if len(value) == _V1_NAME_BYTES else None
            if code is None:
                return _BAD_VALUE, None
            return OK, code.encode()
        if len(value) != ID_BYTES:
            return _BAD_VALUE, None
        return OK, value

    def stats(self):
        """reads: [ok, timeout, failed, absent, bad_value] counts."""
        return {"reads": self.outcomes, "read_drops": self.queue_drops, "read_ms": self.busy_ms}
