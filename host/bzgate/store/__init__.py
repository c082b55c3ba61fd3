"""The host's database: what was collected from the gates, verified, and what was done with it.

SQLite by default (`bzgate.db`, or --db, or $BZGATE_DB), in WAL mode so a monitor can read
while a collection writes; or PostgreSQL, given a postgresql:// URL, for many gates and several
ingesters at once. Both run the same SQL (bzgate.store.dialect keeps their differences). The schema
carries a version; `open_store` brings an older database up to date with the migrations below,
in order, each in one transaction.

Tables (times are integer Unix seconds, UTC; IDs are 12-byte BLOBs, NULL when none):
  journals   one row per board's journal: where the next collection resumes (next_seq and the
             MAC of the last stored record) and how the board was last known (gate_id, site)
  records    every verified record as the board signed it (48 bytes), by (board_id, seq):
             the evidence an export can be checked against; `collected`: when it was stored
             `day` (records, sightings, decisions): the day the purge counts a row's age from
             (bzgate.store.rows); on PostgreSQL these three tables are partitioned by it
             (bzgate.store.partitions), so a purge drops whole days
  sightings, decisions, counts, events
             the records' payloads as columns, with the gate and site they were made at;
             a decision's rssi is NULL when no phone decided it (DENY, NO_APP, EXEMPT,
             EXIT), `presses` how many presses or beam breaks it answered (1 for records from
             before the field), `reason` why an exempt was given (bzcore.record.REASON_NAMES;
             NULL for every other verdict, and for records from before the field)
  evidence   raw bytes of spans refused on collect (a broken chain), kept for investigation
  audit      collections, exports, purges and traces: who asked what, when, with what result
  uplink     per board whose journal arrives over MQTT: the last seq seen on the broker and the
             last stored, when the last batch came, batches taken and refused, the last problem

Writing (each inside the caller's `transaction`): `begin_journal` before a collection,
`store_records` for verified records (idempotent by (board_id, seq)), `keep_evidence` for a
refused span, `purge` for personal data past its retention.

Many boards' records at once, as an ingester taking batches from many gates does:

    with transaction(conn):
        for board_id, gate_id, site in boards:
            begin_journal(conn, board_id, gate_id, site, firmware, now)
        counts = store_many(conn, [BoardRecords(board_id, gate_id, site, raws), ...], now)

stores them all with one bulk insert per table (a COPY on PostgreSQL) and moves each board's
journal past its last record; counts[i] is what store_records would return for the i-th.
store_records is store_many of one board.
"""

import os
from pathlib import Path

from bzcore import record
from bzgate.errors import UserError
from bzgate.store import partitions
from bzgate.store.dialect import DATABASE_ERRORS, Connection, connect, is_postgres
from bzgate.store.rows import COLUMNS, DAY, KEPT_DAY, PERSONAL, UNKNOWN_DAY, BoardRecords, table_rows

DEFAULT_DB = "bzgate.db"

_COMMON = """board_id TEXT NOT NULL, seq INTEGER NOT NULL, gate_id TEXT NOT NULL, site TEXT NOT NULL,
    time INTEGER NOT NULL, clock_valid INTEGER NOT NULL"""

# A decision the gates made before an absent RSSI was stored as such: a DENY or NO_APP without a
# phone, its RSSI written as 0.
_OLD_NO_RSSI = "id IS NULL AND rssi = 0 AND verdict IN ('deny', 'no-app')"

_DAY_COLUMNS = f"""
    ALTER TABLE records ADD COLUMN day INTEGER NOT NULL DEFAULT {UNKNOWN_DAY};
    ALTER TABLE sightings ADD COLUMN day INTEGER NOT NULL DEFAULT {UNKNOWN_DAY};
    ALTER TABLE decisions ADD COLUMN day INTEGER NOT NULL DEFAULT {UNKNOWN_DAY};
"""
# SQLite fills the column in place; each row is written once (rows.py's rule, as
# partitions.partition_by_day applies it on PostgreSQL while it copies).
_DAY_FILL = f"""
    UPDATE sightings SET day = time / {DAY} WHERE clock_valid <> 0;
    UPDATE sightings SET day = r.collected / {DAY} FROM records r
        WHERE sightings.clock_valid = 0 AND r.board_id = sightings.board_id AND r.seq = sightings.seq;
    UPDATE decisions SET day = time / {DAY} WHERE clock_valid <> 0;
    UPDATE decisions SET day = r.collected / {DAY} FROM records r
        WHERE decisions.clock_valid = 0 AND r.board_id = decisions.board_id AND r.seq = decisions.seq;
    UPDATE records SET day = s.day FROM sightings s
        WHERE s.board_id = records.board_id AND s.seq = records.seq;
    UPDATE records SET day = d.day FROM decisions d
        WHERE d.board_id = records.board_id AND d.seq = records.seq;
    UPDATE records SET day = {KEPT_DAY} WHERE day = {UNKNOWN_DAY};
"""


def _add_days(conn) -> None:
    """The day a row's age counts from (bzgate.store.rows), on the tables the purge deletes
    from; PostgreSQL partitions them by it."""
    _run(conn, _DAY_COLUMNS)
    if conn.kind == "postgresql":
        partitions.partition_by_day(conn)
    else:
        _run(conn, _DAY_FILL)


MIGRATIONS = [
    f"""
    CREATE TABLE journals (
        board_id TEXT PRIMARY KEY, gate_id TEXT NOT NULL, site TEXT NOT NULL,
        firmware TEXT, next_seq INTEGER NOT NULL DEFAULT 0, last_mac BLOB,
        first_collected INTEGER, last_collected INTEGER);
    CREATE TABLE records (
        board_id TEXT NOT NULL, seq INTEGER NOT NULL, raw BLOB NOT NULL,
        PRIMARY KEY (board_id, seq)) WITHOUT ROWID;
    CREATE TABLE sightings ({_COMMON}, id BLOB, first_seen INTEGER NOT NULL,
        last_seen INTEGER NOT NULL, max_rssi INTEGER NOT NULL, count INTEGER NOT NULL,
        platform TEXT, source TEXT NOT NULL, PRIMARY KEY (board_id, seq));
    CREATE TABLE decisions ({_COMMON}, verdict TEXT NOT NULL, trigger TEXT NOT NULL,
        mode TEXT NOT NULL, id BLOB, rssi INTEGER NOT NULL, platform TEXT,
        latency_ms INTEGER NOT NULL, PRIMARY KEY (board_id, seq));
    CREATE TABLE counts ({_COMMON}, near INTEGER NOT NULL, present INTEGER NOT NULL,
        adverts INTEGER NOT NULL, drops INTEGER NOT NULL, PRIMARY KEY (board_id, seq));
    CREATE TABLE events ({_COMMON}, code INTEGER NOT NULL, name TEXT NOT NULL,
        detail INTEGER NOT NULL, text TEXT NOT NULL, PRIMARY KEY (board_id, seq));
    CREATE TABLE evidence (
        rowid INTEGER PRIMARY KEY, board_id TEXT NOT NULL, at INTEGER NOT NULL,
        first_seq INTEGER NOT NULL, reason TEXT NOT NULL, raw BLOB NOT NULL);
    CREATE TABLE audit (
        rowid INTEGER PRIMARY KEY, at INTEGER NOT NULL, action TEXT NOT NULL,
        detail TEXT NOT NULL);
    CREATE INDEX sightings_id ON sightings (id);
    CREATE INDEX sightings_time ON sightings (first_seen);
    CREATE INDEX sightings_gate_time ON sightings (gate_id, first_seen);
    CREATE INDEX decisions_time ON decisions (time);
    CREATE INDEX decisions_gate_time ON decisions (gate_id, time);
    CREATE INDEX counts_time ON counts (time);
    CREATE INDEX events_time ON events (time);
    """,
    # When each record was collected: the age of a record made before its gate's clock was set.
    """
    ALTER TABLE records ADD COLUMN collected INTEGER NOT NULL DEFAULT 0;
    """,
    # Journals arriving over MQTT (bzgate ingest): how far each board's uplink is behind.
    """
    CREATE TABLE uplink (
        board_id TEXT PRIMARY KEY, gate_id TEXT NOT NULL, seen_seq INTEGER NOT NULL,
        stored_seq INTEGER NOT NULL, last_batch INTEGER NOT NULL, batches INTEGER NOT NULL,
        refused INTEGER NOT NULL, problem TEXT);
    """,
    # A decision's RSSI may be absent (no phone decided it: DENY, NO_APP), and a decision counts
    # the presses it answered. Neither database can drop a NOT NULL the same way: the table is
    # built again. Rows of gates from before stored a DENY's or NO_APP's missing RSSI as 0.
    f"""
    CREATE TABLE decisions_new ({_COMMON}, verdict TEXT NOT NULL, trigger TEXT NOT NULL,
        mode TEXT NOT NULL, id BLOB, rssi INTEGER, platform TEXT,
        latency_ms INTEGER NOT NULL, presses INTEGER NOT NULL DEFAULT 1,
        PRIMARY KEY (board_id, seq));
    INSERT INTO decisions_new (board_id, seq, gate_id, site, time, clock_valid, verdict, trigger,
        mode, id, rssi, platform, latency_ms)
        SELECT board_id, seq, gate_id, site, time, clock_valid, verdict, trigger, mode, id,
            CASE WHEN {_OLD_NO_RSSI} THEN NULL ELSE rssi END, platform, latency_ms
        FROM decisions;
    DROP TABLE decisions;
    ALTER TABLE decisions_new RENAME TO decisions;
    CREATE INDEX decisions_time ON decisions (time);
    CREATE INDEX decisions_gate_time ON decisions (gate_id, time);
    """,
    # Why an exempt was given (no smartphone, a paper declaration, a staff override); the rows
    # stored before, none of them exempt, have none.
    """
    ALTER TABLE decisions ADD COLUMN reason TEXT;
    """,
    # The ingesters' heartbeats (bzgate ingest), for `bzgate status`: store/ingesters.py.
    """
    CREATE TABLE ingesters (
        client_id TEXT PRIMARY KEY, group_name TEXT, host TEXT NOT NULL, started INTEGER NOT NULL,
        seen INTEGER NOT NULL, last_commit INTEGER, transactions INTEGER NOT NULL,
        batches INTEGER NOT NULL, records INTEGER NOT NULL, lag_ms INTEGER, waiting INTEGER NOT NULL);
    """,
    _add_days,
]
SCHEMA_VERSION = len(MIGRATIONS)
DAY_SCHEMA = MIGRATIONS.index(_add_days) + 1  # the schema that brought `day` and the partitions
# The tables a database at SCHEMA_VERSION has: one missing is damage (or another program's file).
TABLES = ("journals", "records", "sightings", "decisions", "counts", "events", "evidence",
          "audit", "uplink", "ingesters")


def db_path(given: str | Path | None = None) -> Path | str:
    """--db, else $BZGATE_DB, else bzgate.db in the current folder: a file's Path, or a
    PostgreSQL URL as it is."""
    target = given or os.environ.get("BZGATE_DB") or DEFAULT_DB
    return target if is_postgres(target) else Path(target)


def shown(target: Path | str) -> str:
    """A database as messages name it: a URL without its password."""
    if not is_postgres(target):
        return str(target)
    scheme, _, rest = str(target).partition("://")
    credentials, at, host = rest.rpartition("@")
    return f"{scheme}://{credentials.split(':')[0]}{at}{host}"


def open_store(given: str | Path | None = None) -> Connection:
    """The database, created or migrated to SCHEMA_VERSION; a newer one than this bzgate knows
    is refused rather than written wrongly."""
    target = db_path(given)
    try:
        conn = connect(target)
        version = conn.schema_version()
    except DATABASE_ERRORS as e:
        raise UserError(f"{shown(target)} is not a bzgate database, or cannot be reached ({e})") from e
    if version > SCHEMA_VERSION:
        conn.close()
        raise UserError(f"{shown(target)} has schema {version}; this bzgate knows up to "
                        f"{SCHEMA_VERSION}: upgrade bzgate")
    if version < SCHEMA_VERSION and conn.read_only:
        conn.close()
        raise UserError(f"{shown(target)} is read-only and has schema {version}: open it once "
                        f"where it can be written, to bring it to schema {SCHEMA_VERSION}")
    for number in range(version, SCHEMA_VERSION):
        with transaction(conn):
            conn.lock_schema()
            if conn.schema_version() > number:  # another process migrated it meanwhile
                continue
            step = MIGRATIONS[number]
            step(conn) if callable(step) else _run(conn, step)
            conn.set_schema_version(number + 1)
    missing = [table for table in TABLES if table not in conn.table_names()]
    if missing:
        conn.close()
        raise UserError(f"{shown(target)} is damaged or not a bzgate database: it has no "
                        f"{', '.join(missing)} table{'s' if len(missing) > 1 else ''}")
    return conn


def transaction(conn: Connection):
    """One write transaction: all of it is stored or none."""
    if conn.read_only:
        raise UserError(f"{shown(conn.target)} is read-only (this user cannot write the file or "
                        "its folder): nothing can be stored in it")
    return conn.transaction()


def _run(conn: Connection, script: str) -> None:
    """A migration's statements, one by one inside its transaction (executescript would
    commit on its own)."""
    for statement in script.split(";"):
        if statement.strip():
            conn.execute_ddl(statement.strip())


# --- writing collected records -----------------------------------------------------------------
def journal_position(conn: Connection, board_id: str) -> tuple[int, bytes]:
    """(next seq to collect, MAC of the last stored record) of a board: (0, GENESIS) when new."""
    row = conn.execute("SELECT next_seq, last_mac FROM journals WHERE board_id = ?",
                       (board_id,)).fetchone()
    if row is None or row[1] is None:
        return (row[0] if row else 0), record.GENESIS
    return row[0], bytes(row[1])


def begin_journal(conn: Connection, board_id: str, gate_id: str, site: str,
                  firmware: str, now: int) -> None:
    """The board's journal row, created or brought up to how the board is now known."""
    conn.execute(
        "INSERT INTO journals (board_id, gate_id, site, firmware, first_collected, last_collected) "
        "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (board_id) DO UPDATE SET gate_id = excluded.gate_id, "
        "site = excluded.site, firmware = excluded.firmware, last_collected = excluded.last_collected",
        (board_id, gate_id, site, firmware, now, now))


def store_records(conn: Connection, board_id: str, gate_id: str, site: str,
                  raws: list, now: int) -> dict:
    """Verified records (48 bytes each, in seq order, the chain checked by the caller) into
    `records` and their payload tables; the journal resumes after the last. A record already
    stored is left as it is. Returns how many went to each table; "unreadable" counts genuine
    records whose payload does not parse (kept in `records` only)."""
    return store_many(conn, [BoardRecords(board_id, gate_id, site, raws)], now)[0]


def store_many(conn: Connection, boards: list[BoardRecords], now: int,
               next_seqs: dict[str, int] | None = None) -> list[dict]:
    """store_records for each of `boards` (a board may come more than once, its spans in seq
    order), in the caller's transaction, with one bulk insert per table for all of them.
    `next_seqs`: {board: its journal's next seq} when the caller has read them in this
    transaction (intake.take_journals), not read again."""
    rows: dict[str, list] = {table: [] for table in COLUMNS}
    counts, journals = [], []
    for board in boards:
        stored, last_seq, last_mac = table_rows(board, now, rows)
        counts.append(stored)
        if last_seq is not None:
            journals.append((last_seq + 1, last_mac, board.board_id))
    # Before this transaction reads the records: making a day waits for its readers, and a
    # reader waiting to make one meanwhile would close the circle (a deadlock).
    partitions.prepare(conn, {row[4] for row in rows["records"]})
    if next_seqs is None:
        next_seqs = _next_seqs(conn, [board.board_id for board in boards if board.raws])
    held = {(board.board_id, seq) for board in boards
            for seq in _stored_before(conn, board, next_seqs.get(board.board_id, 0))}
    if held:  # a batch sent again: what is stored already stays as it is
        rows = {table: [row for row in kept if (row[0], row[1]) not in held]
                for table, kept in rows.items()}
    # records first: every writer takes the tables in one order
    conn.insert_rows({table: (COLUMNS[table], rows[table]) for table in COLUMNS})
    if journals:
        conn.executemany("UPDATE journals SET next_seq = ?, last_mac = ? WHERE board_id = ?",
                         journals)
    return counts


def _next_seqs(conn: Connection, board_ids: list[str]) -> dict[str, int]:
    """{board: next seq of its journal} of the boards that have a journal row."""
    if not board_ids:
        return {}
    unique = sorted(set(board_ids))
    return dict(conn.execute("SELECT board_id, next_seq FROM journals WHERE board_id IN "
                             f"({', '.join('?' * len(unique))})", unique).fetchall())


def _stored_before(conn: Connection, board: BoardRecords, next_seq: int) -> set[int]:
    """The seqs of `board`'s records that are stored already. Only records before its
    journal's position can be; they are looked up by (board_id, seq), since on PostgreSQL the
    key holds the day too and would not catch one stored on another day."""
    if not board.raws:
        return set()
    first, last = (int.from_bytes(raw[:4], "big") for raw in (board.raws[0], board.raws[-1]))
    if first >= next_seq:
        return set()
    return {seq for (seq,) in conn.execute(
        "SELECT seq FROM records WHERE board_id = ? AND seq >= ? AND seq <= ?",
        (board.board_id, first, last))}


def keep_evidence(conn: Connection, board_id: str, first_seq: int, reason: str,
                  raws: list, now: int) -> bool:
    """Raw bytes of a refused span, kept once (a second collection refusing the same bytes adds
    nothing). True when a new row was written."""
    raw = b"".join(bytes(r) for r in raws)
    if conn.execute("SELECT 1 FROM evidence WHERE board_id = ? AND first_seq = ? AND raw = ?",
                    (board_id, first_seq, raw)).fetchone():
        return False
    conn.execute("INSERT INTO evidence (board_id, at, first_seq, reason, raw) VALUES (?, ?, ?, ?, ?)",
                 (board_id, now, first_seq, reason, raw))
    return True


def known_gate(conn: Connection, board_id: str) -> tuple[str, str]:
    """(site, firmware) a board was last known with (its journal row), ("", "") when new."""
    row = conn.execute("SELECT site, firmware FROM journals WHERE board_id = ?",
                       (board_id,)).fetchone()
    return (row[0], row[1] or "") if row else ("", "")


UPLINK_COLUMNS = ("board_id", "gate_id", "seen_seq", "stored_seq", "last_batch", "batches",
                  "refused", "problem")


def note_uplink(conn: Connection, board_id: str, gate_id: str, seen_seq: int, stored_seq: int,
                now: int, problem: str | None = None) -> None:
    """One batch taken from the broker (refused when `problem` says why), in the caller's
    transaction. The seq seen only grows: batches replayed late do not hide the lag."""
    row = conn.execute("SELECT seen_seq, batches, refused FROM uplink WHERE board_id = ?",
                       (board_id,)).fetchone()
    seen, batches, refused = row if row else (-1, 0, 0)
    values = (board_id, gate_id, max(seen, seen_seq), stored_seq, now, batches + 1,
              refused + (problem is not None), problem)
    conn.execute("DELETE FROM uplink WHERE board_id = ?", (board_id,))
    conn.execute(f"INSERT INTO uplink ({', '.join(UPLINK_COLUMNS)}) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                 values)


def uplinks(conn: Connection) -> list[dict]:
    """Every board's uplink row, by gate."""
    return [dict(zip(UPLINK_COLUMNS, row)) for row in conn.execute(
        f"SELECT {', '.join(UPLINK_COLUMNS)} FROM uplink ORDER BY gate_id, board_id")]


# --- purging personal data ---------------------------------------------------------------------
# A record's age: its time when the gate's clock was valid, else when it was collected (it was
# made before then).
_OLD = "(t.clock_valid <> 0 AND t.time < :cutoff) OR (t.clock_valid = 0 AND r.collected < :cutoff)"


def purge(conn: Connection, cutoff: int, today: int | None = None) -> dict:
    """Delete sightings and decisions older than `cutoff` (Unix seconds) with their signed
    records, and evidence kept before it. Counts and events (no IDs) stay, and so does each
    journal's position: the next collection still resumes where it was. Returns the counts.

    On PostgreSQL the days before the cutoff's day go as whole partitions; rows are judged one
    by one only in the cutoff's own day and the DEFAULT partitions, the tables locked from the
    start (partitions.lock_for_purge), and `today` (a day number) and the next get their
    partitions while it is held: making a day waits for the DEFAULT partition's readers, which
    a writer at midnight would otherwise do. On SQLite every row is judged."""
    partitions.lock_for_purge(conn)
    deleted = dict.fromkeys(PERSONAL, 0)
    for place in partitions.rows_to_judge(conn, cutoff // DAY):
        for table in PERSONAL:
            deleted[table] += _purge_rows(conn, place[table], place["records"], cutoff)
    for table, count in partitions.drop_days_before(conn, cutoff // DAY, PERSONAL).items():
        deleted[table] += count
    if today is not None:
        partitions.prepare(conn, (today, today + 1))
    deleted["evidence"] = conn.execute("DELETE FROM evidence WHERE at < ?", (cutoff,)).rowcount
    return deleted


def _purge_rows(conn: Connection, table: str, records: str, cutoff: int) -> int:
    """Rows of `table` (sightings or decisions, or one of their partitions) older than the
    cutoff deleted with their records (in `records`, the same day's); how many."""
    conn.execute("CREATE TEMP TABLE IF NOT EXISTS purged (board_id TEXT, seq BIGINT)")
    conn.execute("DELETE FROM purged")
    conn.execute(f"INSERT INTO purged SELECT t.board_id, t.seq FROM {table} t "
                 f"JOIN {records} r USING (board_id, seq) WHERE {_OLD}", {"cutoff": cutoff})
    deleted = conn.execute(f"DELETE FROM {table} WHERE (board_id, seq) IN "
                           "(SELECT board_id, seq FROM purged)").rowcount
    conn.execute(f"DELETE FROM {records} WHERE (board_id, seq) IN (SELECT board_id, seq FROM purged)")
    return deleted
