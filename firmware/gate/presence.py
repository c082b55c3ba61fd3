"""Who is at the gate: a bounded table of Bluezone devices, their RSSI and their visits.

A device is known by a 13-byte key: a type byte, then 12 bytes (KEY_ID: the Bluezone ID, or a
v1 code padded with zeros; KEY_ADDR: address type and address, zero-padded, for an iPhone
whose ID comes from a GATT read, and for iBeacons). The radio's ring holds adverts in this
form; keys live in one preallocated bytearray and are found with bytearray.find (C speed,
nothing allocated per advert). The table holds `size` devices (default 64); a new device in a full
table evicts the least recently seen one, which is counted.

RSSI is smoothed (exponential, fixed point x16, faster for devices that advertise seldom). A
device is near when the smoothed RSSI reaches near_rssi and stays near until it falls 6 dB
below. A visit ends when the device has not been heard for VISIT_GAP_MS, when its entry is
evicted, or when its ID changes (a new ID slot): each visit of at least MIN_ADVERTS adverts
gives one SIGHTING through on_sighting(record); shorter ones (a flood of random IDs would fill
the journal) are counted.
"""

import time

from micropython import const

from bzcore import record

KEY_ID = const(1)
KEY_ADDR = const(2)
KEY_BYTES = const(13)
HYSTERESIS_DB = const(6)
VISIT_GAP_MS = const(30000)
ASK_MS = const(2000)
MIN_ADVERTS = const(2)  # a visit of one advert is noise (or a flood): counted, not recorded
_SMOOTH_SHIFT = const(2)  # each reading moves the average a quarter of the way...
_SLOW_MS = const(500)  # ...or half of it when readings come this far apart or more
_STALE_MS = const(3000)  # a reading after this long a silence starts the average afresh
_NO_ENTRY = const(-1)


def _not_tapping(entry):
    pass


class Presence:
    def __init__(self, near_rssi, on_sighting, size=64):
        """on_sighting(record tuple): a visit ended."""
        self.size = size
        self.set_near(near_rssi)
        self.keys = bytearray(KEY_BYTES * size)  # type 0: a free entry
        self.ident = bytearray(12 * size)  # an address-keyed device's ID, once read
        self.has_id = bytearray(size)
        self.platform = bytearray(size)
        self.source = bytearray(size)
        self.smooth = [0] * size  # RSSI x16
        self.max_rssi = [0] * size
        self.count = [0] * size
        self.first_seen = [0] * size  # Unix seconds
        self.last_seen = [0] * size  # Unix seconds
        self.last_ms = [0] * size  # ticks_ms of the last advert
        self.near_ms = [0] * size  # ticks_ms when last heard near
        self.asked_ms = [0] * size  # ticks_ms when the reader was last asked for the ID
        self.id_until = [0] * size  # ticks_ms when a read ID's slot ends
        self.near = bytearray(size)
        self.was_near = bytearray(size)  # near at some point of this visit
        self.used = 0
        self.evictions = 0
        self.glimpses = 0  # visits too short to record
        self.on_sighting = on_sighting
        self.on_near = _not_tapping  # (entry): a device entered the near zone

    def set_near(self, near_rssi):
        self.near_enter = near_rssi << 4
        self.near_leave = (near_rssi - HYSTERESIS_DB) << 4

    # ---- lookup --------------------------------------------------------------------------

    def find(self, key):
        """The entry holding a 13-byte key, or _NO_ENTRY."""
        keys = self.keys
        at = keys.find(key)
        while at >= 0 and at % KEY_BYTES:
            at = keys.find(key, at + 1)  # a match straddling two entries
        return _NO_ENTRY if at < 0 else at // KEY_BYTES

    def _free_entry(self, now_ms):
        keys = self.keys
        if self.used < self.size:
            i = 0
            while keys[i * KEY_BYTES]:
                i += 1
            self.used += 1
            return i
        oldest = 0
        age = -1
        last = self.last_ms
        for i in range(self.size):
            a = time.ticks_diff(now_ms, last[i])
            if a > age:
                age = a
                oldest = i
        self.evictions += 1
        self._close(oldest)
        self.used += 1
        return oldest

    # ---- updates -------------------------------------------------------------------------

    def seen(self, key, rssi, platform, now_ms, now_s):
        """One advert of the device with this 13-byte key; returns its entry. Allocates
        nothing."""
        i = self.find(key)
        if i == _NO_ENTRY:
            i = self._free_entry(now_ms)
            o = i * KEY_BYTES
            self.keys[o:o + KEY_BYTES] = key
            self.has_id[i] = key[0] == KEY_ID
            self.asked_ms[i] = time.ticks_add(now_ms, -ASK_MS)
            self.platform[i] = platform
            self.source[i] = record.ADV
            self.smooth[i] = rssi << 4
            self.max_rssi[i] = rssi
            self.count[i] = 0
            self.first_seen[i] = now_s
            self.near[i] = 0
            self.was_near[i] = 0
        else:
            s = self.smooth[i]
            gap = time.ticks_diff(now_ms, self.last_ms[i])
            if gap >= _STALE_MS:
                self.smooth[i] = rssi << 4  # after a silence the old average says nothing
            else:  # a slow advertiser (an iPhone in the background) must not lag behind
                self.smooth[i] = s + (((rssi << 4) - s) >> (_SMOOTH_SHIFT if gap < _SLOW_MS else 1))
            if rssi > self.max_rssi[i]:
                self.max_rssi[i] = rssi
        self.count[i] += 1
        self.last_seen[i] = now_s
        self.last_ms[i] = now_ms
        s = self.smooth[i]
        if self.near[i]:
            if s < self.near_leave:
                self.near[i] = 0
            else:
                self.near_ms[i] = now_ms
        elif s >= self.near_enter:
            self.near[i] = 1
            self.was_near[i] = 1
            self.near_ms[i] = now_ms
            self.on_near(i)
        return i

    def needs_read(self, i, now_ms):
        """True (at most once per ASK_MS) while an iPhone's ID is unknown or past its slot."""
        if self.has_id[i] and time.ticks_diff(self.id_until[i], now_ms) > 0:
            return False
        if time.ticks_diff(now_ms, self.asked_ms[i]) < ASK_MS:
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

    def key_of(self, i):
        """A stable key for anti-passback: the ID, or the address while unread."""
        o = i * KEY_BYTES
        return bytes(self.keys[o:o + KEY_BYTES])

    def rssi(self, i):
        return self.smooth[i] >> 4

    def candidates(self, now_ms, within_ms):
        """Entries near within the last `within_ms`, strongest first."""
        found = []
        keys = self.keys
        for i in range(self.size):
            if keys[i * KEY_BYTES] and self.was_near[i] \
                    and time.ticks_diff(now_ms, self.near_ms[i]) <= within_ms:
                found.append(i)
        found.sort(key=lambda i: -self.smooth[i])
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
