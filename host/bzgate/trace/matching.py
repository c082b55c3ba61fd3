"""F0 matching: which stored sightings carry an ID of a published F0 key, and who else was there.

The F0 keys are expanded as the app's checkContactF walks them (bzcore.idexpand.expand_f0: one ID
per slot, rolling to the next day's key every `max` slots, until a slot would start after
time_end).
A sighting is one phone's visit to a gate within one ID slot, from first_seen to last_seen; it
matches an ID's window when the two meet:
  --exact   the app's test, both ends inclusive, no tolerance: from <= t <= to for some t of the
            visit, i.e. first_seen <= to and last_seen >= from
  default   the window widened by `tolerance` seconds on both sides, for an Android phone that
            keeps advertising last slot's ID for a while (up to 150 s) and for clock skew
Sightings made while the gate's clock was not set (clock_valid 0) have no meaningful time: they
are left out of matching and exposure, and those that carry a wanted ID are counted.
Exposed: every other sighting at a match's gate (same gate_id and site) that meets the match
widened by the window on both sides, including iPhones the gate saw but could not read (id None).

Bounds (an F0 file comes from outside: 2,000 copies of one year-long record once made 70 million
IDs, 1.75 GB and half a minute): each daily key is expanded once, however many records share its
day (copies, the same key republished with a later time_end, or a record from a later day on), as
far as the longest of them reaches; at most MAX_DAYS distinct days of keys are taken (9.6 million
IDs at 96 a day), and more are refused before any is expanded; and the IDs are hashed and probed
BATCH_IDS at a time, one batch probed while the next is made (about 20 MB of Python's memory in
all), so that what a trace holds does not grow with the file. bzgate.trace.f0 bounds the file
itself (MAX_FILE_BYTES).

The join runs inside the database: the expanded IDs go in as one blob and each probes the index on
sightings(id), in order of the IDs' first two bytes. Measured on 5 million sightings and 1.44
million IDs (bench/trace.py's database), the other ways cost more: a hash join in Python (a dict
of the IDs, every sighting's ID read out and looked up) 4x, the IDs put in a temporary table and
joined 5x. Each ID's window goes in beside it as a second blob, and the rows found take theirs
along: the rows are read once, at the end, and their windows are checked here.
"""

import hashlib
import struct
from concurrent.futures import ThreadPoolExecutor
from contextlib import closing
from typing import Iterable, Iterator, NamedTuple

import numpy as np

from bzcore import ids
from bzgate.errors import UserError
from bzgate.store.dialect import Connection
from bzgate.trace.f0 import F0Record

DEFAULT_TOLERANCE_S = 180
DEFAULT_WINDOW_MIN = 15
# The sub-key's bytes that make its ID (bzcore.ids.pick12), as two strides: 0, 4, 8, 12 and
# 16, 18, ... 30 (the tests hold them equal to the core's).
PICK = (slice(0, 16, 4), slice(16, 32, 2))
# A sighting is one visit within one ID slot (15 min, or 10 for Android v2.0): an hour bounds
# it with room to spare, so the exposure query can use the (gate_id, first_seen) index.
_LONGEST_SIGHTING_S = 3600
# IDs hashed, then probed, at a time. Sorted probes into the index cost less the more there
# are at once (on 5 million sightings, 1.44 million IDs: 0.69 s in one batch, 0.82 s in batches of
# 200,000, 0.97 s of 100,000, 1.23 s of 50,000), but the first batch waits for its hashes.
BATCH_IDS = 200_000
# Distinct days of keys one trace takes: 9.6 million IDs at 96 a day (14.4 at 144), about ten
# seconds of hashing, and a few MB of days to tell apart; the app itself looks 14 days back.
MAX_DAYS = 100_000


class Match(NamedTuple):
    id: bytes
    gate_id: str
    site: str
    first_seen: int
    last_seen: int
    max_rssi: int


class Exposure(NamedTuple):
    id: bytes | None
    gate_id: str
    site: str
    first_seen: int
    last_seen: int


class TraceResult(NamedTuple):
    matches: list[Match]
    exposed: list[Exposure]
    ids_expanded: int
    clock_invalid: int  # sightings of a wanted ID left out because their gate's clock was unset


class Wanted(NamedTuple):
    """Expanded IDs ready for the join: `ids` all IDs end to end (12 bytes each), in order of
    their first two bytes so SQLite's probes into the sightings(id) index walk it in order
    (twice as fast as random order on 5 million sightings); `windows` each one's window in the
    same order, 8 bytes each (WINDOW: valid_from and the exclusive valid_to, u32: F0 times end
    before 2100 plus a year)."""
    ids: bytes
    windows: bytes

    def __len__(self) -> int:
        return len(self.ids) // ids.ID_BYTES

    def window(self, n: int) -> tuple[int, int]:
        """(valid_from, valid_to) of the n-th ID of `ids`; valid_to is exclusive."""
        return WINDOW.unpack_from(self.windows, n * WINDOW.size)


WINDOW = struct.Struct(">II")


class Day(NamedTuple):
    """One day of an F0 record's walk: its daily key, its first slot's start, the slot seconds
    and how many slots of it are walked (all `max`, or fewer on the last day)."""
    key: bytes
    start: int
    size: int
    slots: int


def record_days(record: F0Record) -> Iterator[Day]:
    """The days of an F0 record, walked as bzcore.idexpand.expand_f0 walks it: one hash a day."""
    size = ids.slot_seconds(record.max_ids)
    key, t, end = record.daily_key, record.time_start, record.time_end
    while t <= end:
        slots = min(record.max_ids, (end - t) // size + 1)
        yield Day(key, t, size, slots)
        t += size * slots
        key = hashlib.sha256(key).digest()


def distinct_days(records: Iterable[F0Record]) -> list[Day]:
    """Every day of the records once, as many slots as the longest walk of it; in the records'
    order. Copies of a record are dropped before they are walked. More than MAX_DAYS distinct
    days are refused."""
    slots: dict[tuple[bytes, int, int], int] = {}
    for record in dict.fromkeys(records):
        for day in record_days(record):
            walked = day.key, day.start, day.size
            if walked not in slots and len(slots) == MAX_DAYS:
                raise UserError(f"the F0 keys cover more than {MAX_DAYS:,} distinct days of keys, "
                                "more than one trace takes: trace the records in parts")
            slots[walked] = max(slots.get(walked, 0), day.slots)
    return [Day(*walked, count) for walked, count in slots.items()]


def day_sub_keys(day: Day) -> bytes:
    """The day's sub-keys end to end, SK_0 = SHA-256(key + salt) then each the hash of the one
    before; each gives one ID."""
    sha256 = hashlib.sha256
    sub_key = sha256(day.key + ids.SUB_KEY_SALT).digest()
    keys = [sub_key]
    append = keys.append
    for _ in range(day.slots - 1):
        sub_key = sha256(sub_key).digest()
        append(sub_key)
    return b"".join(keys)


def sub_keys(record: F0Record) -> Iterator[tuple[int, int, bytes]]:
    """(start of the day's first slot, slot seconds, the day's sub-keys end to end) for each day
    of an F0 record."""
    for day in record_days(record):
        yield day.start, day.size, day_sub_keys(day)


def wanted_ids(days: Iterable[Day]) -> Wanted:
    """Every ID of the days, with its window. Python makes the hashes, which must follow each
    other; numpy picks the 12 bytes of all of them at once (bzcore.ids.pick12's byte loop would
    cost more than the hash), works out the windows and orders both."""
    days = list(days)
    picked = pick_ids(b"".join(map(day_sub_keys, days)))
    slots = np.array([day.slots for day in days], np.int64)
    firsts = np.repeat(np.cumsum(slots) - slots, slots)  # each ID's day's first walk position
    sizes = np.repeat(np.array([day.size for day in days], np.int64), slots)
    starts = (np.repeat(np.array([day.start for day in days], np.int64), slots)
              + (np.arange(len(picked)) - firsts) * sizes)
    first_two = picked.view(np.uint8).reshape(-1, ids.ID_BYTES)[:, :2].copy().view(">u2")
    order = np.argsort(first_two.ravel(), kind="stable")
    windows = np.stack([starts, starts + sizes], axis=1)[order].astype(">u4")
    return Wanted(picked[order].tobytes(), windows.tobytes())


def pick_ids(keys: bytes) -> np.ndarray:
    """The ID of each 32-byte sub-key in `keys` (bzcore.ids.pick12 of all at once), one 12-byte
    item each."""
    subs = np.frombuffer(keys, np.uint8).reshape(-1, 32)
    return np.concatenate([subs[:, part] for part in PICK], axis=1).view(f"V{ids.ID_BYTES}").ravel()


# The rows found go into a temporary table of the reader's, read once all batches are probed:
# fetched one by one during the hashing, each row waited for the hashing thread to let go of
# Python's lock (up to 5 ms, the interpreter's switch interval), and the probes took twice as long.
_FOUND = """CREATE TEMP TABLE found (slot_window BLOB NOT NULL, board_id TEXT NOT NULL,
    seq INTEGER NOT NULL, id BLOB, gate_id TEXT NOT NULL, site TEXT NOT NULL,
    first_seen INTEGER NOT NULL, last_seen INTEGER NOT NULL, max_rssi INTEGER NOT NULL,
    clock_valid INTEGER NOT NULL)"""
_JOIN = """INSERT INTO found SELECT substr(:windows, j.key * 8 + 1, 8), s.board_id, s.seq, s.id,
    s.gate_id, s.site, s.first_seen, s.last_seen, s.max_rssi, s.clock_valid
    FROM {positions} CROSS JOIN sightings AS s
    WHERE s.id = substr(:ids, j.key * 12 + 1, 12)"""
_FOUND_ROWS = """SELECT slot_window, board_id, seq, id, gate_id, site, first_seen, last_seen, max_rssi,
    clock_valid FROM found"""
_EXPOSED = """SELECT board_id, seq, id, gate_id, site, first_seen, last_seen FROM sightings
    WHERE gate_id = :gate AND first_seen BETWEEN :since - :longest AND :until
    AND site = :site AND last_seen >= :since AND clock_valid = 1"""


def match_ids(conn: Connection, records: list[F0Record], tolerance: int,
              exact: bool = False) -> tuple[list[tuple], int, int]:
    """The sightings that carry an expanded ID inside its window, as (board_id, seq, Match);
    with how many IDs were expanded and how many sightings of them had no valid clock.

    The database probes one batch of IDs on a thread and connection of its own (the driver
    lets go of Python's lock meanwhile) while Python hashes the next: on two free cores the join
    costs little more than the hashes. The next batch waits for the one being probed before it
    goes in: two batches are held at most, however many the F0 file makes."""
    widen = 0 if exact else tolerance
    days = distinct_days(records)
    count = 0
    reader = conn.reader()  # used by the pool's one thread, then by this one once it is done
    # Room for the whole sightings(id) index of millions of rows: the probes then cost half.
    reader.tune_for_reading()
    with closing(reader):
        reader.execute_ddl(_FOUND)
        with ThreadPoolExecutor(max_workers=1) as pool:
            probing = None
            for wanted in map(wanted_ids, batches(days)):
                count += len(wanted)
                if probing is not None:
                    probing.result()
                probing = pool.submit(_probe, reader, wanted)
            if probing is not None:
                probing.result()
        rows = reader.execute(_FOUND_ROWS).fetchall()
    found: dict[tuple[str, int], Match] = {}
    clock_invalid: set[tuple[str, int]] = set()
    for window, board_id, seq, *row, clock_valid in rows:
        valid_from, valid_to = WINDOW.unpack(window)
        match = Match(*row)
        if not clock_valid:
            clock_invalid.add((board_id, seq))
        elif match.first_seen <= valid_to + widen and match.last_seen >= valid_from - widen:
            found[board_id, seq] = match
    return [(b, s, m) for (b, s), m in found.items()], count, len(clock_invalid)


def batches(days: list[Day], size: int | None = None) -> Iterator[list[Day]]:
    """The days in turn, in batches of about `size` (BATCH_IDS) IDs; the first of a quarter of
    that, so that the probes, which take longer than the hashes, start sooner."""
    size = BATCH_IDS if size is None else size
    batch: list[Day] = []
    in_batch, limit = 0, size // 4
    for day in days:
        batch.append(day)
        in_batch += day.slots
        if in_batch >= limit:
            yield batch
            batch, in_batch, limit = [], 0, size
    if batch:
        yield batch


def _probe(conn: Connection, wanted: Wanted) -> None:
    source, params = conn.positions(len(wanted))
    conn.execute(_JOIN.format(positions=source),
                 {**params, "ids": wanted.ids, "windows": wanted.windows})


def exposed_to(conn: Connection, matches: list[tuple], window_s: int) -> list[Exposure]:
    """Other sightings at a match's gate that overlap the match widened by `window_s`."""
    matched = {(b, s) for b, s, _ in matches}
    matched_ids = {m.id for _, _, m in matches}
    out: dict[tuple[str, int], Exposure] = {}
    for _, _, match in matches:
        for board_id, seq, *row in conn.execute(_EXPOSED, {
                "gate": match.gate_id, "site": match.site, "since": match.first_seen - window_s,
                "until": match.last_seen + window_s, "longest": _LONGEST_SIGHTING_S}):
            exposure = Exposure(*row)
            if (board_id, seq) not in matched and exposure.id not in matched_ids:
                out[board_id, seq] = exposure
    return sorted(out.values(), key=lambda e: (e.first_seen, e.gate_id, e.id or b""))


def trace(conn: Connection, records: list[F0Record], tolerance: int = DEFAULT_TOLERANCE_S,
          exact: bool = False, window_min: int = DEFAULT_WINDOW_MIN) -> TraceResult:
    found, count, clock_invalid = match_ids(conn, records, tolerance, exact)
    matches = sorted((m for _, _, m in found), key=lambda m: (m.first_seen, m.gate_id, m.id))
    return TraceResult(matches, exposed_to(conn, found, window_min * 60), count, clock_invalid)
