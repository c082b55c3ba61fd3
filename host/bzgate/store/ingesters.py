"""The ingesters table: one row per `bzgate ingest` (by its MQTT client id), its heartbeat,
so `bzgate status` shows every ingester sharing a database, how far behind each is, and one
that has stopped beating. The table comes with the store's migrations.

    beat(conn, Beat(client_id, group, ...))   # in the ingester's transaction, or one of its own
    ingesters(conn)                           # every row, as dicts

lag_ms is the age of the oldest message in the ingester's last transaction when it was
committed (from its arrival at the ingester); waiting, the messages it held then that were not
stored yet (taken from the broker, or waiting for a predecessor).
"""

from dataclasses import astuple, dataclass, fields


@dataclass
class Beat:
    client_id: str
    group_name: str | None
    host: str
    started: int
    seen: int  # this beat's time
    last_commit: int | None
    transactions: int
    batches: int
    records: int
    lag_ms: int | None
    waiting: int


COLUMNS = tuple(f.name for f in fields(Beat))
_UPSERT = (f"INSERT INTO ingesters ({', '.join(COLUMNS)}) VALUES ({', '.join('?' * len(COLUMNS))}) "
           f"ON CONFLICT (client_id) DO UPDATE SET "
           + ", ".join(f"{c} = excluded.{c}" for c in COLUMNS[1:]))


def beat(conn, state: Beat) -> None:
    """The ingester's row, written over (in the caller's transaction)."""
    conn.execute(_UPSERT, astuple(state))


def ingesters(conn) -> list[dict]:
    """Every ingester's last beat, by group and client id."""
    return [dict(zip(COLUMNS, row)) for row in conn.execute(
        f"SELECT {', '.join(COLUMNS)} FROM ingesters ORDER BY group_name, client_id")]
