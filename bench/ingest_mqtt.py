"""Records per second from 50 gates publishing at once through the local Mosquitto into
`bzgate ingest` (a process of its own), into PostgreSQL and into SQLite, against a baseline of
the same records stored directly (verify + store_records, one process, the same batches of 20,
one transaction each). Each gate publishes its whole journal as QoS 1 batches at once; the time
runs from the first publish to the last gate's final ack.

    .venv/bin/python bench/ingest_mqtt.py [--gates 50] [--records 200]

Needs Mosquitto on 127.0.0.1:1883 and PostgreSQL on 127.0.0.1:5432 (trust auth, user postgres);
a missing one is reported and its figures left out.
"""

import argparse
import json
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

import paho.mqtt.client as mqtt
import psycopg
from ingest import T0, journal  # bench/ingest.py: the same journal as the direct benchmark

from bzcore import record, uplink
from bzgate import store
from bzgate.collect.board import store_span, verify_span
from bzgate.keys import KeyStore

BIN = Path(sys.executable).parent
BROKER = ("127.0.0.1", 1883)
PG_ADMIN = "postgresql://postgres@127.0.0.1:5432/postgres"


def batches(raws: list[bytes]) -> list[list[bytes]]:
    return [raws[k:k + uplink.MAX_RECORDS] for k in range(0, len(raws), uplink.MAX_RECORDS)]


class Gate:
    """One gate's MQTT client: publishes its batches, follows its retained ack."""

    def __init__(self, prefix: str, number: int, board: bytes, raws: list[bytes]):
        self.prefix, self.gate_id, self.board, self.raws = prefix, f"g{number}", board, raws
        self.done = threading.Event()
        self.client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=f"bench-{prefix}-{number}")
        self.client.max_inflight_messages_set(100)
        self.client.on_connect = lambda c, *_: c.subscribe(uplink.topic(prefix, self.gate_id, "ack"), 1)
        self.client.on_message = self._on_ack
        self.client.connect(*BROKER)
        self.client.loop_start()

    def _on_ack(self, client, userdata, message) -> None:
        ack = uplink.parse_ack(message.payload)
        if ack == (self.board.hex(), len(self.raws) - 1):
            self.done.set()

    def publish(self) -> None:
        for batch in batches(self.raws):
            self.client.publish(uplink.topic(self.prefix, self.gate_id, "journal"),
                                uplink.encode_batch(self.board, batch), qos=1)

    def close(self) -> None:
        self.client.loop_stop()
        self.client.disconnect()


def through_mqtt(db, keys: KeyStore, journals: dict[bytes, list[bytes]]) -> tuple[float, dict]:
    """Seconds from the first publish to the last final ack, and the ingester's counts."""
    prefix = "bench" + uuid.uuid4().hex[:8]
    ingester = subprocess.Popen([str(BIN / "bzgate"), "ingest", "--mqtt", "mqtt://%s:%d" % BROKER,
                                 "--topic-prefix", prefix, "--db", str(db), "--keys", str(keys.path),
                                 "--client-id", prefix, "--json"],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    log = []
    for line in ingester.stderr:  # its log says when it is subscribed
        log.append(line)
        if "connected to" in line or ingester.poll() is not None:
            break
    threading.Thread(target=lambda: log.extend(ingester.stderr), daemon=True).start()
    gates = [Gate(prefix, n, board, raws) for n, (board, raws) in enumerate(journals.items())]
    start = time.perf_counter()
    senders = [threading.Thread(target=gate.publish) for gate in gates]
    for sender in senders:
        sender.start()
    all_acked = all(gate.done.wait(300) for gate in gates)
    seconds = time.perf_counter() - start
    for gate in gates:
        gate.close()
    ingester.send_signal(signal.SIGINT)
    out = ingester.stdout.read()
    if ingester.wait(30) or not all_acked:
        raise SystemExit("the ingest did not complete:\n" + "".join(log)[-2000:])
    return seconds, json.loads(out)


def direct(db, keys: KeyStore, journals: dict[bytes, list[bytes]]) -> float:
    """The same batches, verified and stored in this process: no broker, no acks."""
    conn = store.open_store(db)
    start = time.perf_counter()
    for board, raws in journals.items():
        key, board_id, prev_mac, prev_seq = keys.get(board.hex()), board.hex(), record.GENESIS, -1
        for batch in batches(raws):
            with store.transaction(conn):
                store.begin_journal(conn, board_id, "g", "", "", T0)
                span = verify_span(key, batch, prev_mac, prev_seq)
                store_span(conn, board_id, "g", "", span, T0)
            prev_mac, prev_seq = record.mac_of(batch[-1]), prev_seq + len(batch)
    seconds = time.perf_counter() - start
    conn.close()
    return seconds


def reachable(address: tuple[str, int]) -> bool:
    try:
        socket.create_connection(address, timeout=2).close()
        return True
    except OSError:
        return False


def pg_database() -> str:
    name = "bzbench_" + uuid.uuid4().hex[:8]
    with psycopg.connect(PG_ADMIN, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    return f"postgresql://postgres@127.0.0.1:5432/{name}"


def drop(url: str) -> None:
    with psycopg.connect(PG_ADMIN, autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{url.rsplit("/", 1)[1]}" WITH (FORCE)')


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--gates", type=int, default=50)
    parser.add_argument("--records", type=int, default=200, help="per gate")
    args = parser.parse_args()
    if not reachable(BROKER):
        print("ingest over MQTT: no Mosquitto on %s:%d, nothing measured" % BROKER)
        return
    total = args.gates * args.records
    with tempfile.TemporaryDirectory() as folder:
        keys = KeyStore(Path(folder) / "keys.json")
        journals = {}
        for n in range(args.gates):
            board, key = (n + 1).to_bytes(6, "big"), bytes([n + 1]) * 32
            keys.put(board.hex(), key)
            journals[board] = journal(args.records, key)
        targets = [("SQLite", lambda kind: Path(folder) / f"{kind}.db", lambda target: None)]
        if reachable(("127.0.0.1", 5432)):
            targets.insert(0, ("PostgreSQL", lambda kind: pg_database(), drop))
        else:
            print("PostgreSQL is not running on 127.0.0.1:5432: its figures are left out")
        print(f"ingest of {total:,} records from {args.gates} gates publishing at once "
              f"(batches of {uplink.MAX_RECORDS}):")
        for name, make, dispose in targets:
            mqtt_db, direct_db = make("mqtt"), make("direct")
            try:
                mqtt_s, counts = through_mqtt(mqtt_db, keys, journals)
                direct_s = direct(direct_db, keys, journals)
            finally:
                dispose(mqtt_db)
                dispose(direct_db)
            assert counts["stored"] == total // uplink.MAX_RECORDS, counts
            print(f"  {name:10} via MQTT + bzgate ingest {total / mqtt_s:10,.0f} records/s   "
                  f"direct store_records {total / direct_s:10,.0f} records/s   "
                  f"ratio (direct / MQTT) {mqtt_s / direct_s:5.1f}x")


if __name__ == "__main__":
    main()
