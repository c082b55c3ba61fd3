"""Many journal batches from the broker stored in one database transaction (bzgate ingest).

    outcome = store_batches(conn, batches, keys, accept_gaps, now, may_wait)
    # after the commit: outcome.acks, outcome.done (to acknowledge to the broker), outcome.waiting

Each batch is checked as `bzgate collect` checks a pull (verify_span, from the board's stored
position, with its key from the host key store); what verifies of every board goes to the
store at the end, in one store.store_many (idempotent by (board, seq)), and the boards' journal
and uplink rows are read and written a statement for all (store.intake). The batches of one
board are taken in seq order, so batches that came out of order within one transaction are
stored in order.

    duplicate   records already stored: nothing written, the ack repeats the position (a
                replayed record that differs from the stored one is kept as evidence)
    gap         the batch starts after the next seq to store: nothing stored, the ack says
                where to resume. While `may_wait(batch)` says so, the batch is not refused
                but handed back (`waiting`): with several ingesters its predecessor may be in
                another one's transaction, and the caller offers it again in the next one.
                For a gate named in accept_gaps (its records before are lost for good, or
                were stored in another database) the batch is stored as collect --accept-gap
                stores it, the gap goes into the audit, and the next gap of that gate is
                refused again
    broken      a record does not verify: the records before it are stored, it and the rest
                of the batch are kept as evidence, nothing of them trusted; the other boards'
                batches in the transaction are stored as usual
    malformed   not a batch at all (hostrecord.decode_batch): kept as evidence
    no-key      the board has no key on this host: nothing stored, no ack (import its key)

The boards' journal rows are taken first (intake.take_journals), in board-id order: each is a
lock until the commit, and two ingesters that lock their boards in one order cannot deadlock.
"""

import logging
from dataclasses import dataclass, field

from bzcore import record
from bzgate import hostrecord, store
from bzgate.collect.board import GAP_UNCHECKED, chain_after_gap, verify_span
from bzgate.errors import UserError
from bzgate.keys import KeyStore
from bzgate.store import intake
from bzgate.store.rows import BoardRecords

log = logging.getLogger("bzgate.collect.uplink")
EVIDENCE_MAX = 64 * 1024  # of a malformed payload, the bytes kept
UNKNOWN_BOARD = "?"  # evidence of a payload that names no board
RESULTS = ("stored", "duplicate", "gap", "gap-accepted", "broken", "malformed", "no-key")


@dataclass
class Batch:
    """One journal message: its gate (from the topic), payload, and the caller's own `tag`
    (what it acknowledges the message to the broker with)."""
    gate_id: str
    payload: bytes
    tag: object = None
    board_id: str = ""
    raws: list = field(default_factory=list)

    @property
    def first(self) -> int:
        return _seq(self.raws[0])

    def decode(self) -> str | None:
        """None when the payload is a batch (board_id and raws set), else why not."""
        try:
            self.board_id, self.raws = hostrecord.decode_batch(self.payload)
        except ValueError as e:
            return str(e)
        return None


@dataclass
class Outcome:
    """What one transaction did, for the caller to act on once it has committed."""
    acks: dict = field(default_factory=dict)  # gate id -> (board, last stored seq)
    done: list = field(default_factory=list)  # batches finished with: acknowledge them
    waiting: list = field(default_factory=list)  # gaps handed back, to offer again
    counts: dict = field(default_factory=lambda: dict.fromkeys(RESULTS, 0))
    records: int = 0  # records newly stored
    audits: list = field(default_factory=list)  # (action, detail), written in the same transaction
    gaps_crossed: set = field(default_factory=set)  # gates whose accepted gap is used up


def store_batches(conn, batches: list[Batch], keys: KeyStore, accept_gaps: set, now: int,
                  may_wait=lambda batch: False) -> Outcome:
    """Inside the caller's transaction: every batch stored, refused or handed back."""
    out = Outcome()
    by_board: dict[str, list[Batch]] = {}
    for batch in batches:
        why = batch.decode()
        if why is None:
            by_board.setdefault(batch.board_id, []).append(batch)
        else:
            _malformed(conn, batch, why, now, out)
    positions = intake.take_journals(conn, [(board_id, board[-1].gate_id)
                                            for board_id, board in by_board.items()], now)
    spans: list[BoardRecords] = []
    notes: list[intake.UplinkNote] = []
    for board_id in sorted(by_board):
        board = _Board(conn, board_id, keys, accept_gaps - out.gaps_crossed, positions[board_id], now, out)
        board.take(sorted(by_board[board_id], key=lambda b: b.first), may_wait)
        spans += board.spans
        notes += board.note()
    store.store_many(conn, spans, now, {board_id: position.next_seq
                                        for board_id, position in positions.items()})
    intake.note_uplinks(conn, notes, now)
    return out


class _Board:
    """One board's batches in the transaction, in seq order, from its journal's position."""

    def __init__(self, conn, board_id: str, keys: KeyStore, accept_gaps: set,
                 position: intake.Position, now: int, out: Outcome):
        self.conn, self.board_id, self.accept_gaps, self.now, self.out = conn, board_id, accept_gaps, now, out
        self.next_seq, self.prev_mac, self.site = position
        self.spans: list[BoardRecords] = []  # the trusted records, for store_many
        self.seen, self.batches, self.refused, self.problem, self.gate_id = -1, 0, 0, None, ""
        try:
            self.key = keys.get(board_id)
        except UserError as e:  # a damaged key store: say so, and keep running
            self.key, self.why_no_key = None, e.message
        else:
            self.why_no_key = f"no key for board {board_id} in {keys.path}: import it"

    def take(self, batches: list[Batch], may_wait) -> None:
        for batch in batches:
            if self.key is None:
                self._finish(batch, "no-key", self.why_no_key, None)
                continue
            if batch.first > self.next_seq and batch.gate_id not in self.accept_gaps and may_wait(batch):
                self.out.waiting.append(batch)
                continue
            gap = [self.next_seq, batch.first - 1]  # for an accepted gap: the seqs given up
            result, problem = self._store(batch)
            if result == "broken":
                self.out.audits.append(("ingest-refused", {"gate_id": batch.gate_id,
                                                           "board_id": self.board_id, "why": problem}))
            if result == "gap-accepted":
                self.out.audits.append(("ingest-gap-accepted", {
                    "gate_id": batch.gate_id, "board_id": self.board_id, "gap": gap}))
            self._finish(batch, result, problem, (self.board_id, self.next_seq - 1))

    def note(self) -> list[intake.UplinkNote]:
        """The board's uplink row after its batches (none when all were handed back)."""
        if not self.batches:
            return []
        return [intake.UplinkNote(self.board_id, self.gate_id, self.seen, self.next_seq - 1,
                                  self.batches, self.refused, self.problem)]

    def _finish(self, batch: Batch, result: str, problem: str | None, ack) -> None:
        self.out.counts[result] += 1
        self.out.done.append(batch)
        self.seen = max(self.seen, _seq(batch.raws[-1]))
        self.batches += 1
        self.refused += problem is not None
        self.problem, self.gate_id = problem, batch.gate_id
        if ack is not None:
            self.out.acks[batch.gate_id] = ack
        if problem:
            log.warning("gate %s (board %s): %s", batch.gate_id, self.board_id, problem)

    def _store(self, batch: Batch) -> tuple[str, str | None]:
        """("stored" | "duplicate" | "gap" | "gap-accepted" | "broken", problem)."""
        raws, first, gate_id, next_seq = batch.raws, batch.first, batch.gate_id, self.next_seq
        if first > next_seq and gate_id in self.accept_gaps:
            return self._cross_gap(batch)
        if first > next_seq:
            return "gap", (f"batch from seq {first}, but seq {next_seq} is the next to store: resume "
                           f"there (if seqs {next_seq} to {first - 1} are lost for good, run ingest "
                           f"with --accept-gap {gate_id})")
        self._check_replayed(raws[:max(0, next_seq - first)])
        new = raws[max(0, next_seq - first):]
        if not new:
            return "duplicate", None
        return self._keep(gate_id, verify_span(self.key, new, self.prev_mac, next_seq - 1))

    def _keep(self, gate_id: str, span) -> tuple[str, str | None]:
        """A checked span: its trusted records to store, the rest kept as evidence now."""
        if span.trusted:
            last = span.trusted[-1]
            if self.spans and self.spans[-1].gate_id == gate_id:
                self.spans[-1].raws.extend(span.trusted)
            else:
                self.spans.append(BoardRecords(self.board_id, gate_id, self.site, list(span.trusted)))
            self.next_seq, self.prev_mac = _seq(last) + 1, record.mac_of(last)
            self.out.records += len(span.trusted)
        if span.refused:
            store.keep_evidence(self.conn, self.board_id, span.broken_at, span.why, span.refused, self.now)
            return "broken", (f"refused from seq {span.broken_at} ({span.why}): forged or changed; "
                              "kept as evidence")
        return "stored", None

    def _cross_gap(self, batch: Batch) -> tuple[str, str | None]:
        """A gap accepted for this gate: the batch checked from where the chain can be."""
        raws, first, gate_id = batch.raws, batch.first, batch.gate_id
        prev_mac, prev_seq = chain_after_gap(self.key, raws[0])
        if prev_seq == first:
            store.keep_evidence(self.conn, self.board_id, first, GAP_UNCHECKED, raws[:1], self.now)
        gap = (self.next_seq, first - 1)
        span = verify_span(self.key, raws[prev_seq + 1 - first:], prev_mac, prev_seq)
        result = self._keep(gate_id, span)
        if not span.trusted:
            return result
        self.accept_gaps.discard(gate_id)  # stored past the gap: the next one is asked again
        self.out.gaps_crossed.add(gate_id)
        log.warning("gate %s (board %s): gap of seqs %d to %d accepted, stored from seq %d on",
                    gate_id, self.board_id, *gap, _seq(span.trusted[0]))
        return result if span.refused else ("gap-accepted", None)

    def _check_replayed(self, old: list) -> None:
        """Records the store has already: one that differs from the stored copy is evidence."""
        if not old:
            return
        stored = dict(self.conn.execute(
            "SELECT seq, raw FROM records WHERE board_id = ? AND seq >= ? AND seq <= ?",
            (self.board_id, _seq(old[0]), _seq(old[-1]))).fetchall())
        for raw in old:
            kept = stored.get(_seq(raw))
            if kept is not None and bytes(kept) != raw:
                store.keep_evidence(self.conn, self.board_id, _seq(raw),
                                    "differs from the stored record of this seq", [raw], self.now)


def _malformed(conn, batch: Batch, why: str, now: int, out: Outcome) -> None:
    store.keep_evidence(conn, UNKNOWN_BOARD, -1, f"not a journal batch from gate {batch.gate_id}: {why}",
                        [bytes(batch.payload[:EVIDENCE_MAX])], now)
    out.audits.append(("ingest-refused", {"gate_id": batch.gate_id, "why": why}))
    out.counts["malformed"] += 1
    out.done.append(batch)
    log.warning("gate %s: not a journal batch (%s); kept as evidence", batch.gate_id, why)


def _seq(raw: bytes) -> int:
    return int.from_bytes(raw[:4], "big")  # a record's seq: bytes 0..3
