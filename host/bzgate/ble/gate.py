"""`bzgate ble gate`: a laptop or Raspberry Pi scanning as a gate does, writing a gate's journal.

Adverts are classified by bzcore.adv. A visit is kept per device as gate/presence.py keeps it:
by its ID when the advert carries one, by its address for an iPhone (its ID read over GATT) and
an iBeacon; it ends when the device is not heard for VISIT_GAP_S, when an iPhone's read gives a
new ID, or when the run ends. A visit of MIN_ADVERTS adverts or more becomes one SIGHTING.
iPhones are read one at a time with BleakClient (docs/protocol.md §3.4: the Bluezone
characteristic, 10 s timeout); a read ID is kept until its slot ends, and an iPhone whose read
failed is not tried again for DENY_S.

The records are the board's (bzcore.record): seq, the MAC chain with this host gate's own
32-byte key, kept in the host key store under the board id "ble:<gate id>" (made on the first
run, with a KEY_CREATED event), a BOOT event at each start. They go straight into the database
through bzgate.store, as `bzgate collect` stores a board's, once a second and at the end.
"""

import asyncio
import os
import time
from collections import deque

from bleak.backends.device import BLEDevice
from bleak.backends.scanner import AdvertisementData
from bleak.exc import BleakError

from bzcore import adv, ids, record, recordread
from bzgate import store
from bzgate.ble import radio as bleradio
from bzgate.ble.advert import advert_bytes
from bzgate.errors import UserError
from bzgate.keys import KEY_BYTES, KeyStore

BOARD_PREFIX = "ble:"
VISIT_GAP_S = 30  # gate/presence.py VISIT_GAP_MS
MIN_ADVERTS = 2  # gate/presence.py MIN_ADVERTS: one advert is noise, counted as a glimpse
READ_TIMEOUT_S = 10.0  # docs/protocol.md §3.4
DENY_S = 300  # an iPhone whose read failed is left alone this long
MAX_IDS = 96  # the slots of today's apps: a read ID is kept until its slot ends
FLUSH_S = 1.0
IOS_CHAR = "00004e56-73f5-4bc4-a12f-17d1ad07a689"  # docs/protocol.md §3.1
V1_CHAR = "08590f7e-db05-467e-8757-72f6faeb13d4"  # docs/protocol.md §2.6
_V1_KINDS = (adv.KIND_IOS_V1, adv.KIND_IOS_V1_BACKGROUND)


def board_id_of(gate_id: str) -> str:
    return (BOARD_PREFIX + gate_id).lower()


class Journal:
    """This host gate's journal, continued from what the database holds."""

    def __init__(self, conn, keys: KeyStore, gate_id: str, site: str, now: int):
        self.conn, self.gate_id, self.site = conn, gate_id, site
        self.board_id = board_id_of(gate_id)
        self.key = keys.get(self.board_id)
        with store.transaction(conn):
            store.begin_journal(conn, self.board_id, gate_id, site, "bzgate-ble", now)
        self.seq, self.mac = store.journal_position(conn, self.board_id)
        self.pending: list[bytes] = []
        self.boot_id = conn.execute("SELECT count(*) FROM events WHERE board_id = ? AND code = ?",
                                    (self.board_id, record.BOOT)).fetchone()[0] + 1
        if self.key is None:
            if self.seq:
                raise UserError(f"the database holds records of {self.board_id} but the key store "
                                f"{keys.path} has no key for it: restore the key store from your "
                                "backup (a new key would break its chain)")
            self.key = os.urandom(KEY_BYTES)
            keys.put(self.board_id, self.key, gate_id=gate_id, site=site)
            self.add(record.event(record.KEY_CREATED), now)
        self.stored = {"records": 0, "sightings": 0, "events": 0}
        self.add(record.event(record.BOOT), now)

    def add(self, kind_payload: tuple, now: int) -> None:
        kind, payload = kind_payload
        raw = record.encode(self.key, self.mac, self.seq, kind, now, True, self.boot_id,
                            payload)
        self.pending.append(raw)
        self.mac, self.seq = record.mac_of(raw), self.seq + 1

    def flush(self, now: int) -> None:
        """Store the records made since the last flush, in one transaction."""
        if not self.pending:
            return
        with store.transaction(self.conn):
            counts = store.store_records(self.conn, self.board_id, self.gate_id, self.site,
                                         self.pending, now)
        for name in ("sightings", "events"):
            self.stored[name] += counts[name]
        self.stored["records"] += len(self.pending)
        self.pending = []


class Visit:
    def __init__(self, ident, platform: int, now: int, rssi: int):
        self.ident, self.platform, self.source = ident, platform, record.ADV
        self.first_seen = self.last_seen = now
        self.max_rssi, self.count = rssi, 0

    def sighting(self) -> tuple:
        return record.sighting(self.ident, self.first_seen, self.last_seen, self.max_rssi,
                               self.count, self.platform, self.source)


def _padded(code: str) -> bytes:
    """A v1 code as the board keeps it: its 6 bytes, zero-padded to 12."""
    return code.encode().ljust(ids.ID_BYTES, b"\0")


class HostGate:
    """Visits and iPhone reads. on_advert is the scanner's callback; run() reads iPhones."""

    def __init__(self, journal: Journal, radio: bleradio.Radio, clock=time.time):
        self.journal, self.radio, self.clock = journal, radio, clock
        self.visits: dict[str, Visit] = {}
        self.devices: dict[str, BLEDevice] = {}
        self.read_ids: dict[str, tuple[bytes, int]] = {}  # address -> (ID, until)
        self.denied: dict[str, float] = {}  # address -> until
        self.queue: deque[tuple[str, str]] = deque()  # (address, characteristic)
        self.asking: set[str] = set()  # addresses queued or being read
        self.wake = asyncio.Event()
        self.stats = {"adverts": 0, "bluezone": 0, "glimpses": 0, "reads": 0, "read_failures": 0}

    def on_advert(self, device: BLEDevice, data: AdvertisementData) -> None:
        self.stats["adverts"] += 1
        found = adv.classify(*advert_bytes(data))
        if found.kind == adv.KIND_NONE:
            return
        self.stats["bluezone"] += 1
        now = int(self.clock())
        platform = recordread.PLATFORM_CODES.get(found.platform, record.PLATFORM_UNKNOWN)
        if isinstance(found.id, bytes):
            key, ident = found.id.hex(), found.id
        elif isinstance(found.id, str):
            key, ident = found.id, _padded(found.id)
        else:
            key, ident = device.address, None
        visit = self.visits.get(key)
        if visit is None:
            visit = self.visits[key] = Visit(ident, platform, now, data.rssi)
        visit.count += 1
        visit.last_seen = now
        visit.max_rssi = max(visit.max_rssi, data.rssi)
        if found.needs_gatt:
            self._ask(device, visit, found.kind, now)

    def _ask(self, device: BLEDevice, visit: Visit, kind: str, now: int) -> None:
        address = device.address
        known = self.read_ids.get(address)
        if known is not None and now < known[1]:
            self._learn(address, known[0], now)
            return
        if self.denied.get(address, 0) > now or address in self.asking:
            return
        self.asking.add(address)
        self.devices[address] = device
        self.queue.append((address, V1_CHAR if kind in _V1_KINDS else IOS_CHAR))
        self.wake.set()

    def _learn(self, address: str, ident: bytes, now: int) -> None:
        visit = self.visits.get(address)
        if visit is None or visit.ident == ident:
            return
        if visit.ident is not None:  # a new slot's ID: a new visit
            self._end(visit)
            visit = self.visits[address] = Visit(ident, visit.platform, now, visit.max_rssi)
        visit.ident, visit.source = ident, record.GATT

    def _end(self, visit: Visit) -> None:
        if visit.count < MIN_ADVERTS:
            self.stats["glimpses"] += 1
            return
        self.journal.add(visit.sighting(), int(self.clock()))

    def expire(self) -> None:
        now = int(self.clock())
        for key, visit in list(self.visits.items()):
            if now - visit.last_seen >= VISIT_GAP_S:
                self._end(self.visits.pop(key))

    def close_all(self) -> None:
        for visit in self.visits.values():
            self._end(visit)
        self.visits.clear()

    async def read_ids_forever(self) -> None:
        """Read the queued iPhones, one at a time."""
        while True:
            if not self.queue:
                self.wake.clear()
                await self.wake.wait()
                continue
            address, char = self.queue.popleft()
            try:
                ident = await self._read(self.devices.pop(address), char)
            finally:
                self.asking.discard(address)
            now = int(self.clock())
            if ident is None:
                self.stats["read_failures"] += 1
                self.denied[address] = now + DENY_S
                continue
            self.stats["reads"] += 1
            self.read_ids[address] = (ident, ids.slot_window(now, MAX_IDS)[1])
            self._learn(address, ident, now)

    async def _read(self, device: BLEDevice, char: str) -> bytes | None:
        try:
            async with bleradio.client(self.radio, device, READ_TIMEOUT_S) as client:
                value = bytes(await asyncio.wait_for(client.read_gatt_char(char), READ_TIMEOUT_S))
        except (BleakError, TimeoutError, OSError):
            return None
        if char == V1_CHAR:
            code = adv.decode_v1_name(value)
            return _padded(code) if code else None
        return value if len(value) == ids.ID_BYTES else None

    async def run(self, seconds: float | None) -> None:
        """Scan and read for `seconds` (None: until cancelled); whatever ends it, every visit
        under way is closed and every record stored."""
        reader = asyncio.get_running_loop().create_task(self.read_ids_forever())
        flusher = asyncio.get_running_loop().create_task(self._flush_forever())
        try:
            await bleradio.listen(self.radio, self.on_advert, seconds)
        finally:
            for task in (reader, flusher):
                task.cancel()
            self.close_all()
            self.journal.flush(int(self.clock()))

    async def _flush_forever(self) -> None:
        while True:
            await asyncio.sleep(FLUSH_S)
            self.expire()
            self.journal.flush(int(self.clock()))
