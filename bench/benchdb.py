"""The local PostgreSQL the benches use (127.0.0.1:5432, trust auth, user postgres): whether it
answers, and fresh databases of their own, dropped afterwards."""

import socket
import uuid
from contextlib import contextmanager

import psycopg

PG_ADDRESS = ("127.0.0.1", 5432)
PG_ADMIN = "postgresql://postgres@127.0.0.1:5432/postgres"


def pg_reachable() -> bool:
    try:
        socket.create_connection(PG_ADDRESS, timeout=2).close()
        return True
    except OSError:
        return False


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
