"""The audit table: one row for each thing done with the stored data (who, when, what, result)."""

import getpass
import json
import time

from bzgate.store import transaction
from bzgate.store.dialect import Connection


def record(conn: Connection, action: str, detail: dict) -> None:
    """Adds one audit row; `detail` is stored as JSON with the user who asked."""
    try:
        user = getpass.getuser()
    except (KeyError, OSError):  # no name for this uid (e.g. in a container)
        user = "?"
    with transaction(conn):
        conn.execute("INSERT INTO audit (at, action, detail) VALUES (?, ?, ?)",
                     (int(time.time()), action,
                      json.dumps({"user": user, **detail}, ensure_ascii=False)))
