"""Retention by day: the `day` column (both databases), PostgreSQL's day partitions made as
records of a new day arrive (once, with writers racing), a row never refused, a purge that
drops whole days there, and the migration that brings an existing database to it."""

import threading
import time

import pytest
from collectkit import journal_bytes

from bzcore import record
from bzgate import store
from bzgate.store import partitions
from bzgate.store.rows import COLUMNS, DAY, KEPT_DAY, BoardRecords, table_rows

KEY = b"k" * 32
T0 = 1_790_006_400  # midnight UTC, day 20717
D0 = T0 // DAY


def _spread(days: int, per_day: int, first: int = 0, prev=record.GENESIS) -> list[bytes]:
    """A journal of per_day records on each of `days` days from T0, clock valid (every 10th a
    decision, every 50th a count, every 100th an event: collectkit's mix)."""
    raws = journal_bytes(KEY, days * per_day, first, prev)
    return [_retimed(raw, T0 + (k // per_day) * DAY + (k % per_day) * 60) for k, raw in enumerate(raws)]


def _retimed(raw: bytes, t: int) -> bytes:
    return raw[:6] + t.to_bytes(4, "big") + raw[10:]  # chains are not checked here


def _store(conn, raws, now, board_id="b1"):
    with store.transaction(conn):
        store.begin_journal(conn, board_id, "front", "A", "0.1.0", now)
        store.store_records(conn, board_id, "front", "A", raws, now)


def _where(conn, table: str) -> dict[str, int]:
    """{partition: rows} of a PostgreSQL table."""
    return dict(conn.execute(f"SELECT CAST(tableoid AS regclass)::text, count(*) FROM {table} "
                             "GROUP BY 1").fetchall())


def test_each_row_has_the_day_its_age_counts_from(db_target):
    raws = journal_bytes(KEY, 100, clock_valid=lambda seq: seq % 4 != 0)
    now = T0 + 5 * DAY
    with store.open_store(db_target) as conn:
        _store(conn, raws, now)
        days = {table: dict(conn.execute(f"SELECT seq, day FROM {table}").fetchall())
                for table in ("records", "sightings", "decisions")}
    for raw in raws:
        seq, kind = int.from_bytes(raw[:4], "big"), raw[4]
        valid, t = raw[5] & 1, int.from_bytes(raw[6:10], "big")
        expected = (t if valid else now) // DAY if kind in (record.SIGHTING, record.DECISION) else KEPT_DAY
        assert days["records"][seq] == expected
        if kind in (record.SIGHTING, record.DECISION):
            assert days["sightings" if kind == record.SIGHTING else "decisions"][seq] == expected


def test_postgresql_keeps_each_day_in_a_partition_of_its_own(pg_url):
    raws = _spread(3, 40)
    with store.open_store(pg_url) as conn:
        _store(conn, raws[:60], T0)
        _store(conn, raws[60:], T0)  # a day already there, and a new one
        assert partitions.day_partitions(conn, "sightings") == {
            D0 + n: f"sightings_d{D0 + n}" for n in range(3)}
        per_day = {f"sightings_d{D0 + n}": sum(1 for raw in raws[40 * n:40 * n + 40] if raw[4] == 1)
                   for n in range(3)}
        assert _where(conn, "sightings") == per_day
        kept = sum(1 for raw in raws if raw[4] in (record.COUNT, record.EVENT))
        assert _where(conn, "records")["records_kept"] == kept
        assert "records_default" not in _where(conn, "records")
        kinds = dict(conn.execute("SELECT relname, relkind FROM pg_class WHERE relname IN "
                                  "('records', 'sightings', 'decisions')").fetchall())
        assert kinds == {"records": "p", "sightings": "p", "decisions": "p"}


def test_writers_making_the_same_new_day_at_once_make_it_once(pg_url):
    with store.open_store(pg_url) as first, store.open_store(pg_url) as second:
        done = {}
        with store.transaction(first):
            store.store_records(first, "b1", "front", "A", _spread(1, 10), T0)
            # The second writer's first record of that day now waits for the first's commit.
            writer = threading.Thread(target=lambda: done.update(
                result=_try(lambda: _store(second, _spread(1, 10), T0, board_id="b2"))))
            writer.start()
            _wait_until_waiting(first)
        writer.join(30)
        assert done["result"] is None, done["result"]
        assert partitions.day_partitions(first, "records") == {D0: f"records_d{D0}"}
        assert first.execute("SELECT count(*) FROM sightings").fetchone()[0] == 2 * 9


def _try(step):
    try:
        step()
    except Exception as e:  # the failure is the test's answer
        return e
    return None


def _wait_until_waiting(conn, other=None, deadline: float = 30) -> None:
    """Until another session of this database waits for a lock (or the thread `other` ended)."""
    end = time.monotonic() + deadline
    while not conn.execute("SELECT count(*) FROM pg_locks WHERE NOT granted").fetchone()[0]:
        if other is not None and not other.is_alive():
            return
        assert time.monotonic() < end, "the other session never waited"
        time.sleep(0.01)


def test_a_row_whose_day_was_dropped_meanwhile_is_kept_and_its_day_made_again(pg_url):
    raws = _spread(2, 20)
    with store.open_store(pg_url) as writer, store.open_store(pg_url) as purger:
        _store(writer, raws[:5], T0)  # the writer knows day D0 has its partitions
        with store.transaction(purger):
            store.purge(purger, T0 + DAY)  # drops day D0
        _store(writer, raws[5:20], T0)  # D0 again: its partitions are gone
        assert _where(writer, "sightings") == {"sightings_default": 13}
        with store.open_store(pg_url) as fresh:
            _store(fresh, raws[20:], T0 + DAY, board_id="b1")
            _store(fresh, [_retimed(raws[38], T0 + 100)], T0 + DAY, board_id="b2")  # D0 once more
            assert _where(fresh, "sightings") == {f"sightings_d{D0}": 14,
                                                  f"sightings_d{D0 + 1}": 18}


def test_a_purge_and_a_writer_making_a_new_day_meanwhile_both_finish(pg_url):
    """The writer has read the records (as store_many does, for what it holds already) when a
    purge starts; it then makes a new day's partitions (ATTACH locks the DEFAULT partition the
    purge is judging). Neither may wait for the other: PostgreSQL would end one as a deadlock."""
    raws = _spread(3, 20)
    with store.open_store(pg_url) as writer, store.open_store(pg_url) as purger:
        _store(writer, raws[:40], T0 + 2 * DAY)  # days D0 and D0 + 1
        done = {}
        with store.transaction(writer):
            writer.execute("SELECT count(*) FROM records").fetchone()
            purge = threading.Thread(target=lambda: done.update(result=_try(lambda: _purge(purger, T0 + DAY))))
            purge.start()
            _wait_until_waiting(writer)
            store.begin_journal(writer, "b1", "front", "A", "0.1.0", T0 + 3 * DAY)
            store.store_records(writer, "b1", "front", "A", raws[40:], T0 + 3 * DAY)  # day D0 + 2
        purge.join(30)
        assert done["result"] is None, done["result"]
        assert sorted(partitions.day_partitions(writer, "records")) == [D0 + 1, D0 + 2]
        assert writer.execute("SELECT count(*) FROM records").fetchone()[0] == 40


def test_a_writer_sending_a_batch_again_and_one_making_its_new_day_meanwhile_both_finish(
        pg_url, monkeypatch):
    """A batch sent again makes its writer read the records it holds; making a new day waits
    for such readers (ATTACH locks the DEFAULT partition). So a writer makes its days before it
    reads: were it to read first and then wait for the other to finish making the same day,
    PostgreSQL would end one of them as a deadlock."""
    raws = _spread(3, 20)
    with store.open_store(pg_url) as again, store.open_store(pg_url) as other:
        _store(again, raws[:30], T0)  # b1: day D0 and half of D0 + 1
        done = {}
        other_writer = threading.Thread(target=lambda: done.update(
            other=_try(lambda: _store(other, _spread(3, 20)[40:], T0, board_id="b2"))))
        real_prepare = partitions.prepare

        def prepare(conn, days):
            if conn is again and not other_writer.is_alive() and "other" not in done:
                other_writer.start()  # makes day D0 + 2 now
                _wait_until_waiting(again, other_writer)
            real_prepare(conn, days)

        monkeypatch.setattr(partitions, "prepare", prepare)
        done["again"] = _try(lambda: _store(again, raws[25:], T0))  # D0 + 2 too
        other_writer.join(30)
        assert done == {"again": None, "other": None}, done
        assert sorted(partitions.day_partitions(again, "records")) == [D0, D0 + 1, D0 + 2]
        assert again.execute("SELECT count(*) FROM records").fetchone()[0] == 60 + 20


def test_a_purge_makes_today_and_tomorrow_so_that_writers_need_not(pg_url):
    with store.open_store(pg_url) as conn:
        _store(conn, _spread(2, 10), T0 + 2 * DAY)
        with store.transaction(conn):
            store.purge(conn, T0 + DAY, today=D0 + 2)
        assert sorted(partitions.day_partitions(conn, "sightings")) == [D0 + 1, D0 + 2, D0 + 3]
    with store.open_store(pg_url) as writer:  # a writer of tomorrow finds its partition
        _store(writer, [_retimed(raw, T0 + 3 * DAY + 60) for raw in _spread(1, 10)], T0 + 3 * DAY,
               board_id="b2")
        assert _where(writer, "sightings") == {f"sightings_d{D0 + 1}": 9, f"sightings_d{D0 + 3}": 9}


def _purge(conn, cutoff):
    with store.transaction(conn):
        store.purge(conn, cutoff)


@pytest.fixture
def spread_store(db_target):
    """Four days of records, 100 a day, each day's first at its midnight."""
    with store.open_store(db_target) as conn:
        _store(conn, _spread(4, 100), T0 + 4 * DAY)
    return db_target


def test_a_purge_deletes_exactly_what_is_older_than_the_cutoff(spread_store):
    cutoff = T0 + 2 * DAY + 30 * 60  # the third day's first 30 records (60 s apart) are older
    with store.open_store(spread_store) as conn:
        before = {t: conn.execute(f"SELECT count(*) FROM {t} WHERE time < ?", (cutoff,)).fetchone()[0]
                  for t in ("sightings", "decisions")}
        with store.transaction(conn):
            deleted = store.purge(conn, cutoff)
        assert {t: deleted[t] for t in before} == before
        for table in ("sightings", "decisions"):
            assert conn.execute(f"SELECT min(time) FROM {table}").fetchone()[0] >= cutoff
        assert conn.execute("SELECT count(*) FROM records").fetchone()[0] == 400 - sum(before.values())
        if conn.kind == "postgresql":  # the first two days went whole; the third was judged
            assert sorted(partitions.day_partitions(conn, "sightings")) == [D0 + 2, D0 + 3]
            assert sorted(partitions.day_partitions(conn, "records")) == [D0 + 2, D0 + 3]


# --- the migration: a database of the schema before, with rows --------------------------------
def _at_schema_before_days(target, monkeypatch) -> list[bytes]:
    """A store of the schema before DAY_SCHEMA holding records of three days, some made before
    the clock was set, collected a day after the last."""
    version = store.DAY_SCHEMA - 1
    raws = _spread(3, 30)
    raws = [raw if n % 7 else raw[:5] + b"\x00" + raw[6:] for n, raw in enumerate(raws)]
    rows = {table: [] for table in COLUMNS}
    table_rows(BoardRecords("b1", "front", "A", raws), T0 + 3 * DAY, rows)
    with monkeypatch.context() as m:
        m.setattr(store, "MIGRATIONS", store.MIGRATIONS[:version])
        m.setattr(store, "SCHEMA_VERSION", version)
        m.setattr(store, "TABLES", ())
        with store.open_store(target) as conn, store.transaction(conn):
            for table, columns in COLUMNS.items():
                kept = [k for k, column in enumerate(columns) if column != "day"]
                conn.executemany(f"INSERT INTO {table} ({', '.join(columns[k] for k in kept)}) "
                                 f"VALUES ({', '.join('?' * len(kept))})",
                                 [tuple(row[k] for k in kept) for row in rows[table]])
    return raws


def test_the_migration_gives_every_row_its_day_and_keeps_them_all(db_target, monkeypatch):
    raws = _at_schema_before_days(db_target, monkeypatch)
    collected_day = (T0 + 3 * DAY) // DAY
    with store.open_store(db_target) as conn:
        assert conn.schema_version() == store.SCHEMA_VERSION
        days = dict(conn.execute("SELECT seq, day FROM records").fetchall())
        assert len(days) == len(raws)
        for seq, raw in enumerate(raws):
            valid, t = raw[5] & 1, int.from_bytes(raw[6:10], "big")
            personal = raw[4] in (record.SIGHTING, record.DECISION)
            assert days[seq] == ((t // DAY if valid else collected_day) if personal else KEPT_DAY)
        assert dict(conn.execute("SELECT seq, day FROM sightings").fetchall()) == \
            {seq: day for seq, day in days.items() if raws[seq][4] == record.SIGHTING}
        assert conn.execute("SELECT count(*) FROM counts").fetchone()[0] == \
            sum(1 for raw in raws if raw[4] == record.COUNT)
        with store.transaction(conn):  # and it is written and purged as a new one is
            store.begin_journal(conn, "b1", "front", "A", "0.1.0", T0 + 3 * DAY)
            new = _spread(1, 5, first=len(raws))  # of the first day too
            store.store_records(conn, "b1", "front", "A", new, T0 + 3 * DAY)
            deleted = store.purge(conn, T0 + DAY)
        assert deleted["sightings"] == sum(1 for raw in raws[:30] + new if raw[4] == 1 and raw[5] & 1)


def test_on_postgresql_the_migration_partitions_the_tables_with_their_keys_and_indexes(pg_url, monkeypatch):
    _at_schema_before_days(pg_url, monkeypatch)
    with store.open_store(pg_url) as conn:
        assert sorted(partitions.day_partitions(conn, "sightings")) == [D0, D0 + 1, D0 + 2, D0 + 3]
        indexes = {name for (name,) in conn.execute(
            "SELECT indexname FROM pg_indexes WHERE tablename IN ('sightings', 'decisions')")}
        assert {"sightings_id", "sightings_time", "sightings_gate_time", "decisions_time",
                "decisions_gate_time"} <= indexes
        keys = {table: conn.execute(
            "SELECT pg_get_constraintdef(oid) FROM pg_constraint WHERE contype = 'p' "
            "AND conrelid = CAST(? AS regclass)", (table,)).fetchone()[0]
            for table in partitions.PARTITIONED}
        assert set(keys.values()) == {"PRIMARY KEY (board_id, seq, day)"}
        assert not conn.execute("SELECT count(*) FROM pg_class WHERE relname LIKE '%unpartitioned'"
                                ).fetchone()[0]
