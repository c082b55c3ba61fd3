"""Ingesting gates' journals from MQTT (the contract is bzcore.uplink): verify, store, then ack.

    Ingester(Broker.from_url("mqtt://127.0.0.1:1883"), "bzgate", db, KeyStore(path)).run()

Each batch on P/+/journal is checked as `bzgate collect` checks a pull (collect.verify_span,
from the board's stored position, with its key from the host key store) and stored the same
way (collect.store_span: idempotent by (board, seq)), in one transaction; only after the commit
goes the retained ack P/G/ack {"board", "seq": the last stored seq}, where the gate resumes.

    duplicate   records already stored: nothing written, the ack repeats the position (a
                replayed record that differs from the stored one is kept as evidence)
    gap         the batch starts after the next seq to store: nothing stored, the ack says
                where to resume. For a gate named in accept_gaps (its records before are lost
                for good, or were stored in another database) the batch is stored as collect
                --accept-gap stores it, the gap goes into the audit, and the next gap of that
                gate is refused again
    broken      a record does not verify: the records before it are stored, it and the rest
                of the batch are kept as evidence, nothing of them trusted
    malformed   not a batch at all (bzcore.uplink.decode_batch): kept as evidence
    no-key      the board has no key on this host: nothing stored, no ack (import its key)

The subscription is QoS 1 in a persistent session (a fixed client id, clean_session off): the
broker keeps what arrives while the ingester is away. paho acknowledges a message to the
broker once on_message returns, so a message being stored when the ingester dies comes again.
Several ingesters may share one PostgreSQL database: a batch's transaction starts by taking its
board's journal row (begin_journal), so one board's batches are stored one at a time.

A broker that refuses the login or whose certificate is refused ends run() with a UserError
(retrying cannot mend that); a broker that is away or refuses for another reason is tried
again until it answers.
"""

import logging
import socket
import threading
import time

from bzcore import record, uplink
from bzgate import store
from bzgate.collect.board import GAP_UNCHECKED, chain_after_gap, store_span, verify_span
from bzgate.errors import UserError
from bzgate.keys import KeyStore
from bzgate.link.broker import EXIT_BROKER, Broker, login_refused
from bzgate.store import audit

log = logging.getLogger("bzgate.collect.uplink")
EVIDENCE_MAX = 64 * 1024  # of a malformed payload, the bytes kept
UNKNOWN_BOARD = "?"  # evidence of a payload that names no board


def check_prefix(prefix: str) -> None:
    """UserError unless the gates' topics can be made of this --topic-prefix."""
    try:
        uplink.topic(prefix, "g", uplink.JOURNAL)
    except ValueError:
        raise UserError(f"--topic-prefix {prefix!r}: MQTT topic levels without + or #, "
                        "no leading or trailing /") from None


def default_client_id() -> str:
    """One persistent session per host: the broker keeps its messages while it is away."""
    return "bzgate-ingest-" + socket.gethostname()


class Ingester:
    """One connection to the broker and one to the database; run() until stop()."""

    def __init__(self, broker: Broker, prefix: str, db, keys: KeyStore,
                 client_id: str | None = None, accept_gaps: tuple[str, ...] = ()):
        check_prefix(prefix)
        self.broker, self.prefix, self.keys, self.db = broker, prefix, keys, db
        self.accept_gaps = set(accept_gaps)  # gate ids; each gap accepted once
        self.subscription = f"{prefix}/+/{uplink.JOURNAL}"
        store.open_store(db).close()  # created or migrated now: errors before any message
        self.conn = None  # run() opens its own: an SQLite connection stays in its thread
        self.counts = {"batches": 0, "stored": 0, "duplicate": 0, "gap": 0, "gap-accepted": 0,
                       "broken": 0, "malformed": 0, "no-key": 0}
        self.connected = threading.Event()
        self.failure: str | None = None  # why run() gave up: a login or certificate refused
        self.client = broker.client(client_id or default_client_id(), persistent=True,
                                    on_connect=self._on_connect,
                                    on_connect_fail=self._on_connect_fail,
                                    on_disconnect=self._on_disconnect, on_message=self._on_message)

    def run(self) -> None:
        """Take batches until stop() (or Ctrl-C); the broker may come and go meanwhile. A
        refused login or certificate ends it with a UserError."""
        self.conn = store.open_store(self.db)
        try:
            self.client.loop_forever(retry_first_connection=True)
        except KeyboardInterrupt:
            self.client.disconnect()
            self.client.loop(timeout=1)  # sends the DISCONNECT: a clean end, not a lost link
        finally:
            self.conn.close()
        if self.failure is not None:
            raise UserError(self.failure, exit_code=EXIT_BROKER)

    def stop(self) -> None:
        self.client.disconnect()

    def _on_connect(self, client, userdata, flags, reason, properties) -> None:
        if login_refused(reason):
            return self._give_up(self.broker.refusal(reason))
        if reason.is_failure:  # paho tries again
            return log.warning("%s", self.broker.refusal(reason))
        client.subscribe(self.subscription, qos=1)
        log.info("connected to %s, taking %s", self.broker.url, self.subscription)
        self.connected.set()

    def _on_connect_fail(self, client, userdata) -> None:
        why = self.broker.certificate_refused()
        if why is not None:
            self._give_up(why)

    def _give_up(self, why: str) -> None:
        self.failure = why
        self.client.disconnect()  # loop_forever returns instead of reconnecting

    def _on_disconnect(self, client, userdata, flags, reason, properties) -> None:
        self.connected.clear()
        if reason.is_failure and self.failure is None:
            log.warning("lost the broker (%s); reconnecting", reason)

    def _on_message(self, client, userdata, message) -> None:
        parsed = uplink.parse_topic(message.topic)
        if parsed is None or parsed[2] != uplink.JOURNAL:
            return
        ack = self.take(parsed[1], message.payload)
        if ack is not None:
            client.publish(uplink.topic(self.prefix, parsed[1], uplink.ACK),
                           uplink.ack_payload(*ack), qos=1, retain=True)

    def take(self, gate_id: str, payload: bytes) -> tuple[str, int] | None:
        """Store one journal payload of `gate_id`: the (board, last stored seq) to ack, or None
        when there is nothing to ack (not a batch, or a board without a key)."""
        self.counts["batches"] += 1
        now = int(time.time())
        try:
            board_id, raws = uplink.decode_batch(payload)
        except ValueError as e:
            return self._malformed(gate_id, payload, str(e), now)
        try:
            key = self.keys.get(board_id)
        except UserError as e:  # a damaged key store: say so, and keep running
            key, why = None, e.message
        else:
            why = f"no key for board {board_id} in {self.keys.path}: import it"
        with store.transaction(self.conn):
            # Taking the journal row first makes another ingester's batch of this board wait.
            site, firmware = store.known_gate(self.conn, board_id)
            store.begin_journal(self.conn, board_id, gate_id, site, firmware, now)
            next_seq, prev_mac = store.journal_position(self.conn, board_id)
            seen = _seq(raws[-1])
            if key is None:
                return self._refused(board_id, gate_id, seen, next_seq, "no-key", why, now)
            result, problem = self._store(board_id, gate_id, site, raws, key, next_seq, prev_mac, now)
            gap = [next_seq, _seq(raws[0]) - 1]  # for an accepted gap: the seqs given up
            stored_seq = store.journal_position(self.conn, board_id)[0] - 1
            store.note_uplink(self.conn, board_id, gate_id, seen, stored_seq, now, problem)
        self.counts[result] += 1
        if problem:
            log.warning("gate %s (board %s): %s", gate_id, board_id, problem)
        if result == "broken":
            audit.record(self.conn, "ingest-refused", {"gate_id": gate_id, "board_id": board_id,
                                                       "why": problem})
        if result == "gap-accepted":
            audit.record(self.conn, "ingest-gap-accepted", {"gate_id": gate_id, "board_id": board_id,
                                                            "gap": gap})
        return board_id, stored_seq

    def _store(self, board_id, gate_id, site, raws, key, next_seq, prev_mac, now) -> tuple[str, str | None]:
        """Inside the batch's transaction: ("stored" | "duplicate" | "gap" | "gap-accepted" |
        "broken", problem)."""
        first = _seq(raws[0])
        if first > next_seq and gate_id in self.accept_gaps:
            return self._cross_gap(board_id, gate_id, site, raws, key, next_seq, now)
        if first > next_seq:
            return "gap", (f"batch from seq {first}, but seq {next_seq} is the next to store: resume "
                           f"there (if seqs {next_seq} to {first - 1} are lost for good, run ingest "
                           f"with --accept-gap {gate_id})")
        self._check_replayed(board_id, raws[:max(0, next_seq - first)], now)
        new = raws[max(0, next_seq - first):]
        if not new:
            return "duplicate", None
        span = verify_span(key, new, prev_mac, next_seq - 1)
        store_span(self.conn, board_id, gate_id, site, span, now)
        return _outcome(span)

    def _cross_gap(self, board_id, gate_id, site, raws, key, next_seq, now) -> tuple[str, str | None]:
        """A gap accepted for this gate: the batch checked from where the chain can be."""
        first = _seq(raws[0])
        prev_mac, prev_seq = chain_after_gap(key, raws[0])
        if prev_seq == first:
            store.keep_evidence(self.conn, board_id, first, GAP_UNCHECKED, raws[:1], now)
        span = verify_span(key, raws[prev_seq + 1 - first:], prev_mac, prev_seq)
        store_span(self.conn, board_id, gate_id, site, span, now)
        if not span.trusted:
            return _outcome(span)
        self.accept_gaps.discard(gate_id)  # stored past the gap: the next one is asked again
        log.warning("gate %s (board %s): gap of seqs %d to %d accepted, stored from seq %d on",
                    gate_id, board_id, next_seq, first - 1, _seq(span.trusted[0]))
        return _outcome(span) if span.refused else ("gap-accepted", None)

    def _check_replayed(self, board_id: str, old: list, now: int) -> None:
        """Records the store has already: one that differs from the stored copy is evidence."""
        if not old:
            return
        stored = dict(self.conn.execute(
            "SELECT seq, raw FROM records WHERE board_id = ? AND seq >= ? AND seq <= ?",
            (board_id, _seq(old[0]), _seq(old[-1]))).fetchall())
        for raw in old:
            kept = stored.get(_seq(raw))
            if kept is not None and bytes(kept) != raw:
                store.keep_evidence(self.conn, board_id, _seq(raw),
                                    "differs from the stored record of this seq", [raw], now)

    def _refused(self, board_id, gate_id, seen, next_seq, result, why, now) -> None:
        store.note_uplink(self.conn, board_id, gate_id, seen, next_seq - 1, now, why)
        self.counts[result] += 1
        log.warning("gate %s (board %s): %s", gate_id, board_id, why)

    def _malformed(self, gate_id: str, payload: bytes, why: str, now: int) -> None:
        raw = bytes(payload[:EVIDENCE_MAX])
        with store.transaction(self.conn):
            store.keep_evidence(self.conn, UNKNOWN_BOARD, -1,
                                f"not a journal batch from gate {gate_id}: {why}", [raw], now)
        audit.record(self.conn, "ingest-refused", {"gate_id": gate_id, "why": why})
        self.counts["malformed"] += 1
        log.warning("gate %s: not a journal batch (%s); kept as evidence", gate_id, why)


def _outcome(span) -> tuple[str, str | None]:
    """A stored span's result and problem: "broken" when the chain broke inside it."""
    if span.refused:
        return "broken", (f"refused from seq {span.broken_at} ({span.why}): forged or changed; "
                          "kept as evidence")
    return "stored", None


def _seq(raw: bytes) -> int:
    return record.decode(raw).seq

