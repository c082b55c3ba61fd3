"""Everything that advertises in the simulated air: Bluezone phones per platform, other devices,
one-shot noise adverts, and boards' own beacons. Advert layouts follow docs/protocol.md §2 and
§9 (its raw examples).

Times: `t` is seconds since the scenario start; `start` (Unix seconds) turns it into UTC
time for rolling IDs. Each device gets its own seeded random.Random, so what it does does
not depend on what other devices or boards do.
"""

import hashlib
import math
import random
from collections import namedtuple

from bzcore import ids
from bzcore.advwalk import encode_v1_name
from bzsim.air.gatt import PROP_READ, Characteristic, GattServer, Service, standard_services
from bzsim.air.paths import Path, standing
from bzsim.air.radio import TX_OFFSET_DB, Shadowing

ADV_IND = 0
ADV_SCAN_IND = 2
ADV_NONCONN_IND = 3
SCAN_RSP = 4
ADDR_PUBLIC = 0
ADDR_RANDOM = 1

# 128-bit UUIDs in on-air order (docs/protocol.md §1).
IOS_SERVICE = bytes.fromhex("67A607ADD1172FA1C44BF573564E0000")
IOS_CHAR = bytes.fromhex("89A607ADD1172FA1C44BF573564E0000")
V1_ANDROID_SERVICE = bytes.fromhex("89A807ADD1172FA1C44BF573F4390AE2")
V1_IOS_SERVICE = bytes.fromhex("67A607ADD1172FA1C44BF573F4390AE2")
V1_IOS_CHAR = bytes.fromhex("D413EBFAF67257877E4605DB7E0F5908")

# Mean received power at 1 m on an ESP32 (dBm), calibrated in bzsim.air.radio (sources there):
# Android's TX_POWER_LOW is about -15 dBm nominal; iPhones advertise a few dB stronger. Each
# phone adds its own fixed offset within +-TX_OFFSET_DB.
POWER_1M = {"android": -66.5, "ios": -62.0, "other": -62.0, "board": -55.0}
ANDROID_INTERVAL_S = 0.100  # ADVERTISE_MODE_LOW_LATENCY
ANDROID_V1_INTERVAL_S = 1.000  # ADVERTISE_MODE_LOW_POWER
IOS_FOREGROUND_INTERVAL_S = 0.100  # estimate; iOS does not publish it
IOS_BACKGROUND_INTERVAL_S = 1.000  # estimate: backgrounded iPhones advertise far less often
ANDROID_CYCLE_S = 30.0  # background scheduler: 15 s advertising, 15 s off (docs/protocol.md §2.7)
ANDROID_ON_S = 15.0
ANDROID_OPEN_CYCLE_S = 65.0  # the app open (foreground, 3.0.4+): 60 s advertising, 5 s pause
ANDROID_OPEN_ON_S = 60.0
ADDRESS_PERIOD_S = (840.0, 960.0)  # random addresses rotate about every 15 minutes
ADV_DELAY_S = 0.010  # the Core spec's random advDelay added to every interval

Advert = namedtuple("Advert", "adv_type data resp")


def ad(ad_type: int, payload: bytes) -> bytes:
    return bytes((len(payload) + 1, ad_type)) + payload


FLAGS_ANDROID = ad(0x01, b"\x02")
FLAGS_IOS = ad(0x01, b"\x1a")


def device_rng(seed: int, name: str) -> random.Random:
    return random.Random(f"{seed}/{name}")


def visit_rng(seed: int, name: str) -> random.Random:
    """A phone's draws for its visit (where it stands, how long it takes) and its TX offset: a
    stream of its own, so they leave the device's other draws as they were."""
    return random.Random(f"{seed}/{name}/visit")


class RotatingAddress:
    """A resolvable-private-style random address redrawn every ~15 minutes, not slot-aligned."""

    def __init__(self, seed: int, name: str, rng: random.Random):
        self._prefix = f"{seed}/{name}/"
        self._period = rng.uniform(*ADDRESS_PERIOD_S)
        self._phase = rng.uniform(0, self._period)

    def at(self, t: float) -> bytes:
        epoch = math.floor((t + self._phase) / self._period)
        raw = bytearray(hashlib.sha256(f"{self._prefix}{epoch}".encode()).digest()[:6])
        raw[0] = (raw[0] & 0x3F) | 0x40  # top bits 01: resolvable private address
        return bytes(raw)


class Device:
    """A thing in the air. Subclasses say what it advertises and what its GATT server holds."""

    kind = "other"
    interval_s = 1.0
    connectable = True
    once = False  # a one-shot noise advert is emitted once and then gone

    def __init__(self, name: str, path: Path, power_1m: float, rng: random.Random):
        self.name = name
        self.path = path
        self.power_1m = power_1m
        self.rng = rng
        self.shadow = Shadowing(rng)
        self.gatt = None

    def address(self, t: float):
        """(addr_type, 6 address bytes) at time t."""
        raise NotImplementedError

    def advert(self, t: float):
        """The Advert sent at time t, or None while the device is not advertising."""
        raise NotImplementedError

    def first_advert_after(self, t: float) -> float:
        """Devices start advertising at unrelated moments: a random phase in one interval."""
        return t + self.rng.uniform(0, self.interval_s)

    def next_advert_after(self, t: float) -> float:
        return t + self.interval_s + self.rng.uniform(0, ADV_DELAY_S)


class Phone(Device):
    """A visitor's phone: walks a path, rotates its address, rolls its ID from a daily key."""

    def __init__(self, spec, path: Path, start: int, seed: int, gate: str):
        rng = device_rng(seed, spec.name)
        family = "ios" if spec.platform.startswith("ios") else spec.platform.split("-")[0]
        super().__init__(spec.name, path, POWER_1M.get(family, POWER_1M["other"]), rng)
        self.visit_rng = visit_rng(seed, spec.name)
        self.tx_offset_db = self.visit_rng.uniform(-TX_OFFSET_DB, TX_OFFSET_DB)
        self.power_1m += self.tx_offset_db
        self.spec = spec
        self.platform = spec.platform
        self.gate = gate
        self.start = start
        self._address = RotatingAddress(seed, spec.name, rng)
        self._slot_id = (None, None)  # ((days, slot), the ID of that slot)
        self.visitor = None  # its bzsim.air.visitors.Visitor when it queues at its gate

    def app(self, t: float) -> str:
        """The Bluezone app's state at t: "open" (foreground), "background", or "none"."""
        return "none"

    def open_app(self, t: float) -> None:
        """The visitor unlocks the phone and opens Bluezone at t (no app: nothing happens)."""

    def address(self, t):
        return ADDR_RANDOM, self._address.at(t)

    def id_at(self, t: float):
        """The rolling ID the app computes at t (None for platforms without one)."""
        if self.spec.daily_key is None:
            return None
        moment = int(self.start + t)
        days = max(0, (ids.day_start(moment) - ids.day_start(self.start)) // ids.DAY_SECONDS)
        slot = (days, ids.slot_index(moment, self.spec.max))
        if self._slot_id[0] != slot:  # a hash chain per call: kept for the slot it holds
            self._slot_id = slot, ids.id_at(ids.daily_key(self.spec.daily_key, days), moment,
                                            self.spec.max)
        return self._slot_id[1]

    def advertised_id(self, t: float):
        """The ID the phone's advert carries at t (Android may lag behind id_at)."""
        return None

    def advertising(self, t: float) -> bool:
        return self.path.present(t)

    def advert(self, t):
        if not self.advertising(t):
            return None
        return self._advert(t)

    def _advert(self, t):
        raise NotImplementedError


class AndroidPhone(Phone):
    """Background scheduler mode: 15 s on / 15 s off; the app open (foreground): 60 s on, 5 s
    pause (docs/protocol.md §2.7, 3.0.4+). The ID is read when advertising starts, so after a
    slot boundary the previous ID stays on air until the next start (docs/protocol.md §2.1).
    Opening the app restarts advertising at once, in foreground mode."""

    kind = "android"
    interval_s = ANDROID_INTERVAL_S

    def __init__(self, spec, path, start, seed, gate):
        super().__init__(spec, path, start, seed, gate)
        self._cycle_phase = self.rng.uniform(0, ANDROID_CYCLE_S)
        # From when the app is open, and when one of its cycles started (random when it was
        # open all along).
        self._open_from = None
        self._open_anchor = 0.0
        if getattr(spec, "app", "background") == "open":
            self._open_from = float("-inf")
            self._open_anchor = -self.visit_rng.uniform(0, ANDROID_OPEN_CYCLE_S)

    def app(self, t):
        return "open" if self._open_from is not None and t >= self._open_from else "background"

    def open_app(self, t):
        if self.app(t) != "open":
            self._open_from = self._open_anchor = t

    def _cycle(self, t):
        """(cycle, on, a time one cycle started) of the mode the phone is in at t."""
        if self.app(t) == "open":
            return ANDROID_OPEN_CYCLE_S, ANDROID_OPEN_ON_S, self._open_anchor
        return ANDROID_CYCLE_S, ANDROID_ON_S, -self._cycle_phase

    def cycle_started(self, t: float) -> float:
        cycle, _, anchor = self._cycle(t)
        return t - (t - anchor) % cycle

    def advertising(self, t):
        _, on, _ = self._cycle(t)
        return super().advertising(t) and t - self.cycle_started(t) < on

    def advertised_id(self, t):
        return self.id_at(self.cycle_started(t)) if self.advertising(t) else None

    def _advert(self, t):
        data = FLAGS_ANDROID + ad(0xFF, b"\xb5\x22" + self.advertised_id(t)) + ad(0x03, b"\x56\x4e")
        return Advert(ADV_IND, data, b"")


class AndroidV1Phone(AndroidPhone):
    """v1 (April-May 2020): the static 6-character code, LOW_POWER interval
    (docs/protocol.md §2.3)."""

    kind = "android-v1"
    interval_s = ANDROID_V1_INTERVAL_S

    def advertising(self, t):
        if self.app(t) == "open":  # no restart timer in v1's foreground (docs/protocol.md §2.7)
            return Phone.advertising(self, t)
        return super().advertising(t)

    def advertised_id(self, t):
        return None

    def _advert(self, t):
        data = (FLAGS_ANDROID + ad(0xFF, b"\xb5\x22" + self.spec.v1_code.encode())
                + ad(0x07, V1_ANDROID_SERVICE))
        return Advert(ADV_IND, data, b"")


class IosPhone(Phone):
    """Rolling-ID iPhone: foreground advertises the service UUID (name in the scan response),
    background only Apple's overflow bit; either way a GATT read returns the current ID."""

    def __init__(self, spec, path, start, seed, gate):
        super().__init__(spec, path, start, seed, gate)
        self.background = spec.platform == "ios-background"
        self.kind = spec.platform
        self.interval_s = IOS_BACKGROUND_INTERVAL_S if self.background else IOS_FOREGROUND_INTERVAL_S
        self.gatt = GattServer(standard_services(b"iPhone") + [
            Service(IOS_SERVICE, [Characteristic(IOS_CHAR, PROP_READ, self.id_at)])])

    def app(self, t):
        return "background" if self.background else "open"

    def open_app(self, t):
        """In the foreground the iPhone advertises the service UUID, every 100 ms."""
        self.background = False
        self.kind = "ios"
        self.interval_s = IOS_FOREGROUND_INTERVAL_S

    def _advert(self, t):
        if self.background:
            overflow = b"\x4c\x00\x01\x08" + bytes(15)
            return Advert(ADV_IND, FLAGS_IOS + ad(0xFF, overflow), b"")
        return Advert(ADV_IND, FLAGS_IOS + ad(0x07, IOS_SERVICE), ad(0x09, b"Bluezone"))


class IosV1Phone(Phone):
    """v1 iPhone: the v1 service UUID, the 10-character encoded name in the scan response
    and in a readable characteristic (docs/protocol.md §2.6 and §6)."""

    kind = "ios-v1"
    interval_s = IOS_FOREGROUND_INTERVAL_S

    def app(self, t):
        return "open"

    def __init__(self, spec, path, start, seed, gate):
        super().__init__(spec, path, start, seed, gate)
        d1, d2 = self.rng.sample(range(1, 6), 2)
        self.encoded_name = encode_v1_name(spec.v1_code, d1, d2).encode()
        self.gatt = GattServer(standard_services(b"iPhone") + [
            Service(V1_IOS_SERVICE, [Characteristic(V1_IOS_CHAR, PROP_READ,
                                                    lambda t: self.encoded_name)])])

    def _advert(self, t):
        return Advert(ADV_IND, FLAGS_IOS + ad(0x07, V1_IOS_SERVICE), ad(0x09, self.encoded_name))


class OtherPhone(Phone):
    """A phone without Bluezone: Apple 'Nearby Info' adverts, which rule C must not take."""

    kind = "other"
    interval_s = 0.3

    def __init__(self, spec, path, start, seed, gate):
        super().__init__(spec, path, start, seed, gate)
        self.gatt = GattServer(standard_services(b"Phone"))

    def _advert(self, t):
        nearby = b"\x4c\x00\x10\x05" + bytes((0x01, 0x18, 0x44, 0x3a, 0x1c))
        return Advert(ADV_IND, FLAGS_IOS + ad(0xFF, nearby), b"")


PHONE_CLASSES = {"android": AndroidPhone, "android-v1": AndroidV1Phone, "ios": IosPhone,
                 "ios-background": IosPhone, "ios-v1": IosV1Phone, "other": OtherPhone}


class Fixture(Device):
    """A device that stays put with a public address and a fixed advert (an office's TV,
    a fitness band on a desk, a beacon on the wall)."""

    def __init__(self, name, xy, address, interval_s, advert, seed):
        rng = device_rng(seed, name)
        super().__init__(name, standing(xy), POWER_1M["other"], rng)
        self._addr = address
        self.interval_s = interval_s
        self._advert = advert
        self.connectable = advert.adv_type == ADV_IND
        if self.connectable:
            self.gatt = GattServer(standard_services(name.encode()))

    def address(self, t):
        return ADDR_PUBLIC, self._addr

    def advert(self, t):
        return self._advert


def quiet_office(center, seed: int) -> list:
    """A few non-Bluezone devices around `center`: what a gate hears on a calm day."""
    cx, cy = center
    eddystone = ad(0x03, b"\xaa\xfe") + ad(0x16, b"\xaa\xfe\x00\xeb" + bytes(range(16)) + b"\x00\x00")
    earbuds = b"\x4c\x00\x07\x19\x01\x0e\x20\x2b\x99\x8f\x01\x00\x05" + bytes(16)
    return [
        Fixture("meeting-room-tv", (cx + 6, cy + 4), bytes.fromhex("8C79F5A1B2C3"), 0.5,
                Advert(ADV_NONCONN_IND, FLAGS_IOS + ad(0x09, b"[TV] Samsung 7 Series"), b""), seed),
        Fixture("earbuds", (cx - 3, cy + 5), bytes.fromhex("F4AFE7112233"), 0.2,
                Advert(ADV_NONCONN_IND, ad(0xFF, earbuds), b""), seed),
        Fixture("fitness-band", (cx + 2, cy + 8), bytes.fromhex("C80F10445566"), 1.0,
                Advert(ADV_IND, FLAGS_ANDROID + ad(0xFF, b"\x57\x01\x00\x2a\x51\x07\xff\x11")
                       + ad(0x09, b"Mi Smart Band 5"), b""), seed),
        Fixture("wall-beacon", (cx - 8, cy - 2), bytes.fromhex("D0F01A778899"), 1.0,
                Advert(ADV_NONCONN_IND, FLAGS_ANDROID[:2] + b"\x06" + eddystone, b""), seed),
    ]


class NoiseAdvert(Device):
    """One advert from a passing device nobody tracks: random address, random content."""

    once = True

    def __init__(self, name, xy, advert, rng):
        super().__init__(name, standing(xy), rng.uniform(-70.0, -55.0), rng)
        self._addr = bytes([rng.randrange(0x40, 0x80)] + [rng.randrange(256) for _ in range(5)])
        self._advert = advert
        self.connectable = False

    def address(self, t):
        return ADDR_RANDOM, self._addr

    def advert(self, t):
        return self._advert


def noise_advert(kind: str, rng: random.Random) -> Advert:
    """Content of one noise advert: other, malformed, or a random Bluezone ID."""
    if kind == "random_bluezone_ids_per_s":
        random_id = bytes(rng.randrange(256) for _ in range(ids.ID_BYTES))
        data = FLAGS_ANDROID + ad(0xFF, b"\xb5\x22" + random_id) + ad(0x03, b"\x56\x4e")
    elif kind == "malformed_per_s":
        # A structure whose length runs past the end of the packet, or stray garbage.
        body = bytes(rng.randrange(256) for _ in range(rng.randrange(2, 12)))
        data = FLAGS_ANDROID + bytes((len(body) + 5, 0xFF)) + body
    else:
        company = rng.choice((0x0006, 0x0075, 0x00E0, 0x0157, 0x038F))
        payload = bytes(rng.randrange(256) for _ in range(rng.randrange(2, 20)))
        data = FLAGS_ANDROID + ad(0xFF, company.to_bytes(2, "little") + payload)
    return Advert(ADV_NONCONN_IND, data, b"")


class BoardBeacon(Device):
    """A board's own advertising (gap_advertise), heard by the other boards and listeners."""

    def __init__(self, name, xy, mac, seed):
        super().__init__(name, standing(xy), POWER_1M["board"], device_rng(seed, "board/" + name))
        self._mac = mac
        self._advert = None
        self.epoch = 0  # bumped by every gap_advertise: an older advertising loop ends
        self.gatt = GattServer(standard_services(name.encode()))

    def stop(self):
        self._advert = None

    def set(self, interval_s, connectable, data, resp):
        self.interval_s = interval_s
        self.connectable = connectable
        if connectable:
            adv_type = ADV_IND
        else:
            adv_type = ADV_SCAN_IND if resp else ADV_NONCONN_IND
        self._advert = Advert(adv_type, data, resp)

    def address(self, t):
        return ADDR_PUBLIC, self._mac

    def advert(self, t):
        return self._advert
