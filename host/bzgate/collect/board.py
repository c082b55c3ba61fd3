"""Collecting one gate's journal: pull what the database does not have yet, verify the MAC
chain with the board's key, store it, and let the gate reclaim only what was committed.

    summary = collect(conn, link, link.hello(), KeyStore(path), "/dev/ttyUSB0")

The chain is checked from where the last collection stopped (journals.next_seq and
journals.last_mac), so a record changed, removed, inserted, reordered or replayed anywhere
after it breaks the chain. Records are stored in batches, each in one transaction, and LOG ACK
follows each COMMIT: a collection that is killed or loses the gate keeps what it committed, and
the next one resumes after it with nothing stored twice. A batch is what arrived within
COMMIT_AFTER_S, or COMMIT_EVERY records if those come sooner: the gate hears an ack at least
that often on a slow link, and a fast one pays for far fewer commits (each commit writes every
page of the ID index it touched: random IDs touch a page per record).

What is refused (CollectError, exit status EXIT_REFUSED), with nothing of it stored as trusted:
  broken-chain  a record that does not verify, and everything after it: kept in `evidence`
  gap           the gate no longer has records this database never got (another database
                collected them, or the journal was lost): stored only with accept_gap
  rolled-back   the gate's journal ends before what was already collected (replaced by an
                older copy, or the board was wiped)
  truncated     the gate says it holds records it did not send (removed from its flash)
"""

import time
from collections.abc import Callable
from typing import NamedTuple

from bzcore import record
from bzgate import hostrecord, store
from bzgate.keys import KeyStore
from bzgate.link.serial import GateLink, LinkError
from bzgate.store import audit, transaction

COMMIT_EVERY = 10_000  # records per transaction at most
COMMIT_AFTER_S = 0.25  # and seconds from a batch's first record to its commit
EXIT_GATE = 1  # the gate did not answer or went away
EXIT_USAGE = 2  # something the user must set up first (a key)
EXIT_REFUSED = 3  # the journal was refused: tampering, a gap or a rollback

Progress = Callable[[int, int], None]  # (records pulled so far, records the gate announced)


class CollectError(Exception):
    """A collection refused or cut off; `summary` is what collect() had done (as audited)."""

    def __init__(self, result: str, message: str, exit_code: int):
        super().__init__(message)
        self.result, self.message, self.exit_code = result, message, exit_code
        self.summary: dict = {}


def _seq(raw: bytes) -> int:
    return int.from_bytes(raw[:4], "big")


class Span(NamedTuple):
    """Records checked against the chain: the good leading part, and the rest from the break."""
    trusted: list
    refused: list
    broken_at: int  # the seq where the chain breaks (after the last trusted record)
    why: str | None


def verify_span(key: bytes, raws: list, prev_mac: bytes, prev_seq: int) -> Span:
    """Check `raws` as the records following (prev_mac, prev_seq) in the board's chain."""
    good, why = hostrecord.verify_chain(key, raws, prev_mac, prev_seq)
    return Span(raws[:good], raws[good:], prev_seq + 1 + good, why)


GAP_UNCHECKED = "first record after a gap: its chain cannot be checked"


def chain_after_gap(key: bytes, raw: bytes) -> tuple[bytes, int]:
    """(MAC, seq) the chain is checked from after an accepted gap whose first record is raw.
    A journal begun again after its files were lost chains that record to GENESIS and is
    checked from there; otherwise the record's own link cannot be checked: the chain is checked
    from it on, and the caller keeps it as evidence (GAP_UNCHECKED)."""
    first = _seq(raw)
    if hostrecord.verify_chain(key, [raw], record.GENESIS, first - 1)[1] is None:
        return record.GENESIS, first - 1
    return record.mac_of(raw), first


def store_span(conn, board_id: str, gate_id: str, site: str, span: Span, now: int) -> dict:
    """In the caller's transaction: the trusted records stored (idempotently), the refused ones
    kept as evidence. How many went where, with "records" and "clock_invalid"."""
    stored = {"records": len(span.trusted), "clock_invalid": sum(
        1 for raw in span.trusted if not raw[5] & record.FLAG_CLOCK_VALID)}
    if span.trusted:
        stored.update(store.store_records(conn, board_id, gate_id, site, span.trusted, now))
    if span.refused:
        store.keep_evidence(conn, board_id, span.broken_at, span.why, span.refused, now)
    return stored


def _board_end(status: dict) -> int:
    """The seq after the gate's last flushed record, from its STATUS."""
    try:
        storage = status["storage"]
        return int(storage["next_seq"]) - int(storage["pending"])
    except (KeyError, TypeError, ValueError) as e:
        raise LinkError("format", f"STATUS without the journal's position ({e!r})") from e


def collect(conn, link: GateLink, hello: dict, keys: KeyStore, port: str,
            accept_gap: bool = False, progress: Progress | None = None) -> dict:
    """Collect the journal of the gate that answered `hello` on `link`; the summary, also
    written to the audit table (whatever the outcome). CollectError when refused or cut off."""
    board_id = str(hello.get("board_id") or "").lower()
    summary = {"port": port, "board_id": board_id, "gate_id": str(hello.get("gate_id", "")),
               "result": "ok"}
    try:
        if not board_id:
            raise CollectError("gate-error", f"the gate on {port} did not give its board id: is "
                               "its firmware older than this bzgate?", EXIT_GATE)
        _Collection(conn, link, hello, keys, summary, progress or (lambda done, total: None)).run(accept_gap)
        return summary
    except CollectError as e:
        summary.update(result=e.result, message=e.message)
        e.summary = summary
        raise
    except LinkError as e:
        message = (f"the gate stopped answering ({e}); what was stored is kept: run bzgate "
                   "collect again to go on")
        summary.update(result="gate-error", message=message)
        error = CollectError("gate-error", message, EXIT_GATE)
        error.summary = summary
        raise error from e
    finally:
        audit.record(conn, "collect", summary)


class _Collection:
    def __init__(self, conn, link: GateLink, hello: dict, keys: KeyStore, summary: dict,
                 progress: Progress):
        self.conn, self.link, self.summary, self.progress = conn, link, summary, progress
        self.board_id, self.gate_id = summary["board_id"], summary["gate_id"]
        self.key = keys.get(self.board_id)
        if self.key is None:
            raise CollectError("no-key", f"no key for board {self.board_id} (gate {self.gate_id}) "
                               f"in the key store {keys.path}: import it with "
                               f"`bzgate keys import --port {summary['port']}`", EXIT_USAGE)
        self.site = str(link.config_get().get("site", ""))
        self.firmware = str(hello.get("firmware", ""))
        self.now = int(time.time())
        self.prev_mac, self.prev_seq = record.GENESIS, -1  # the last record trusted: run() sets it
        self.stored = {"records": 0, "sightings": 0, "decisions": 0, "counts": 0, "events": 0,
                       "unreadable": 0, "clock_invalid": 0}

    def run(self, accept_gap: bool) -> None:
        board_end = _board_end(self.link.status())
        with transaction(self.conn):
            store.begin_journal(self.conn, self.board_id, self.gate_id, self.site, self.firmware, self.now)
        start, self.prev_mac = store.journal_position(self.conn, self.board_id)
        self.prev_seq = start - 1
        self.summary.update(site=self.site, from_seq=start, gate_end=board_end, stored=self.stored)
        if board_end < start:
            raise CollectError("rolled-back", self._about(
                f"the gate's journal ends at seq {board_end - 1}, but seq {start - 1} was already "
                "collected: its journal was replaced by an older copy or wiped. Nothing was stored; "
                "keep the board as it is and have its journal examined"), EXIT_REFUSED)
        batch: list = []
        due = 0.0
        for done, raw in enumerate(self.link.pull(start), 1):
            self.progress(done, board_end - start)
            if done == 1 and _seq(raw) > start:
                if not self._cross_gap(raw, start, accept_gap):
                    break
                continue
            if not batch:
                due = time.monotonic() + COMMIT_AFTER_S
            batch.append(raw)
            if len(batch) == COMMIT_EVERY or time.monotonic() >= due:
                if not self._commit(batch):
                    break
                batch = []
        else:
            if batch:
                self._commit(batch)
        self.summary["next_seq"] = self.prev_seq + 1
        if "broken_at" in self.summary:
            raise CollectError("broken-chain", self._about(
                f"the journal's chain breaks at seq {self.summary['broken_at']} "
                f"({self.summary['why']}): its records may have been changed, removed, reordered or "
                "forged. Records before it were stored; nothing from it on was trusted, and the raw "
                "records from there are kept in the database's evidence table and left on the gate. "
                "Keep the board as it is and report it"), EXIT_REFUSED)
        if self.prev_seq + 1 < board_end:
            raise CollectError("truncated", self._about(
                f"the gate holds records up to seq {board_end - 1} but sent only up to seq "
                f"{self.prev_seq}: records were removed from its flash (or the flash fails). What "
                "was sent and verified is stored; keep the board as it is and have it examined"),
                EXIT_REFUSED)

    def _about(self, text: str) -> str:
        return f"gate {self.gate_id} (board {self.board_id}): {text}"

    def _cross_gap(self, raw: bytes, start: int, accept_gap: bool) -> bool:
        """The gate's first record comes after seqs never collected here. True to go on."""
        first = _seq(raw)
        self.summary["gap"] = [start, first - 1]
        if not accept_gap:
            raise CollectError("gap", self._about(
                f"seqs {start} to {first - 1} are no longer on the gate and are not in this "
                "database: were they collected into another one? If they are lost for good, run "
                f"again with --accept-gap {self.gate_id} to store from seq {first} on (the gap goes "
                "into the audit). Nothing was stored"), EXIT_REFUSED)
        self.prev_mac, self.prev_seq = chain_after_gap(self.key, raw)
        if self.prev_seq < first:
            return self._commit([raw])
        with transaction(self.conn):
            store.keep_evidence(self.conn, self.board_id, first, GAP_UNCHECKED, [raw], self.now)
        return True

    def _commit(self, batch: list) -> bool:
        """Store the verified part of `batch`, then ack it; False where the chain breaks (that
        record and every one after it on the gate are kept as evidence)."""
        span = verify_span(self.key, batch, self.prev_mac, self.prev_seq)
        if span.refused:
            span.refused.extend(self.link.pull(self.prev_seq + 1 + len(batch)))
            self.summary.update(broken_at=span.broken_at, why=span.why)
        with transaction(self.conn):
            for name, n in store_span(self.conn, self.board_id, self.gate_id, self.site, span,
                                      self.now).items():
                self.stored[name] += n
        if span.trusted:
            self.prev_mac, self.prev_seq = record.mac_of(span.trusted[-1]), _seq(span.trusted[-1])
            self.summary["acked"] = self.link.ack(self.prev_seq)["acked"]
        return not span.refused
