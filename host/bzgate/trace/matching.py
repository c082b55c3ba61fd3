"""F0 matching: which stored sightings carry an ID of a published F0 key, and who else was there.

The F0 keys are expanded as the app's checkContactF walks them (bzcore.ids.expand_f0: one ID per
slot, rolling to the next day's key every `max` slots, until a slot would start after time_end).
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

The join runs inside the database: the expanded IDs go in as one blob and each probes the index on
sightings(id), in order of the IDs' first two bytes. Measured on 5 million sightings and 1.44
million IDs (bench/trace.py's database), the other ways cost more: a hash join in Python (a dict
of the IDs, every sighting's ID read out and looked up) 4x, the IDs put in a temporary table and
joined 5x. Only the rows found are read in full, and their windows are checked here.
"""

import hashlib
from concurrent.futures import ThreadPoolExecutor
from contextlib import closing
from typing import Iterable, Iterator, NamedTuple

import numpy as np

from bzcore import ids
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
    (twice as fast as random order on 5 million sightings); `order` the walk position of each;
    `days` (first slot start, slot seconds, walk position of its first ID) of each day walked,
    from which `window` works out an ID's window (for the few IDs found, not all of them)."""
    ids: bytes
    order: np.ndarray
    days: np.ndarray

    def __len__(self) -> int:
        return len(self.order)

    def window(self, n: int) -> tuple[int, int]:
        """(valid_from, valid_to) of the n-th ID of `ids`; valid_to is exclusive."""
        position = int(self.order[n])
        day = int(np.searchsorted(self.days[:, 2], position, side="right")) - 1
        start, size, first = (int(v) for v in self.days[day])
        valid_from = start + (position - first) * size
        return valid_from, valid_from + size


def sub_keys(record: F0Record) -> Iterator[tuple[int, int, bytes]]:
    """(start of the day's first slot, slot seconds, the day's sub-keys end to end) for each day
    of an F0 record, walked as bzcore.ids.expand_f0 walks it; each sub-key gives one ID."""
    sha256 = hashlib.sha256
    size = ids.slot_seconds(record.max_ids)
    key, t, end = record.daily_key, record.time_start, record.time_end
    while t <= end:
        sub_key = sha256(key + ids.SUB_KEY_SALT).digest()
        day = [sub_key]
        append = day.append
        for _ in range(min(record.max_ids, (end - t) // size + 1) - 1):
            sub_key = sha256(sub_key).digest()
            append(sub_key)
        yield t, size, b"".join(day)
        t += size * len(day)
        key = sha256(key).digest()


def wanted_ids(records: Iterable[F0Record]) -> Wanted:
    """Every ID of the records. Python makes the hashes, which must follow each other; numpy
    picks the 12 bytes of all of them at once (bzcore.ids.pick12's byte loop would cost more
    than the hash) and orders them."""
    days_keys: list[bytes] = []
    days = []
    walked = 0
    for record in records:
        for start, size, day in sub_keys(record):
            days.append((start, size, walked))
            days_keys.append(day)
            walked += len(day) // 32
    picked = pick_ids(b"".join(days_keys))
    first_two = picked.view(np.uint8).reshape(-1, ids.ID_BYTES)[:, :2].copy().view(">u2")
    order = np.argsort(first_two.ravel(), kind="stable")
    return Wanted(picked[order].tobytes(), order, np.array(days, np.int64).reshape(-1, 3))


def pick_ids(keys: bytes) -> np.ndarray:
    """The ID of each 32-byte sub-key in `keys` (bzcore.ids.pick12 of all at once), one 12-byte
    item each."""
    subs = np.frombuffer(keys, np.uint8).reshape(-1, 32)
    return np.concatenate([subs[:, part] for part in PICK], axis=1).view(f"V{ids.ID_BYTES}").ravel()


# The rows found go into a temporary table of the reader's, read once all batches are probed:
# fetched one by one during the hashing, each row waited for the hashing thread to let go of
# Python's lock (up to 5 ms, the interpreter's switch interval), and the probes took twice as long.
_FOUND = """CREATE TEMP TABLE found (batch INTEGER NOT NULL, key INTEGER NOT NULL,
    board_id TEXT NOT NULL, seq INTEGER NOT NULL, id BLOB, gate_id TEXT NOT NULL,
    site TEXT NOT NULL, first_seen INTEGER NOT NULL, last_seen INTEGER NOT NULL,
    max_rssi INTEGER NOT NULL, clock_valid INTEGER NOT NULL)"""
_JOIN = """INSERT INTO found SELECT :batch, j.key, s.board_id, s.seq, s.id, s.gate_id, s.site,
    s.first_seen, s.last_seen, s.max_rssi, s.clock_valid
    FROM {positions} CROSS JOIN sightings AS s
    WHERE s.id = substr(:ids, j.key * 12 + 1, 12)"""
_FOUND_ROWS = """SELECT batch, key, board_id, seq, id, gate_id, site, first_seen, last_seen, max_rssi,
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
    costs little more than the hashes."""
    widen = 0 if exact else tolerance
    reader = conn.reader()  # used by the pool's one thread, then by this one once it is done
    # Room for the whole sightings(id) index of millions of rows: the probes then cost half.
    reader.tune_for_reading()
    with closing(reader):
        reader.execute_ddl(_FOUND)
        with ThreadPoolExecutor(max_workers=1) as pool:
            probed = [(wanted, pool.submit(_probe, reader, batch, wanted))
                      for batch, wanted in enumerate(map(wanted_ids, batches(records)))]
            for _, done in probed:
                done.result()
        rows = reader.execute(_FOUND_ROWS).fetchall()
    found: dict[tuple[str, int], Match] = {}
    clock_invalid: set[tuple[str, int]] = set()
    for batch, key, board_id, seq, *row, clock_valid in rows:
        valid_from, valid_to = probed[batch][0].window(key)
        match = Match(*row)
        if not clock_valid:
            clock_invalid.add((board_id, seq))
        elif match.first_seen <= valid_to + widen and match.last_seen >= valid_from - widen:
            found[board_id, seq] = match
    count = sum(len(wanted) for wanted, _ in probed)
    return [(b, s, m) for (b, s), m in found.items()], count, len(clock_invalid)


def batches(records: list[F0Record], size: int = BATCH_IDS) -> Iterator[list[F0Record]]:
    """The records in turn, in batches of about `size` IDs; the first of a quarter of that, so
    that the probes, which take longer than the hashes, start sooner."""
    batch: list[F0Record] = []
    in_batch, limit = 0, size // 4
    for record in records:
        batch.append(record)
        in_batch += (record.time_end - record.time_start) // ids.slot_seconds(record.max_ids) + 1
        if in_batch >= limit:
            yield batch
            batch, in_batch, limit = [], 0, size
    if batch:
        yield batch


def _probe(conn: Connection, batch: int, wanted: Wanted) -> None:
    source, params = conn.positions(len(wanted))
    conn.execute(_JOIN.format(positions=source), {**params, "batch": batch, "ids": wanted.ids})


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
