"""The monitor's own audit rows (a guard's login, a failed one, a lockout, collect now), written
from the web server's threads: each row on a connection of its own (an SQLite connection
stays in its thread), one row at a time."""

import threading

from bzgate import store
from bzgate.store import audit


class AuditLog:
    def __init__(self, db_path):
        self.db_path = db_path
        self._lock = threading.Lock()

    def record(self, action: str, detail: dict) -> None:
        with self._lock:
            conn = store.open_store(self.db_path)
            try:
                audit.record(conn, action, detail)
            finally:
                conn.close()
