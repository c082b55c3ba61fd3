"""PostgreSQL's day partitions of the tables that hold Bluezone IDs: records, sightings and
decisions are partitioned by RANGE (day), one partition per day (`sightings_d20718`), so a purge
drops a day past its retention as a whole instead of deleting its rows one by one.

Each table also has a DEFAULT partition (`sightings_default`): a row whose day has no partition
(written without a day, or into a day a purge dropped meanwhile) is kept there, never refused.
`records_kept` holds the records of counts and events (rows.KEPT_DAY), which no purge removes.

The primary keys are (board_id, seq, day): PostgreSQL wants the partition key in every unique
constraint. A record is still stored once: its day is derived from it and its first collection
alone (rows.py), and the store skips records before its journal's position that it already
holds (store_many), so no second row of one (board_id, seq) is written.

A writer calls `prepare(conn, days)` in its transaction before storing rows of those days and
before it reads these tables; it makes the missing partitions under an advisory lock (writers
making one at once make it once), each as a table of its own attached to its parent, which
takes SHARE UPDATE EXCLUSIVE: writers of other days go on meanwhile. ATTACH waits for those
reading the DEFAULT partition, so a writer that had read them and then waited for the
advisory lock would deadlock with its holder. SQLite's tables are not partitioned: there every
function here does nothing.
"""

import re

from bzgate.store.dialect import Connection
from bzgate.store.rows import DAY, KEPT_DAY, UNKNOWN_DAY

PARTITIONED = ("records", "sightings", "decisions")  # in the order every writer takes them
_LOCK = 0x627A70  # pg_advisory_xact_lock key: "bzp"
_DAY_NAME = re.compile(r"_d(\d+)$")


def partition_by_day(conn: Connection) -> None:
    """Migration: the three tables rebuilt as partitioned ones, their rows, keys and indexes
    kept. Each row's day (rows.py's rule) is worked out as it is copied, so that every row is
    written once: filling the column first with UPDATE wrote each row and its index entries
    once more (a 2-million-record store took 16.5 times a plain copy: bench/migrate.py)."""
    old = {table: f"{table}_unpartitioned" for table in PARTITIONED}
    indexes = {}
    for table in PARTITIONED:
        indexes[table] = [definition for (definition,) in conn.execute(
            "SELECT pg_get_indexdef(indexrelid) FROM pg_index "
            "WHERE indrelid = CAST(? AS regclass) AND NOT indisprimary", (table,))]
        conn.execute(f"ALTER TABLE {table} RENAME TO {old[table]}")
        conn.execute(f"CREATE TABLE {table} (LIKE {old[table]} INCLUDING DEFAULTS) PARTITION BY RANGE (day)")
        conn.execute(f"CREATE TABLE {table}_default PARTITION OF {table} DEFAULT")
    conn.execute(f"CREATE TABLE records_kept PARTITION OF records "
                 f"FOR VALUES FROM ({KEPT_DAY}) TO (MAXVALUE)")
    days = _copied_days(old)
    for (day,) in conn.execute(f"SELECT DISTINCT row_day FROM (SELECT row_day FROM ({days['sightings']}) s "
                               f"UNION ALL SELECT row_day FROM ({days['decisions']}) d) o "
                               f"WHERE row_day >= 0 AND row_day < ?", (KEPT_DAY,)).fetchall():
        for table in PARTITIONED:
            _add_day(conn, table, day)
    for table in PARTITIONED:
        columns = [name for (name,) in conn.execute(
            "SELECT column_name FROM information_schema.columns WHERE table_schema = "
            "current_schema() AND table_name = ? AND column_name <> 'day' ORDER BY ordinal_position",
            (old[table],)).fetchall()]
        conn.execute(f"INSERT INTO {table} ({', '.join(columns)}, day) "
                     f"SELECT {', '.join('o.' + c for c in columns)}, o.row_day FROM ({days[table]}) o")
    for table in PARTITIONED:
        conn.execute(f"DROP TABLE {old[table]}")
        conn.execute(f"ALTER TABLE {table} ADD PRIMARY KEY (board_id, seq, day)")
        for definition in indexes[table]:
            conn.execute(re.sub(r" ON \S+ USING ", f" ON {table} USING ", definition))


def _copied_days(old: dict[str, str]) -> dict[str, str]:
    """{table: a SELECT of the unpartitioned table's rows with their day as row_day}: a
    sighting's or decision's from its time, or before the gate's clock was set from its
    record's collection (UNKNOWN_DAY without one); a record's that of its sighting or decision,
    else KEPT_DAY. The record of each row is `r`; sightings are `s`, decisions `d`."""
    def payload_day(p: str) -> str:
        return f"CASE WHEN {p}.clock_valid <> 0 THEN {p}.time / {DAY} ELSE r.collected / {DAY} END"

    def joined(table: str) -> str:
        p = table[0]
        return f"{old[table]} {p} ON {p}.board_id = r.board_id AND {p}.seq = r.seq"

    days = {table: f"SELECT {table[0]}.*, COALESCE({payload_day(table[0])}, {UNKNOWN_DAY}) AS row_day "
                   f"FROM {old['records']} r RIGHT JOIN {joined(table)}"
            for table in ("sightings", "decisions")}
    days["records"] = (f"SELECT r.*, COALESCE(CASE WHEN s.board_id IS NOT NULL THEN {payload_day('s')} END, "
                       f"CASE WHEN d.board_id IS NOT NULL THEN {payload_day('d')} END, {KEPT_DAY}) "
                       f"AS row_day FROM {old['records']} r "
                       f"LEFT JOIN {joined('sightings')} LEFT JOIN {joined('decisions')}")
    return days


def prepare(conn: Connection, days) -> None:
    """Inside the writing transaction, before rows of `days` are stored: each has its
    partitions. What this connection knows exists is kept in its session cache."""
    if conn.kind != "postgresql":
        return
    known = conn.session_cache.setdefault("partition_days", set())
    wanted = {day for day in days if 0 <= day < KEPT_DAY} - known
    if not wanted:
        return
    conn.execute("SELECT pg_advisory_xact_lock(?)", (_LOCK,))
    existing = {table: day_partitions(conn, table) for table in PARTITIONED}
    for day in sorted(wanted):
        for table in PARTITIONED:
            if day not in existing[table]:
                _add_day(conn, table, day)
    known |= wanted


def _add_day(conn: Connection, table: str, day: int) -> None:
    """One day's partition of `table`, with the rows of that day the DEFAULT partition held
    (ATTACH refuses a default partition that holds rows of the new range)."""
    name = f"{table}_d{day}"
    conn.execute(f"CREATE TABLE {name} (LIKE {table} INCLUDING DEFAULTS)")
    conn.execute(f"WITH moved AS (DELETE FROM {table}_default WHERE day = ? RETURNING *) "
                 f"INSERT INTO {name} SELECT * FROM moved", (day,))
    conn.execute(f"ALTER TABLE {table} ATTACH PARTITION {name} FOR VALUES FROM ({day}) TO ({day + 1})")


def day_partitions(conn: Connection, table: str) -> dict[int, str]:
    """{day: partition name} of `table`'s day partitions; {} on SQLite."""
    if conn.kind != "postgresql":
        return {}
    names = conn.execute("SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
                         "WHERE i.inhparent = CAST(? AS regclass)", (table,)).fetchall()
    return {int(match.group(1)): name for (name,) in names if (match := _DAY_NAME.search(name))}


def lock_for_purge(conn: Connection) -> None:
    """PostgreSQL, first thing in a purge's transaction: the three tables' exclusive lock, in
    the writers' order, held until the commit. Taken later, at the first DROP, it waited for a
    writer that had read the records while that writer, making a new day, waited for the
    DEFAULT partition the purge was judging: a deadlock. Writers and readers wait meanwhile."""
    if conn.kind == "postgresql":
        conn.execute(f"LOCK TABLE {', '.join(PARTITIONED)} IN ACCESS EXCLUSIVE MODE")


def rows_to_judge(conn: Connection, cutoff_day: int) -> list[dict[str, str]]:
    """Where a purge must look at rows one by one, as {table: the table or partition to read}
    for each of PARTITIONED: on SQLite the whole tables; on PostgreSQL the cutoff's day (part
    of it is older than the cutoff) and the DEFAULT partitions (rows of any day)."""
    if conn.kind != "postgresql":
        return [{table: table for table in PARTITIONED}]
    places = [{table: f"{table}_default" for table in PARTITIONED}]
    if all(cutoff_day in day_partitions(conn, table) for table in PARTITIONED):
        places.append({table: f"{table}_d{cutoff_day}" for table in PARTITIONED})
    return places


def drop_days_before(conn: Connection, cutoff_day: int, counted: tuple[str, ...]) -> dict[str, int]:
    """PostgreSQL: drops every day partition before `cutoff_day` (all its rows are older than
    the cutoff); how many rows the `counted` tables lost. {} on SQLite."""
    if conn.kind != "postgresql":
        return {}
    dropped = dict.fromkeys(counted, 0)
    for table in PARTITIONED:
        for day, name in sorted(day_partitions(conn, table).items()):
            if day >= cutoff_day:
                continue
            if table in counted:
                dropped[table] += conn.execute(f"SELECT count(*) FROM {name}").fetchone()[0]
            conn.execute(f"DROP TABLE {name}")
    conn.session_cache.get("partition_days", set()).difference_update(range(0, cutoff_day))
    return dropped
