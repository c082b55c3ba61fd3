"""Who is at the gate: a bounded table of Bluezone devices, their RSSI and their visits.

A device is known by a 13-byte key: a type byte, then 12 bytes (KEY_ID: the Bluezone ID, or a
v1 code padded with zeros; KEY_ADDR: address type and address, zero-padded, for an iPhone
whose ID comes from a GATT read, and for iBeacons). The radio's ring holds adverts in this
form; keys live in one preallocated bytearray and are found by viper code that compares a
one-byte hash of each first (nothing allocated per advert). The table holds `size` devices
(default 64); a new device in a full table evicts the least recently seen one, which is counted.
The radio drains its ring with update_known(): one viper call updates the known devices whose
adverts change nothing a listener is told of, in place in the table's arrays, and hands the
rest to seen() (docs/esp32-notes.md, note 41).

RSSI is smoothed (exponential, fixed point x16, faster for devices that advertise seldom). A
device is near when the smoothed RSSI reaches near_rssi and stays near until it falls 6 dB
below. A device is at the scanner ("near now", what a decision asks) while it was heard at or
above near_rssi within NEAR_NOW_MS and its average has not fallen 6 dB below since: a phone
held to the scanner reads well above near_rssi, one a step behind it below (sim/air_radio.py
has the figures). on_strong(entry)
tells the policy when a device comes to the scanner, and when an iPhone there gets its ID.
admit(entry) marks the device that opened the gate; the mark stays with the entry whether it
is known by address or, after a read, by ID. A visit ends when the device has not been heard for VISIT_GAP_MS, when its entry is
evicted, or when its ID changes (a new ID slot): each visit of at least MIN_ADVERTS adverts
gives one SIGHTING through on_sighting(record); shorter ones (a flood of random IDs would fill
the journal) are counted.
"""

import time
from array import array

import micropython
from micropython import const

from bzcore import record

KEY_ID = const(1)
KEY_ADDR = const(2)
KEY_BYTES = const(13)
_HYSTERESIS_DB = const(6)
VISIT_GAP_MS = const(30000)
_ASK_MS = const(2000)
NEAR_NOW_MS = const(1500)
MIN_ADVERTS = const(2)  # a visit of one advert is noise (or a flood): counted, not recorded
_SMOOTH_SHIFT = const(2)  # each reading moves the average a quarter of the way...
_SLOW_MS = const(500)  # ...or half of it when readings come this far apart or more
_STALE_MS = const(3000)  # a reading after this long a silence starts the average afresh
_NO_ENTRY = const(-1)
ASK_READER = const(0x10000)  # update_known(): a known device's advert, updated, for the reader


# Ticks wrap at _TICKS_MAX + 1, a power of two (the stubs call ticks opaque: hence the ignore).
_TICKS_MAX = time.ticks_add(0, -1)  # pyright: ignore[reportArgumentType]
_ticks_diff = time.ticks_diff  # one global lookup on the hot path, not two


def _nobody_listens(entry):
    pass


# ptr8 is a viper built-in that the ESP32 stubs do not describe: hence the pyright ignores.
@micropython.viper
def _find(keys, hashes, key, size: int) -> int:
    """The entry of `keys` (size entries of KEY_BYTES) equal to `key`, or _NO_ENTRY. Each entry's
    key has a one-byte hash in `hashes`, compared first (IDs may share all but a byte or two);
    the probe key's hash is left in hashes[size], for an entry it goes into."""
    table = ptr8(keys)  # pyright: ignore[reportUndefinedVariable]
    h = ptr8(hashes)  # pyright: ignore[reportUndefinedVariable]
    k = ptr8(key)  # pyright: ignore[reportUndefinedVariable]
    mix = 0
    j = 0
    while j < KEY_BYTES:
        mix = (mix * 31 + k[j]) & 0xFF
        j += 1
    h[size] = mix
    i = 0
    at = 0
    while i < size:
        if h[i] == mix:
            j = 0
            while j < KEY_BYTES and table[at + j] == k[j]:
                j += 1
            if j == KEY_BYTES:
                return i
        i += 1
        at += KEY_BYTES
    return _NO_ENTRY


@micropython.viper
def _oldest(last_ms, now_ms: int, size: int, ticks_max: int) -> int:
    """The entry heard longest ago: the largest time.ticks_diff(now_ms, last_ms[i])."""
    heard = ptr32(last_ms)  # pyright: ignore[reportUndefinedVariable]
    half = (ticks_max >> 1) + 1
    oldest = 0
    age = -1
    i = 0
    while i < size:
        a = ((now_ms - int(heard[i]) + half) & ticks_max) - half  # time.ticks_diff()
        if a > age:
            age = a
            oldest = i
        i += 1
    return oldest


@micropython.viper
def update_known(hot, ring, now_ms: int, now_s: int, first_read: int) -> int:
    """Presence.seen() for the ring's adverts (gate.radio.Ring) from devices already in the table
    whose advert changes nothing a listener is told of: each updated in place and released, as
    seen() would. Returns -1 once the ring is empty, else at the first advert seen() must take (a
    new device, one coming near or to the scanner): its slot; or, for one of kind code first_read
    or above, updated but not released, ASK_READER | entry << 8 | slot (the ring and the table
    hold under 256). One call for a batch: the frame and the pointers are paid once."""
    head = int(ring.head)
    t = int(ring.tail)
    if t == head:
        return -1
    find = hot[14]  # _find, handed in: no global read (docs/esp32-notes.md, note 41)
    smooth = ptr16(hot[2])  # pyright: ignore[reportUndefinedVariable]
    max_rssi = ptr16(hot[3])  # pyright: ignore[reportUndefinedVariable]
    count = ptr32(hot[4])  # pyright: ignore[reportUndefinedVariable]
    last_seen = ptr32(hot[5])  # pyright: ignore[reportUndefinedVariable]
    last_ms = ptr32(hot[6])  # pyright: ignore[reportUndefinedVariable]
    near_ms = ptr32(hot[7])  # pyright: ignore[reportUndefinedVariable]
    strong_ms = ptr32(hot[8])  # pyright: ignore[reportUndefinedVariable]
    strong = ptr8(hot[9])  # pyright: ignore[reportUndefinedVariable]
    near = ptr8(hot[10])  # pyright: ignore[reportUndefinedVariable]
    limits = ptr16(hot[11])  # pyright: ignore[reportUndefinedVariable]
    size = int(hot[12])
    near_enter = (int(limits[0]) ^ 0x8000) - 0x8000  # int16, as stored
    near_leave = (int(limits[1]) ^ 0x8000) - 0x8000
    slots = ring.keys
    ring_rssi = ptr8(ring.rssi)  # pyright: ignore[reportUndefinedVariable]
    kinds = ptr8(ring.kind)  # pyright: ignore[reportUndefinedVariable]
    n = int(ring.size)
    ticks_max = int(hot[13])
    half = (ticks_max >> 1) + 1
    while t != head:
        e = int(find(hot[0], hot[1], slots[t], size))
        if e == _NO_ENTRY:
            break
        rssi = (int(ring_rssi[t]) ^ 0x80) - 0x80
        gap = ((now_ms - int(last_ms[e]) + half) & ticks_max) - half  # time.ticks_diff()
        if gap >= _STALE_MS:
            s = rssi << 4
        else:
            s = (int(smooth[e]) ^ 0x8000) - 0x8000
            s += ((rssi << 4) - s) >> (_SMOOTH_SHIFT if gap < _SLOW_MS else 1)
        if s >= near_enter and not (  # seen() would call on_strong() or on_near()
                near[e] and strong[e]
                and ((now_ms - int(strong_ms[e]) + half) & ticks_max) - half <= NEAR_NOW_MS):
            break
        if rssi > (int(max_rssi[e]) ^ 0x8000) - 0x8000:
            max_rssi[e] = rssi
        smooth[e] = s
        count[e] = int(count[e]) + 1
        last_seen[e] = now_s
        last_ms[e] = now_ms
        if s >= near_enter:
            strong_ms[e] = now_ms
            near_ms[e] = now_ms
        elif near[e]:
            if s < near_leave:
                near[e] = 0
            else:
                near_ms[e] = now_ms
        if int(kinds[t]) >= first_read:  # updated; the caller asks the reader and releases it
            ring.tail = t
            return ASK_READER | e << 8 | t
        t += 1
        if t == n:
            t = 0
    ring.tail = t
    return -1 if t == head else t


class Presence:
    def __init__(self, near_rssi, on_sighting, size=64):
        """on_sighting(record tuple): a visit ended."""
        self.size = size
        self._limits = array("h", bytes(4))
        self.set_near(near_rssi)
        self.keys = bytearray(KEY_BYTES * size)  # type 0: a free entry
        self.hashes = bytearray(size + 1)  # _find()'s
        self.ident = bytearray(12 * size)  # an address-keyed device's ID, once read
        self.has_id = bytearray(size)
        self.platform = bytearray(size)
        self.source = bytearray(size)
        # What update_known() reads and writes: arrays, for viper code.
        self.smooth = array("h", bytes(2 * size))  # RSSI x16
        self.max_rssi = array("h", bytes(2 * size))
        self.count = array("I", bytes(4 * size))
        self.first_seen = [0] * size  # Unix seconds
        self.last_seen = array("I", bytes(4 * size))  # Unix seconds
        self.last_ms = array("I", bytes(4 * size))  # ticks_ms of the last advert
        self.near_ms = array("I", bytes(4 * size))  # ticks_ms when last heard near
        self.strong_ms = array("I", bytes(4 * size))  # ticks_ms when last heard >= near_rssi
        self.strong = bytearray(size)  # heard so at least once in this entry's life
        self.admitted_ms = [0] * size  # ticks_ms when this device last opened the gate
        self.admitted = bytearray(size)  # opened it at least once in this entry's life
        self.asked_ms = [0] * size  # ticks_ms when the reader was last asked for the ID
        self.id_until = [0] * size  # ticks_ms when a read ID's slot ends
        self.near = bytearray(size)
        self.was_near = bytearray(size)  # near at some point of this visit
        self.hot = (self.keys, self.hashes, self.smooth, self.max_rssi, self.count,
                    self.last_seen, self.last_ms, self.near_ms, self.strong_ms, self.strong,
                    self.near, self._limits, size, _TICKS_MAX, _find)
        self.used = 0
        self.evictions = 0
        self.glimpses = 0  # visits too short to record
        self.on_sighting = on_sighting
        self.on_near = _nobody_listens  # (entry): a device entered the near zone
        self.on_strong = _nobody_listens  # (entry): a device came to the scanner, or got its ID

    def set_near(self, near_rssi):
        self.near_enter = near_rssi << 4
        self.near_leave = (near_rssi - _HYSTERESIS_DB) << 4
        self._limits[0] = self.near_enter  # for update_known()
        self._limits[1] = self.near_leave

    # ---- lookup --------------------------------------------------------------------------

    def find(self, key):
        """The entry holding a 13-byte key, or _NO_ENTRY."""
        return _find(self.keys, self.hashes, key, self.size)

    def _free_entry(self, now_ms):
        keys = self.keys
        if self.used < self.size:
            i = 0
            while keys[i * KEY_BYTES]:
                i += 1
            self.used += 1
            return i
        oldest = _oldest(self.last_ms, now_ms, self.size, _TICKS_MAX)
        self.evictions += 1
        self._close(oldest)
        self.used += 1
        return oldest

    # ---- updates -------------------------------------------------------------------------

    def seen(self, key, rssi, platform, now_ms, now_s):
        """One advert of the device with this 13-byte key; returns its entry. Allocates nothing
        but its frame (docs/esp32-notes.md, note 39): the scan path takes known devices with
        update_known(), and only new devices and those a listener is told of come here."""
        i = _find(self.keys, self.hashes, key, self.size)
        smooth = self.smooth
        last_ms = self.last_ms
        if i == _NO_ENTRY:
            i = self._free_entry(now_ms)
            o = i * KEY_BYTES
            self.keys[o:o + KEY_BYTES] = key
            self.hashes[i] = self.hashes[self.size]  # the key's, left there by _find()
            self.has_id[i] = key[0] == KEY_ID
            self.asked_ms[i] = time.ticks_add(now_ms, -_ASK_MS)
            self.platform[i] = platform
            self.source[i] = record.ADV
            s = rssi << 4
            self.max_rssi[i] = rssi
            self.count[i] = 0
            self.first_seen[i] = now_s
            self.near[i] = 0
            self.was_near[i] = 0
            self.strong[i] = 0
            self.admitted[i] = 0
        else:
            s = smooth[i]
            gap = _ticks_diff(now_ms, last_ms[i])
            if gap >= _STALE_MS:
                s = rssi << 4  # after a silence the old average says nothing
            else:  # a slow advertiser (an iPhone in the background) must not lag behind
                s += ((rssi << 4) - s) >> (_SMOOTH_SHIFT if gap < _SLOW_MS else 1)
            max_rssi = self.max_rssi
            if rssi > max_rssi[i]:
                max_rssi[i] = rssi
        smooth[i] = s
        self.count[i] += 1
        self.last_seen[i] = now_s
        last_ms[i] = now_ms
        near_enter = self.near_enter
        if s >= near_enter:
            arrived = not self.near_now(i, now_ms)
            self.strong[i] = 1
            self.strong_ms[i] = now_ms
            if arrived:
                self.on_strong(i)
        near = self.near
        if near[i]:
            if s < self.near_leave:
                near[i] = 0
            else:
                self.near_ms[i] = now_ms
        elif s >= near_enter:
            near[i] = 1
            self.was_near[i] = 1
            self.near_ms[i] = now_ms
            self.on_near(i)
        return i

    def needs_read(self, i, now_ms):
        """True (at most once per _ASK_MS) while an iPhone's ID is unknown or past its slot."""
        if self.has_id[i] and time.ticks_diff(self.id_until[i], now_ms) > 0:
            return False
        if time.ticks_diff(now_ms, self.asked_ms[i]) < _ASK_MS:
            return False
        self.asked_ms[i] = now_ms
        return True

    def learn(self, addr_key, ident, until_ms):
        """The reader's answer for an iPhone at addr_key (address type + address), if still
        in the table; a different ID than before starts a new visit."""
        key = bytes((KEY_ADDR,)) + bytes(addr_key) + bytes(KEY_BYTES - 1 - len(addr_key))
        i = self.find(key)
        if i == _NO_ENTRY:
            return
        self.id_until[i] = until_ms
        ident = bytes(ident) + bytes(12 - len(ident))  # a v1 code is zero-padded
        if self.has_id[i] and self.id_of(i) != ident:
            self._emit(i)
            self.count[i] = 0
            self.first_seen[i] = self.last_seen[i]
            self.max_rssi[i] = self.smooth[i] >> 4
        self.ident[i * 12:i * 12 + 12] = ident
        self.has_id[i] = 1
        self.source[i] = record.GATT
        if self.near_now(i, time.ticks_ms()):
            self.on_strong(i)  # a gate that requires IDs may decide now

    def shift_times(self, seconds):
        """The clock was just corrected by `seconds`: visits under way keep their true times
        (seen before the host set the clock, they were counted from 2000-01-01)."""
        for i in range(self.size):
            if self.keys[i * KEY_BYTES]:
                self.first_seen[i] += seconds
                self.last_seen[i] += seconds

    def expire(self, now_ms):
        """End the visits of devices not heard for VISIT_GAP_MS (the flush task calls this)."""
        keys = self.keys
        last = self.last_ms
        for i in range(self.size):
            if keys[i * KEY_BYTES] and time.ticks_diff(now_ms, last[i]) >= VISIT_GAP_MS:
                self._close(i)

    def close_all(self):
        for i in range(self.size):
            if self.keys[i * KEY_BYTES]:
                self._close(i)

    def _close(self, i):
        self._emit(i)
        self.keys[i * KEY_BYTES] = 0
        self.has_id[i] = 0
        self.near[i] = 0
        self.used -= 1

    def _emit(self, i):
        if self.count[i] < MIN_ADVERTS:
            self.glimpses += 1
            return
        self.on_sighting(record.sighting(
            self.id_of(i), self.first_seen[i], self.last_seen[i], self.max_rssi[i], self.count[i],
            self.platform[i], self.source[i]))

    # ---- queries -------------------------------------------------------------------------

    def id_of(self, i):
        """The entry's 12-byte ID (bytes) or None while an iPhone is unread."""
        o = i * KEY_BYTES
        if self.keys[o] == KEY_ID:
            return bytes(self.keys[o + 1:o + KEY_BYTES])
        if not self.has_id[i]:
            return None
        return bytes(self.ident[i * 12:i * 12 + 12])

    def address_of(self, i):
        """The 6-byte address of an entry known by address (an unread iPhone), else None."""
        o = i * KEY_BYTES
        if self.keys[o] != KEY_ADDR:
            return None
        return bytes(self.keys[o + 2:o + 8])

    def rssi(self, i):
        return self.smooth[i] >> 4

    def near_now(self, i, now_ms):
        """True while the entry was heard at or above near_rssi within NEAR_NOW_MS and its
        average has not fallen _HYSTERESIS_DB below since (a phone that stepped back, or one
        strong reading of a phone that stands back)."""
        return self.strong[i] and _ticks_diff(now_ms, self.strong_ms[i]) <= NEAR_NOW_MS \
            and self.smooth[i] >= self.near_leave

    def at_scanner(self, now_ms):
        """Entries near now, strongest first."""
        found = []
        keys = self.keys
        for i in range(self.size):
            if keys[i * KEY_BYTES] and self.near_now(i, now_ms):
                found.append(i)
        if len(found) > 1:
            found.sort(key=lambda i: -self.smooth[i])
        return found

    def admit(self, i, now_ms):
        self.admitted[i] = 1
        self.admitted_ms[i] = now_ms

    def admitted_within(self, i, now_ms, ms):
        """True when this entry's device opened the gate less than `ms` ago."""
        return self.admitted[i] and time.ticks_diff(now_ms, self.admitted_ms[i]) < ms

    def admitted_ids(self, now_ms, within_ms):
        """[(ID, ticks_ms it opened the gate)] of devices with a known ID admitted within
        `within_ms`."""
        found = []
        for i in range(self.size):
            if self.keys[i * KEY_BYTES] and self.has_id[i] \
                    and self.admitted_within(i, now_ms, within_ms):
                found.append((self.id_of(i), self.admitted_ms[i]))
        return found

    def counts(self, now_ms, within_ms):
        """(devices near now, devices in the table heard within `within_ms`)."""
        near = present = 0
        for i in range(self.size):
            if self.keys[i * KEY_BYTES]:
                if self.near[i]:
                    near += 1
                if time.ticks_diff(now_ms, self.last_ms[i]) <= within_ms:
                    present += 1
        return near, present
