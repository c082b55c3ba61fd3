"""The local services some tests need (PostgreSQL and Mosquitto on their standard loopback
ports) and fresh PostgreSQL databases; conftest.py's fixtures decide what a test does when one is
missing. A module of its own so that test modules import it by a name no other file shares."""

import getpass
import os
import random
import shutil
import socket
import subprocess
import tempfile
import time
import uuid
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path

import psycopg
import pytest
import trustme

from bzgate.link.broker import Broker

SERVICES = {"postgresql": ("127.0.0.1", 5432), "mosquitto": ("127.0.0.1", 1883)}
PG_ADMIN = "postgresql://postgres@127.0.0.1:5432/postgres"
DB_KINDS = ["sqlite", "postgresql"]


def missing(why: str) -> None:
    """A service or tool a test needs is not here: skip with the reason, fail under CI (the CI
    variable set), which must run every test."""
    if os.environ.get("CI"):
        pytest.fail(why + "; CI must run these tests, not skip them")
    pytest.skip(why)


def reachable(host: str, port: int) -> bool:
    try:
        socket.create_connection((host, port), timeout=2).close()
        return True
    except OSError:
        return False


def fresh_pg_database(prefix: str = "bzt") -> str:
    """A new, empty PostgreSQL database: its URL (drop it with drop_pg_database)."""
    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(PG_ADMIN, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    return f"postgresql://postgres@127.0.0.1:5432/{name}"


def drop_pg_database(url: str) -> None:
    name = url.rsplit("/", 1)[1]
    with psycopg.connect(PG_ADMIN, autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@contextmanager
def new_database(kind: str, folder: Path, need):
    """An empty store's --db: an SQLite file in `folder`, or a fresh PostgreSQL database's URL
    (dropped afterwards); `need` is the service fixture."""
    if kind == "sqlite":
        yield folder / "bzgate.db"
        return
    need("postgresql")
    url = fresh_pg_database()
    try:
        yield url
    finally:
        drop_pg_database(url)


def free_port() -> int:
    """A free loopback port below the kernel's ephemeral range, for a listener that stops and
    starts again on it (a broker, the monitor): from the ephemeral range, another test's
    socket bound to port 0 could take it in between and get the other's clients."""
    low = int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    rng = random.Random()
    while True:
        port = rng.randrange(10000, low)
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port


class PrivateBroker:
    """A Mosquitto of the test's own on a free port, to stop and start again (never the
    machine's). With a folder it is persistent across stop() and start(), as a real broker's
    restart is (sessions, queued messages, retained acks); without one a restart loses all
    that, the hard case. With users ({name: password}) it lets in only them; with tls it
    speaks only TLS, its certificate (for 127.0.0.1) signed by a CA of its own, `ca_file`.
    `broker` reaches it anonymously (with the CA), `as_user(name)` with a user's login.
    `with PrivateBroker() as b:` starts it and stops it at the end."""

    def __init__(self, folder: Path | None = None, users: dict[str, str] | None = None,
                 tls: bool = False):
        if shutil.which("mosquitto") is None:
            missing("mosquitto is not installed (apt-get install mosquitto)")
        self.port = free_port()
        self.users = users or {}
        self.command = ["mosquitto", "-p", str(self.port)]
        self.ca_file: str | None = None
        if folder is None and (users or tls):
            self._scratch = tempfile.TemporaryDirectory(prefix="bzbroker")  # removed with self
            files = Path(self._scratch.name)
        else:
            files = folder
        if files is not None:
            # As root mosquitto would become the user "mosquitto", who cannot read or write here.
            conf = [f"listener {self.port} 127.0.0.1", f"user {getpass.getuser()}"]
            if folder is not None:
                conf += ["persistence true", f"persistence_location {folder}/"]
            conf += self._logins(files) + (self._certificate(files) if tls else [])
            (files / "mosquitto.conf").write_text("\n".join(conf) + "\n")
            self.command = ["mosquitto", "-c", str(files / "mosquitto.conf")]
        self.broker = Broker("127.0.0.1", self.port, tls=tls, ca_file=self.ca_file)
        self.process: subprocess.Popen | None = None

    def _logins(self, files: Path) -> list[str]:
        if not self.users:
            return ["allow_anonymous true"]
        if shutil.which("mosquitto_passwd") is None:
            missing("mosquitto_passwd is not installed (it comes with mosquitto)")
        passwords = files / "passwords"
        passwords.write_text("".join(f"{name}:{pw}\n" for name, pw in self.users.items()))
        subprocess.run(["mosquitto_passwd", "-U", str(passwords)], check=True)  # hashes them
        return ["allow_anonymous false", f"password_file {passwords}"]

    def _certificate(self, files: Path) -> list[str]:
        ca = trustme.CA()
        issued = ca.issue_cert("127.0.0.1", "localhost")
        self.ca_file = str(files / "ca.pem")
        ca.cert_pem.write_to_path(self.ca_file)
        issued.cert_chain_pems[0].write_to_path(files / "server.pem")
        issued.private_key_pem.write_to_path(files / "server.key")
        return [f"certfile {files / 'server.pem'}", f"keyfile {files / 'server.key'}"]

    def as_user(self, name: str) -> Broker:
        """The broker as `name` logs in to it."""
        return replace(self.broker, user=name, password=self.users[name])

    def start(self) -> None:
        self.process = subprocess.Popen(self.command, stdout=subprocess.DEVNULL,
                                        stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 10
        while not reachable(self.broker.host, self.port):
            assert time.monotonic() < deadline, "the private mosquitto did not start"
            time.sleep(0.05)

    def stop(self) -> None:
        self.process.terminate()  # SIGTERM: mosquitto saves its state, as on a clean restart
        self.process.wait(10)

    def __enter__(self):
        self.start()
        return self

    def __exit__(self, *exc):
        if self.process is not None and self.process.poll() is None:
            self.stop()


PG_BIN = Path("/usr/lib/postgresql/15/bin")


class PrivatePostgres:
    """A PostgreSQL server of the test's own (initdb into a temporary folder, a free loopback
    port), to stop and start again without touching the machine's. As root it runs as the user
    postgres (initdb refuses root). `url` is its database; `with PrivatePostgres() as pg:`."""

    def __init__(self):
        if not (PG_BIN / "initdb").exists():
            missing(f"PostgreSQL's server programs are not in {PG_BIN}")
        self._scratch = tempfile.TemporaryDirectory(prefix="bzpg")  # removed with self
        self.folder = Path(self._scratch.name)
        self.data = self.folder / "data"
        self.port = free_port()
        self.url = f"postgresql://postgres@127.0.0.1:{self.port}/postgres"
        self._as = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        if self._as:
            shutil.chown(self.folder, "postgres")
        subprocess.run([*self._as, str(PG_BIN / "initdb"), "-D", str(self.data), "-U", "postgres",
                        "--auth=trust", "-E", "UTF8", "--no-sync"], check=True, stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL)

    def start(self) -> None:
        options = f"-p {self.port} -k {self.folder} -c listen_addresses=127.0.0.1 -c fsync=off"
        subprocess.run([*self._as, str(PG_BIN / "pg_ctl"), "-D", str(self.data), "-o", options,
                        "-l", str(self.folder / "log"), "-w", "start"], check=True,
                       stdout=subprocess.DEVNULL)

    def stop(self, mode: str = "fast") -> None:
        """fast: sessions ended, open transactions rolled back; immediate: as a crash."""
        subprocess.run([*self._as, str(PG_BIN / "pg_ctl"), "-D", str(self.data), "-m", mode, "-w",
                        "stop"], check=True, stdout=subprocess.DEVNULL)

    def __enter__(self):
        self.start()
        return self

    def __exit__(self, *exc):
        if (self.data / "postmaster.pid").exists():
            self.stop("immediate")
