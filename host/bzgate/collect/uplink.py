"""Ingesting gates' journals from MQTT (the contract is bzcore.uplink): verify, store, then ack.

    Ingester(Broker.from_url("mqtt://127.0.0.1:1883"), "bzgate", db, KeyStore(path)).run()
    Ingester(..., group="central")   # ingesters of one group share the gates' batches

The messages on P/+/journal are stored many at a time, one database transaction per window
(collect.window: up to batch_records records, or batch_s after the first message came), each
batch checked and stored as collect.uplink_batch says. Only after the commit go the retained
acks P/G/ack {"board", "seq": the last stored seq}, where each gate resumes, and only then is
each message acknowledged to the broker (MQTT 5, the PUBACK sent by the ingester itself): a
message taken but not committed when the ingester dies, or loses the broker, comes again.

The subscription is QoS 1 in a persistent session (a fixed client id, a session that does not
expire): the broker keeps what arrives while the ingester is away. Without a group each
ingester takes every gate's batches. With one, the subscription is shared
($share/GROUP/P/+/journal): the broker hands each message to one ingester of the group, so one
gate's consecutive batches may go to different ingesters and be stored in either order of
their transactions. Each board's batches are stored in seq order whoever takes them: a batch
that finds its board's journal row locked waits for the other transaction (begin_journal); one
whose predecessor is not stored yet is held back and offered again in the next transactions
for up to GAP_PATIENCE_S, or three times the lag of the transactions when they lag more (its
predecessor is probably in another ingester's transaction), and after that refused as a gap:
the ack names the last seq stored, from which the gate resends.

An ack only ever names a committed seq. Acks of two ingesters for one gate may reach the broker
in the other order, so the retained one can be older than the store: the gate then sends again
what was stored already, which is stored once (a duplicate).

A database that goes away is waited for: the window is kept, nothing of it acknowledged, and
stored again once the database answers. A broker that refuses the login or whose certificate
is refused ends run() with a UserError (retrying cannot mend that); a broker that is away or
refuses for another reason is tried again until it answers.

Each transaction also writes the ingester's heartbeat (store.ingesters: its last commit, lag and
messages waiting), and an idle ingester writes one every HEARTBEAT_S, for `bzgate status`.
"""

import logging
import queue
import socket
import threading
import time

from bzcore import uplink, uplinkhost
from bzgate import store
from bzgate.collect.uplink_batch import RESULTS, Batch, store_batches
from bzgate.collect.window import Message, gather
from bzgate.errors import UserError
from bzgate.keys import KeyStore
from bzgate.link.broker import EXIT_BROKER, Broker, login_refused
from bzgate.store import audit, ingesters
from bzgate.store.dialect import DATABASE_ERRORS

log = logging.getLogger("bzgate.collect.uplink")
BATCH_RECORDS = 2000  # records in one transaction, at most
BATCH_S = 0.2  # a transaction is committed at most this long after its first message came
GAP_PATIENCE_S = 2.0  # how long a batch may wait for its predecessor before it is refused,
GAP_PATIENCE_LAGS = 3  # or this many times the last transaction's lag, when that is longer
RECEIVE_MAX = 4000  # messages the broker may send before the ingester acknowledges them
HEARTBEAT_S = 5.0  # an idle ingester's heartbeat
DB_RETRY_S = (0.5, 5.0)  # the wait before opening the database again, doubling up to the second
SESSION_TAKEN_OVER = 142  # DISCONNECT reason: another client connected with this client id


def check_prefix(prefix: str) -> None:
    """UserError unless the gates' topics can be made of this --topic-prefix."""
    try:
        uplink.topic(prefix, "g", uplink.JOURNAL)
    except ValueError:
        raise UserError(f"--topic-prefix {prefix!r}: MQTT topic levels without + or #, "
                        "no leading or trailing /") from None


def check_group(group: str | None) -> None:
    """UserError unless a shared subscription can be named so."""
    if group is not None and (not group or any(c in group for c in "/+#")):
        raise UserError(f"--group {group!r}: a name without /, + or #")


def default_client_id() -> str:
    """One persistent session per host: the broker keeps its messages while it is away."""
    return "bzgate-ingest-" + socket.gethostname()


class Ingester:
    """One connection to the broker (paho's thread) and one to the database (run()'s thread,
    which stores the windows); run() until stop()."""

    def __init__(self, broker: Broker, prefix: str, db, keys: KeyStore,
                 client_id: str | None = None, accept_gaps: tuple[str, ...] = (),
                 group: str | None = None, batch_records: int = BATCH_RECORDS,
                 batch_s: float = BATCH_S):
        check_prefix(prefix)
        check_group(group)
        self.broker, self.prefix, self.keys, self.db = broker, prefix, keys, db
        self.client_id, self.group = client_id or default_client_id(), group
        self.batch_records, self.batch_s = batch_records, batch_s
        self.accept_gaps = set(accept_gaps)  # gate ids; each gap accepted once
        journals = f"{prefix}/+/{uplink.JOURNAL}"
        self.subscription = journals if group is None else f"$share/{group}/{journals}"
        store.open_store(db).close()  # created or migrated now: errors before any message
        self.conn = None  # run() opens its own: an SQLite connection stays in its thread
        self.counts = dict.fromkeys(("batches", *RESULTS, "transactions"), 0)
        self.records = 0
        self.connected = threading.Event()
        self.stopping = threading.Event()
        self.failure: str | None = None  # why run() gave up: a login or certificate refused
        self.inbox: queue.Queue[Message] = queue.Queue()
        # mid -> the message last delivered with it, not acknowledged yet: a message the broker
        # sends again (DUP) after a reconnect is acknowledged once, and a mid of a session the
        # broker has lost is never acknowledged (it could name another message by now).
        self.outstanding: dict[int, Message] = {}
        self._acking = threading.Lock()
        self.started = int(time.time())
        self.last_commit: int | None = None
        self.lag_ms: int | None = None
        self.client = broker.client(self.client_id, persistent=True, acked_by_caller=RECEIVE_MAX,
                                    on_connect=self._on_connect,
                                    on_connect_fail=self._on_connect_fail,
                                    on_disconnect=self._on_disconnect, on_message=self._on_message)
        self.client.on_subscribe = self._on_subscribe

    def run(self) -> None:
        """Take batches until stop() (or Ctrl-C); the broker and the database may come and go
        meanwhile. A refused login or certificate ends it with a UserError."""
        self.conn = store.open_store(self.db)
        self.client.loop_start()
        try:
            self._store_windows()
        except KeyboardInterrupt:
            pass  # the window being stored is not acknowledged: the broker sends it again
        finally:
            self.client.disconnect()  # a clean end, not a lost link
            self.client.loop_stop()
            if self.conn is not None:
                self.conn.close()
        if self.failure is not None:
            raise UserError(self.failure, exit_code=EXIT_BROKER)

    def stop(self) -> None:
        self.stopping.set()

    # --- paho's thread ---------------------------------------------------------------------
    def _on_connect(self, client, userdata, flags, reason, properties) -> None:
        if login_refused(reason):
            return self._give_up(self.broker.refusal(reason))
        if reason.is_failure:  # paho tries again
            return log.warning("%s", self.broker.refusal(reason))
        if not flags.session_present:
            with self._acking:  # before the subscription: no new message can take a mid yet
                self.outstanding.clear()
        client.subscribe(self.subscription, qos=1)

    def _on_subscribe(self, client, userdata, mid, reasons, properties) -> None:
        if any(reason.is_failure for reason in reasons):
            return self._give_up(f"broker {self.broker.url} refused the subscription to "
                                 f"{self.subscription}: {', '.join(map(str, reasons))}")
        log.info("connected to %s, taking %s", self.broker.url, self.subscription)
        self.connected.set()  # from now on the broker keeps the gates' batches for this session

    def _on_connect_fail(self, client, userdata) -> None:
        why = self.broker.certificate_refused()
        if why is not None:
            self._give_up(why)

    def _give_up(self, why: str) -> None:
        self.failure = why
        self.stopping.set()
        self.client.disconnect()  # paho's loop ends instead of reconnecting

    def _on_disconnect(self, client, userdata, flags, reason, properties) -> None:
        self.connected.clear()
        if reason.value == SESSION_TAKEN_OVER:
            log.warning("another client connected as %s and took this session: give each "
                        "ingester its own --client-id", self.client_id)
        elif reason.is_failure and self.failure is None:
            log.warning("lost the broker (%s); reconnecting", reason)

    def _on_message(self, client, userdata, message) -> None:
        parsed = uplinkhost.parse_topic(message.topic)
        if parsed is None or parsed[2] != uplink.JOURNAL:
            client.ack(message.mid, message.qos)  # not ours to store: the broker may drop it
            return
        taken = Message(parsed[1], message.payload, message.mid, message.qos, time.monotonic())
        with self._acking:
            self.outstanding[message.mid] = taken
        self.inbox.put(taken)

    # --- run()'s thread --------------------------------------------------------------------
    def _store_windows(self) -> None:
        held: list[Message] = []  # batches waiting for their predecessors
        beaten = time.monotonic()
        while not self.stopping.is_set():
            window = gather(self.inbox, held, self.batch_records, self.batch_s, idle_s=0.5)
            if window:
                held = self._commit(window)
                beaten = time.monotonic()
            elif time.monotonic() - beaten > HEARTBEAT_S:
                self._in_database(lambda conn: ingesters.beat(conn, self._beat(0)))
                beaten = time.monotonic()

    def _commit(self, window: list[Message]) -> list[Message]:
        """One transaction for the window, then its acks; the messages held back."""
        batches = [Batch(m.gate_id, m.payload, m) for m in window]
        oldest = min(m.arrived for m in window)

        def may_wait(batch: Batch) -> bool:
            return time.monotonic() - batch.tag.arrived < self._patience()

        def write(conn):
            outcome = store_batches(conn, batches, self.keys, self.accept_gaps,
                                    int(time.time()), may_wait)
            for action, detail in outcome.audits:  # committed with the evidence they tell of
                audit.add(conn, action, detail)
            self.lag_ms = int((time.monotonic() - oldest) * 1000)
            self.last_commit = int(time.time())
            ingesters.beat(conn, self._beat(len(outcome.waiting), outcome))
            return outcome

        outcome = self._in_database(write)
        if outcome is None:  # stopping before it could be stored: nothing acknowledged
            return []
        for gate_id, ack in outcome.acks.items():
            self.client.publish(uplink.topic(self.prefix, gate_id, uplink.ACK),
                                uplinkhost.ack_payload(*ack), qos=1, retain=True)
        with self._acking:
            for message in (batch.tag for batch in outcome.done):
                if self.outstanding.get(message.mid) is message:
                    del self.outstanding[message.mid]
                    self.client.ack(message.mid, message.qos)
        self._count(outcome)
        return [batch.tag for batch in outcome.waiting]

    def _patience(self) -> float:
        """How long a batch may wait for its predecessor. Without a group the broker hands this
        ingester every batch of a gate in order: none is in another ingester's transaction. In
        a group, longer while transactions lag (the other ingesters' lag as much as this one's)."""
        if self.group is None:
            return 0.0
        return max(GAP_PATIENCE_S, GAP_PATIENCE_LAGS * (self.lag_ms or 0) / 1000)

    def _beat(self, waiting: int, outcome=None) -> ingesters.Beat:
        pending = {"transactions": 1, "batches": len(outcome.done), "records": outcome.records} \
            if outcome else {"transactions": 0, "batches": 0, "records": 0}
        return ingesters.Beat(
            self.client_id, self.group, socket.gethostname(), self.started, int(time.time()),
            self.last_commit, self.counts["transactions"] + pending["transactions"],
            self.counts["batches"] + pending["batches"], self.records + pending["records"],
            self.lag_ms, self.inbox.qsize() + waiting)

    def _count(self, outcome) -> None:
        self.counts["transactions"] += 1
        self.counts["batches"] += len(outcome.done)
        for result, n in outcome.counts.items():
            self.counts[result] += n
        self.records += outcome.records
        self.accept_gaps -= outcome.gaps_crossed

    def _in_database(self, write):
        """write(conn) in one transaction, tried again on a fresh connection while the database
        is away; its result, or None when stop() came first."""
        wait = DB_RETRY_S[0]
        while not self.stopping.is_set():
            try:
                if self.conn is None:
                    self.conn = store.open_store(self.db)
                with store.transaction(self.conn):
                    return write(self.conn)
            except (*DATABASE_ERRORS, UserError) as e:
                log.warning("the database failed (%s); trying again in %.1f s",
                            getattr(e, "message", None) or str(e).strip(), wait)
                self._drop_connection()
                self.stopping.wait(wait)
                wait = min(wait * 2, DB_RETRY_S[1])
        return None

    def _drop_connection(self) -> None:
        if self.conn is not None:
            try:
                self.conn.close()
            except DATABASE_ERRORS:
                pass
            self.conn = None
