"""What the ingest tests (and the firmware's uplink tests) share: a `bzgate ingest` running in a
thread, a private Mosquitto that can be stopped and started again, and a Python gate that
publishes real signed journal batches the way the firmware does (resume from the retained ack,
send the next batch, send again when no ack comes)."""

import json
import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from contextlib import contextmanager
from pathlib import Path

import paho.mqtt.client as mqtt
from collectkit import journal_bytes
from gatekit import wait_until

from bzcore import uplink
from bzgate.link.broker import PASSWORD_ENV, Broker
from bzgate.collect.uplink import Ingester
from bzgate.keys import KeyStore

LOCAL_BROKER = Broker("127.0.0.1", 1883)
BIN = Path(sys.executable).parent


def unique(prefix: str) -> str:
    """A topic prefix or client id no other test uses."""
    return f"{prefix}{uuid.uuid4().hex[:10]}"


@contextmanager
def running_ingester(broker: Broker, prefix: str, db, keys: KeyStore, client_id: str | None = None,
                     accept_gaps: tuple[str, ...] = (), **options):
    """An Ingester running in a thread, connected and subscribed; stopped at the end. `options`:
    Ingester's group, batch_records, batch_s."""
    ingester = Ingester(broker, prefix, db, keys, client_id or unique("ingest-"), accept_gaps, **options)
    thread = threading.Thread(target=ingester.run, daemon=True)
    thread.start()
    try:
        assert ingester.connected.wait(20), "the ingester did not connect to the broker"
        yield ingester
    finally:
        ingester.stop()
        thread.join(20)


class IngestProcess:
    """`bzgate ingest` as a process of its own (the command as a user runs it), logged in
    with the broker's password in $BZGATE_MQTT_PASSWORD; `counts` and `log` are filled in when
    it has ended."""

    def __init__(self, broker: Broker, prefix: str, db, keys: KeyStore, client_id: str | None = None,
                 sigint_ignored: bool = False, options: tuple[str, ...] = ()):
        self.client_id = client_id or unique("ingest-")
        self.process = subprocess.Popen(
            ingest_args(broker, prefix, db, keys) + ["--client-id", self.client_id, "--json", *options],
            env=ingest_env(broker), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
            # as a background job of a shell, or a supervisor, starts it
            preexec_fn=(lambda: signal.signal(signal.SIGINT, signal.SIG_IGN)) if sigint_ignored else None)
        self.log: list[str] = []
        self.counts: dict = {}
        for line in self.process.stderr:  # subscribed once it says it is connected
            self.log.append(line)
            if "connected to" in line:
                break
        self._drain = threading.Thread(target=lambda: self.log.extend(self.process.stderr), daemon=True)
        self._drain.start()
        assert self.process.poll() is None, "".join(self.log)

    def stop(self, stop_signal=signal.SIGINT) -> int:
        """Ctrl-C (or a service manager's SIGTERM), as a user ends it: its exit status."""
        self.process.send_signal(stop_signal)
        try:
            code = self.process.wait(30)  # its output is one line: the pipe cannot fill
        except subprocess.TimeoutExpired:
            self.process.kill()
            raise AssertionError(f"bzgate ingest did not end on signal {stop_signal}") from None
        out = self.process.stdout.read()
        self._drain.join(5)
        self.counts = json.loads(out) if out.strip() else {}
        return code

    def kill(self) -> None:
        """SIGKILL: no clean end, nothing more of it reaches the broker or the database."""
        self.process.kill()
        self.process.wait(10)
        self._drain.join(5)


def ingest_args(broker: Broker, prefix: str, db, keys: KeyStore) -> list[str]:
    """The command line of `bzgate ingest` for this broker (its CA too), without the password."""
    ca = ["--mqtt-ca", broker.ca_file] if broker.ca_file else []
    return [str(BIN / "bzgate"), "ingest", "--mqtt", broker.url, *ca, "--topic-prefix", prefix,
            "--db", str(db), "--keys", str(keys.path)]


def ingest_env(broker: Broker) -> dict:
    env = {k: v for k, v in os.environ.items() if k != PASSWORD_ENV}
    return env if broker.password is None else {**env, PASSWORD_ENV: broker.password}


@contextmanager
def ingest_process(broker: Broker, prefix: str, db, keys: KeyStore, client_id: str | None = None,
                   sigint_ignored: bool = False, options: tuple[str, ...] = ()):
    ingester = IngestProcess(broker, prefix, db, keys, client_id, sigint_ignored, options)
    try:
        yield ingester
    finally:
        if ingester.process.poll() is None:
            ingester.stop()


class PyGate:
    """A gate's uplink in Python: its board id, key and journal, a persistent MQTT session, the
    retained ack it resumes from."""

    def __init__(self, broker: Broker, prefix: str, gate_id: str, board_id: bytes, key: bytes,
                 records: int):
        self.prefix, self.gate_id, self.board_id = prefix, gate_id, board_id
        self.journal = journal_bytes(key, records)
        self.acked: tuple[str, int] | None = None
        self.client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=unique("gate-"),
                                  clean_session=False)
        broker.configure(self.client)
        self.client.reconnect_delay_set(min_delay=1, max_delay=2)
        self.client.on_connect = lambda c, *_: c.subscribe(self.topic(uplink.ACK), qos=1)
        self.client.on_message = self._on_ack
        self.client.connect_async(broker.host, broker.port, keepalive=10)
        self.client.loop_start()

    def topic(self, leaf: str) -> str:
        return uplink.topic(self.prefix, self.gate_id, leaf)

    def _on_ack(self, client, userdata, message) -> None:
        self.acked = uplink.parse_ack(message.payload)

    def acked_seq(self) -> int:
        if self.acked is None or self.acked[0] != self.board_id.hex():
            return -1
        return self.acked[1]

    def publish(self, raws: list[bytes]) -> None:
        """One batch as it is (any records, in any order), QoS 1."""
        self.publish_payload(uplink.encode_batch(self.board_id, raws))

    def publish_payload(self, payload: bytes) -> None:
        self.client.publish(self.topic(uplink.JOURNAL), payload, qos=1)

    def sync(self, until: int | None = None, batch: int = uplink.MAX_RECORDS, timeout: float = 60) -> bool:
        """Send from the acked seq on, a batch at a time, until seq `until` (the journal's end)
        is acked; a batch without an ack within 2 s is sent again. True when all was acked."""
        until = len(self.journal) - 1 if until is None else until
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            start = self.acked_seq() + 1
            if start > until:
                return True
            self.publish(self.journal[start:min(start + batch, until + 1)])
            wait_until(lambda: self.acked_seq() >= start, 2.0)
        return False

    def close(self) -> None:
        self.client.loop_stop()
        self.client.disconnect()


def sync_all(gates: list[PyGate], timeout: float = 90) -> None:
    """Every gate sends its whole journal at once, each from its own thread, until acked."""
    senders = [threading.Thread(target=gate.sync) for gate in gates]
    for sender in senders:
        sender.start()
    for sender in senders:
        sender.join(timeout)


def retained_ack(broker: Broker, prefix: str, gate_id: str, timeout: float = 10) -> dict | None:
    """The retained ack of a gate as a fresh subscriber gets it."""
    got: list = []
    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=unique("peek-"))
    client.on_connect = lambda c, *_: c.subscribe(uplink.topic(prefix, gate_id, uplink.ACK), qos=1)
    client.on_message = lambda c, u, m: got.append(json.loads(m.payload))
    broker.configure(client)
    client.connect(broker.host, broker.port)
    client.loop_start()
    try:
        wait_until(lambda: got, timeout)
    finally:
        client.loop_stop()
        client.disconnect()
    return got[-1] if got else None
