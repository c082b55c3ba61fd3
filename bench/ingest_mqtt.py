"""Records per second, and each batch's lag, from 200 virtual gates through the local Mosquitto
into `bzgate ingest` processes and PostgreSQL: today's ingesters (1, then 1 to 3 sharing the
load with --group) against the ingester as it was before its transactions took many messages
(--old-rev, run from a git worktree of that commit), in one run, ratios printed.

    .venv/bin/python bench/ingest_mqtt.py [--gates 200] [--records 1000] [--ingesters 1,2,3]

The gates (bench/mqttfleet.py) are a few processes publishing batches encoded beforehand, each
gate keeping up to 4 batches beyond its ack in flight. The time runs from the first publish to
the last gate's final ack; a batch's lag from its first publish to the ack that covers it (the
ingester's commit, then the ack's way back through the broker). Every run's database is
checked: each board's records once, all of them.

Needs Mosquitto on 127.0.0.1:1883 and PostgreSQL on 127.0.0.1:5432 (trust auth, user postgres).
"""

import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
import uuid
from contextlib import contextmanager
from pathlib import Path

import paho.mqtt.client as mqtt
import psycopg
from benchdb import pg_database, pg_reachable, reachable
from ingest import journal  # bench/ingest.py: the same journal as the direct benchmark
from mqttfleet import Fleet

from bzgate.keys import KeyStore

BROKER = ("127.0.0.1", 1883)
OLD_REV = "4ed5d58"  # the last commit whose ingester committed each MQTT message on its own
REPO = Path(__file__).resolve().parent.parent


@contextmanager
def old_tree(rev: str):
    """A checkout of `rev` in a temporary worktree: its host and firmware packages."""
    folder = tempfile.mkdtemp(prefix="bzbench-old-")
    subprocess.run(["git", "-C", str(REPO), "worktree", "add", "--detach", "--quiet", folder, rev],
                   check=True)
    try:
        yield Path(folder)
    finally:
        subprocess.run(["git", "-C", str(REPO), "worktree", "remove", "--force", folder], check=True)


def ingester_command(old: Path | None) -> tuple[list[str], dict]:
    """How to start `bzgate ingest`: this tree's, or the old tree's (its packages first on the
    path, before this tree's editable install)."""
    command = [sys.executable, "-c", "from bzgate.cli import main; main()", "ingest"]
    env = dict(os.environ)
    if old is not None:
        env["PYTHONPATH"] = f"{old / 'host'}:{old / 'firmware'}"
    return command, env


class Ingesters:
    """`count` ingester processes on one database, each logged in as its own client id."""

    def __init__(self, old: Path | None, count: int, group: str | None, db: str, keys: KeyStore,
                 prefix: str):
        command, env = ingester_command(old)
        self.client_ids = [f"{prefix}-ingest-{n}" for n in range(count)]
        self.processes = []
        for client_id in self.client_ids:
            args = [*command, "--mqtt", "mqtt://%s:%d" % BROKER, "--topic-prefix", prefix,
                    "--db", db, "--keys", str(keys.path), "--client-id", client_id, "--json"]
            if group:
                args += ["--group", group]
            self.processes.append(subprocess.Popen(args, env=env, stdout=subprocess.PIPE,
                                                   stderr=subprocess.PIPE, text=True))
        self.logs: list[list[str]] = []
        for process in self.processes:
            log: list[str] = []
            for line in process.stderr:  # subscribed once it says it is connected
                log.append(line)
                if "connected to" in line:
                    break
            threading.Thread(target=lambda p=process, log=log: log.extend(p.stderr), daemon=True).start()
            self.logs.append(log)
            if process.poll() is not None:
                raise SystemExit("an ingester did not start:\n" + "".join(log))

    def stop(self) -> list[dict]:
        """Ctrl-C to each; their counts."""
        counts = []
        for process in self.processes:
            process.send_signal(signal.SIGINT)
        for process, log in zip(self.processes, self.logs):
            out, _ = process.communicate(timeout=60)
            if process.returncode:
                raise SystemExit("an ingester failed:\n" + "".join(log)[-3000:])
            counts.append(json.loads(out))
        for client_id in self.client_ids:
            forget_session(client_id)
        return counts


def forget_session(client_id: str) -> None:
    """The broker forgets the persistent session a run left (a clean start ends it)."""
    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=client_id, clean_session=True)
    client.connect(*BROKER)
    client.disconnect()


def stored(db: str) -> dict[str, tuple[int, int, int]]:
    """Each board's (records, lowest seq, highest seq) in the database."""
    with psycopg.connect(db) as conn:
        return {board: (n, low, high) for board, n, low, high in conn.execute(
            "SELECT board_id, count(*), min(seq), max(seq) FROM records GROUP BY board_id")}


def run(old: Path | None, count: int, group: str | None, keys: KeyStore,
        journals: dict[bytes, list[bytes]], fleet_processes: int) -> dict:
    prefix = "bench" + uuid.uuid4().hex[:8]
    with pg_database() as db:
        ingesters = Ingesters(old, count, group, db, keys, prefix)
        try:
            result = Fleet(BROKER, prefix, journals, processes=fleet_processes).run(timeout=600)
        finally:
            counts = ingesters.stop()
        expected = {board.hex(): (len(raws), 0, len(raws) - 1) for board, raws in journals.items()}
        if not result.complete or stored(db) != expected:
            raise SystemExit(f"the ingest did not store every journal once (acked: {result.complete})")
    total = sum(len(raws) for raws in journals.values())
    return {"rate": total / result.seconds, "p50": result.percentile(50), "p99": result.percentile(99),
            "resent": result.resent, "transactions": sum(c.get("transactions", 0) for c in counts),
            "gaps": sum(c["gap"] for c in counts)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--gates", type=int, default=200)
    parser.add_argument("--records", type=int, default=1000, help="per gate")
    parser.add_argument("--ingesters", default="1,2,3", help="group sizes to run")
    parser.add_argument("--fleet-processes", type=int, default=2)
    parser.add_argument("--old-rev", default=OLD_REV, help="the ingester to compare against")
    args = parser.parse_args()
    if not reachable(BROKER) or not pg_reachable():
        print("ingest over MQTT: needs Mosquitto on 127.0.0.1:1883 and PostgreSQL on "
              "127.0.0.1:5432; nothing measured")
        return
    with tempfile.TemporaryDirectory() as folder:
        keys = KeyStore(Path(folder) / "keys.json")
        journals = {}
        for n in range(args.gates):
            board, key = (n + 1).to_bytes(6, "big"), bytes([n % 250 + 1]) * 32
            keys.put(board.hex(), key)
            journals[board] = journal(args.records, key)
        total = args.gates * args.records
        print(f"ingest of {total:,} records from {args.gates} virtual gates through Mosquitto into "
              f"PostgreSQL ({os.cpu_count()} cores, shared with the broker, the database and the gates):")
        with old_tree(args.old_rev) as old:
            runs = [(f"before ({args.old_rev}), 1 ingester", run(old, 1, None, keys, journals, args.fleet_processes))]
        runs.append(("now, 1 ingester, no group", run(None, 1, None, keys, journals, args.fleet_processes)))
        for count in (int(n) for n in args.ingesters.split(",")):
            runs.append((f"now, --group of {count}", run(None, count, "bench", keys, journals,
                                                          args.fleet_processes)))
    base = runs[0][1]["rate"]
    for name, figures in runs:
        print(f"  {name:32} {figures['rate']:9,.0f} records/s  {figures['rate'] / base:5.1f}x   "
              f"lag p50 {figures['p50'] * 1000:7.0f} ms  p99 {figures['p99'] * 1000:7.0f} ms   "
              f"{figures['transactions']:6} transactions, {figures['gaps']} gaps refused, "
              f"{figures['resent']} batches sent again")


if __name__ == "__main__":
    main()
