"""The journal: bzcore.record records, MAC-chained, in segment files on the board's LittleFS.

    journal = Journal("/journal", key, boot_id, clock)   # clock: gate.clock (now() -> (t, valid))
    journal.retention_days = config["retention_days"]
    kind, payload = record.event(record.BOOT, cause)     # any bzcore.record builder
    journal.append(kind, None, payload)                  # t None: now; or clock.now()'s (t, valid)
    asyncio.create_task(journal.run())                   # flushes, applies retention
    journal.read_from(seq, limit) -> [48-byte records]   # flushed records only (LOG PULL)
    journal.ack(seq); journal.stats()                    # LOG ACK, STATUS

Records wait in a RAM batch of BATCH_RECORDS and reach flash when the batch is full or every
_FLUSH_MS (docs/esp32-notes.md, note 16: each flush rewrites a 4 KiB block). Only flushed records
are ever handed to the host, so a seq it has seen is never reused after a power cut.

Files under root: segment files of SEGMENT_RECORDS records (one 4 KiB block each) holding the
seqs from a multiple of SEGMENT_RECORDS to the next, named by the seq of their first record
("0000000085.seg"); only the oldest may start in between (a journal begun after its files were
lost). So the segment of any seq follows from the oldest segment's name alone: no index in RAM,
whatever the flash size. "acked" holds the host's ack (written to a temp file, then renamed).

Boot recovery looks only at the newest segment: a partial record at its end (or a last record
that is not the one its position calls for) is a torn write; it is dropped (one record at most)
and the next record is written over it, so seq and the MAC chain continue. LittleFS commits
whole flushes, so a torn record only follows a write that failed part way.

Space: acked segments are kept (a second copy on the board) until they are older than
`retention_days` or the space is needed; unacked records are never deleted. When a flush finds
no space and nothing acked to reclaim, the batch stays in RAM, the STORAGE_FULL alarm is raised
(stats), and appends that do not fit are counted as unwritten, without a seq, so the chain on
flash stays whole. Once space returns, the batch is written, then a STORAGE_FULL event whose
detail is the unwritten count. The newest segment is never reclaimed: it carries seq and MAC on.

A journal that boot recovery could not read (a flash error, no memory) writes nothing, so
nothing is written over it: appends are counted as unwritten and stats show the alarm
"journal-unreadable" until a restart reads it. Nothing here raises into the caller.
"""

import os

import asyncio
import time
from micropython import const

from bzcore import record

BATCH_RECORDS = const(32)
_FLUSH_MS = const(5000)
SEGMENT_RECORDS = const(85)  # 85 * 48 = 4080 bytes: one LittleFS block
_READ_LIMIT = const(64)  # most records one read_from returns
_RETENTION_CHECK_MS = const(60000)
_SIZE = const(48)  # record.RECORD_SIZE
_DAY = const(86400)
_SUFFIX = ".seg"
_ACKED = "acked"


def _seg_name(first):
    return "%010d%s" % (first, _SUFFIX)


def _seg_end(first):
    """The seq after the last one segment `first` holds."""
    return first - first % SEGMENT_RECORDS + SEGMENT_RECORDS


class Journal:
    def __init__(self, root, key, boot_id, clock):
        self.root = root.rstrip("/")
        self.retention_days = 21
        self.unwritten = 0  # records that found no room (storage full)
        self.rejected = 0  # records that could not be made (bad payload, failing clock)
        self.write_errors = 0
        self._key = key
        self._boot_id = boot_id
        self._clock = clock
        self._batch = bytearray(BATCH_RECORDS * _SIZE)
        self._pending = 0
        self._oldest = -1  # first seq of the oldest segment file; -1: no files
        self._newest = -1  # first seq of the newest segment file
        self._tail_count = 0  # records on flash in the newest segment
        self._next_seq = 0
        self._prev_mac = record.GENESIS
        self._acked = -1
        self._full = False
        self._due = asyncio.Event()
        self._readable = False
        try:
            self._recover()
            self._readable = True
        except Exception:  # the gate goes on; nothing is written over a journal not understood
            self.write_errors += 1

    # --- files ----------------------------------------------------------------------------
    def _path(self, name):
        return self.root + "/" + name

    def _read(self, first, index, count):
        """`count` records from position `index` of segment `first` (fewer at its end)."""
        with open(self._path(_seg_name(first)), "rb") as f:
            f.seek(index * _SIZE)
            data = f.read(count * _SIZE)
        return [data[k:k + _SIZE] for k in range(0, len(data) - _SIZE + 1, _SIZE)]

    def _size(self, first):
        try:
            return os.stat(self._path(_seg_name(first)))[6]
        except OSError:
            return 0

    def _remove(self, first):
        try:
            os.remove(self._path(_seg_name(first)))
        except OSError:
            self.write_errors += 1

    def _segment_of(self, seq):
        return max(seq - seq % SEGMENT_RECORDS, self._oldest)

    # --- boot recovery ----------------------------------------------------------------------
    def _recover(self):
        try:
            os.mkdir(self.root)
        except OSError:  # already there
            pass
        self._acked = self._load_acked()
        for entry in os.ilistdir(self.root):
            name = entry[0]
            if name.endswith(_SUFFIX) and name[:-len(_SUFFIX)].isdigit():
                first = int(name[:-len(_SUFFIX)])
                self._oldest = first if self._oldest < 0 else min(self._oldest, first)
                self._newest = max(self._newest, first)
            elif name.endswith(".tmp"):  # a rename that a power cut interrupted
                os.remove(self._path(name))
        count = self._size(self._newest) // _SIZE if self._newest >= 0 else 0
        if count:
            last = record.decode(self._read(self._newest, count - 1, 1)[0])
            if last is None or last.seq != self._newest + count - 1:  # not the record for there
                count -= 1
        if self._newest >= 0 and not count:  # created just before a cut, or held only a torn record
            self._remove(self._newest)
            if self._newest == self._oldest:
                self._oldest = self._newest = -1
            else:
                self._newest = self._segment_of(self._newest - 1)
                count = _seg_end(self._newest) - self._newest
        self._tail_count = count
        self._next_seq = self._newest + count if self._newest >= 0 else self._acked + 1
        last = self.read_from(self._next_seq - 1, 1)
        if last:
            self._prev_mac = record.mac_of(last[0])

    def _load_acked(self):
        try:
            with open(self._path(_ACKED)) as f:
                return int(f.read())
        except (OSError, ValueError):  # none yet, or unreadable: nothing counts as acked
            return -1

    # --- appending and flushing ----------------------------------------------------------------
    def append(self, kind, t, payload):
        """Queue one record; t is None (now) or a (unix seconds, clock valid) pair. Its seq,
        or None when it could not be written."""
        try:
            if not self._readable:
                self.unwritten += 1
                return
            if self._pending == BATCH_RECORDS:
                self.flush()
            if self._pending == BATCH_RECORDS:
                self.unwritten += 1
                return
            seconds, valid = self._clock.now() if t is None else t
            raw = record.encode(self._key, self._prev_mac, self._next_seq, kind, seconds, valid,
                                self._boot_id, payload)
            at = self._pending * _SIZE
            self._batch[at:at + _SIZE] = raw
            self._pending += 1
            self._next_seq += 1
            self._prev_mac = record.mac_of(raw)
            if self._pending == BATCH_RECORDS:
                self._due.set()
            return self._next_seq - 1
        except Exception:  # a bad payload or a failing clock: counted, never raised
            self.rejected += 1
        return None

    def flush(self):
        """Write the RAM batch to flash now. Never raises."""
        was_full = self._full
        try:
            self._flush()
        except Exception:
            self.write_errors += 1
        if was_full and not self._full:  # space again: the alarm goes on record
            kind, payload = record.event(record.STORAGE_FULL, self.unwritten)
            self.append(kind, None, payload)

    def _flush(self):
        done = 0
        while done < self._pending:
            seq = self._flushed_end() + done
            if self._newest < 0 or seq == _seg_end(self._newest):
                self._newest = seq
                self._tail_count = 0
                if self._oldest < 0:
                    self._oldest = seq
            n = min(self._pending - done, _seg_end(self._newest) - seq)
            written = self._write(done, n)
            done += written
            if written < n and not self._reclaim_one():
                break
        left = self._pending - done
        if done and left:
            self._batch[:left * _SIZE] = self._batch[done * _SIZE:self._pending * _SIZE]
        self._pending = left
        self._full = left > 0

    def _write(self, start, n):
        """Write batch records start..start+n at the end of the newest segment (over a torn
        record, if one was dropped there); how many landed."""
        path = self._path(_seg_name(self._newest))
        try:
            with open(path, "r+b" if self._tail_count else "wb") as f:
                f.seek(self._tail_count * _SIZE)
                f.write(memoryview(self._batch)[start * _SIZE:(start + n) * _SIZE])
            self._tail_count += n
            return n
        except OSError:
            self.write_errors += 1
        # Whatever whole records landed are good; a partial one is written over next time.
        landed = max(0, min(n, self._size(self._newest) // _SIZE - self._tail_count))
        self._tail_count += landed
        return landed

    def _oldest_reclaimable(self):
        """True when the oldest segment is acked through and is not the newest."""
        return self._oldest != self._newest and _seg_end(self._oldest) - 1 <= self._acked

    def _drop_oldest(self):
        self._remove(self._oldest)
        self._oldest = _seg_end(self._oldest)

    def _reclaim_one(self):
        if not self._oldest_reclaimable():
            return False
        self._drop_oldest()
        return True

    # --- the flush task ---------------------------------------------------------------------
    async def run(self):
        """Flush every _FLUSH_MS or as soon as a batch fills; apply retention every minute."""
        checked = time.ticks_ms()
        while True:
            try:
                await asyncio.wait_for_ms(self._due.wait(), _FLUSH_MS)
            except asyncio.TimeoutError:
                pass
            self._due.clear()
            self.flush()
            if time.ticks_diff(time.ticks_ms(), checked) >= _RETENTION_CHECK_MS:
                checked = time.ticks_ms()
                self.expire()

    def expire(self):
        """Delete acked segments older than retention_days. Never raises.

        A segment is old when its newest record is; one written before the clock was set is
        old once a later segment is (segments are in time order)."""
        try:
            now, valid = self._clock.now()
            if not valid:
                return
            cutoff = now - self.retention_days * _DAY
            old_end = -1  # the segments before this seq are old
            first = self._oldest
            while first != self._newest and _seg_end(first) - 1 <= self._acked:
                newest = record.decode(self._read(first, _seg_end(first) - first - 1, 1)[0])
                if newest is not None and newest.clock_valid:
                    if newest.time >= cutoff:
                        break
                    old_end = _seg_end(first)
                first = _seg_end(first)
            while 0 <= self._oldest < old_end:
                self._drop_oldest()
        except Exception:
            self.write_errors += 1

    # --- the host's side ----------------------------------------------------------------------
    def _flushed_end(self):
        """The seq after the last record on flash."""
        return self._next_seq - self._pending

    def read_from(self, seq, limit=_READ_LIMIT):
        """Up to `limit` flushed records from `seq` on, in order, as 48-byte bytes."""
        out = []
        try:
            end = self._flushed_end()
            limit = min(limit, _READ_LIMIT)
            seq = max(seq, self._oldest)
            while self._oldest >= 0 and seq < end and len(out) < limit:
                first = self._segment_of(seq)
                got = self._read(first, seq - first,
                                 min(_seg_end(first), end, seq + limit - len(out)) - seq)
                if not got:
                    break
                out += got
                seq += len(got)
        except Exception:
            self.write_errors += 1
        return out

    def ack(self, seq):
        """The host holds every record up to `seq`: they may be reclaimed. Never raises."""
        try:
            seq = min(seq, self._flushed_end() - 1)
            if seq <= self._acked:
                return
            tmp = self._path(_ACKED + ".tmp")
            with open(tmp, "w") as f:
                f.write(str(seq))
            os.rename(tmp, self._path(_ACKED))
            self._acked = seq
        except Exception:
            self.write_errors += 1
            return
        if self._full:
            self.flush()

    def stats(self):
        """Counters for STATUS. Never raises."""
        end = self._flushed_end()
        oldest = self._oldest if self._oldest >= 0 else end
        segments = 0
        if self._oldest >= 0:
            segments = (self._newest - self._newest % SEGMENT_RECORDS
                        - self._oldest + self._oldest % SEGMENT_RECORDS) // SEGMENT_RECORDS + 1
        unacked = max(oldest, self._acked + 1)
        try:
            st = os.statvfs(self.root)
            free = st[0] * st[4]
        except OSError:
            free = -1
        return {
            "next_seq": self._next_seq,
            "acked": self._acked,
            "oldest_unacked": unacked if unacked < end else None,
            "records": end - oldest,
            "bytes": (end - oldest) * _SIZE,
            "segments": segments,
            "pending": self._pending,
            "free_bytes": free,
            "unwritten": self.unwritten,
            "rejected": self.rejected,
            "write_errors": self.write_errors,
            "storage_full": self._full,
            "alarms": ([] if self._readable else ["journal-unreadable"])
                      + (["storage-full"] if self._full else []),
        }
