"""The audit table: one row for each thing done with the stored data (who, when, what, result)."""

import getpass
import json
import time

from bzgate.store import transaction
from bzgate.store.dialect import Connection


def os_user() -> str:
    """Who runs this bzgate: the login name, "?" when this uid has none (e.g. in a container)."""
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "?"


def record(conn: Connection, action: str, detail: dict) -> None:
    """Adds one audit row in a transaction of its own."""
    with transaction(conn):
        add(conn, action, detail)


def add(conn: Connection, action: str, detail: dict) -> None:
    """Adds one audit row in the caller's transaction, so that it commits with what it tells of;
    `detail` is stored as JSON with the user who asked."""
    conn.execute("INSERT INTO audit (at, action, detail) VALUES (?, ?, ?)",
                 (int(time.time()), action,
                  json.dumps({"user": os_user(), **detail}, ensure_ascii=False)))
