"""The local PostgreSQL the benches use (127.0.0.1:5432, trust auth, user postgres): whether it
answers, and fresh databases of their own, dropped afterwards."""

import socket
import uuid
from contextlib import contextmanager

import psycopg

PG_ADDRESS = ("127.0.0.1", 5432)
PG_ADMIN = "postgresql://postgres@127.0.0.1:5432/postgres"


def reachable(address: tuple[str, int]) -> bool:
    """Whether a service answers on a loopback address (PostgreSQL, the broker)."""
    try:
        socket.create_connection(address, timeout=2).close()
        return True
    except OSError:
        return False


def pg_reachable() -> bool:
    return reachable(PG_ADDRESS)


@contextmanager
def pg_database():
    """A new, empty database's URL."""
    name = "bzbench_" + uuid.uuid4().hex[:8]
    with psycopg.connect(PG_ADMIN, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"postgresql://postgres@127.0.0.1:5432/{name}"
    finally:
        with psycopg.connect(PG_ADMIN, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
