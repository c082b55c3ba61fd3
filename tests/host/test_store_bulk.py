"""Many boards' records in one transaction (store.store_many), on SQLite and PostgreSQL: each
board's records stored once, each journal moved past its own last record, and a record stored
again later (a replay, or the same span on another day) left as it was."""

from collectkit import journal_bytes

from bzcore import record
from bzgate import store
from bzgate.store.dialect import COPY_FROM
from bzgate.store.rows import DAY

NOW = 1_790_000_000
KEYS = {"b1": b"1" * 32, "b2": b"2" * 32, "b3": b"3" * 32}


def _dump(conn, table: str) -> list[tuple]:
    return [tuple(bytes(v) if isinstance(v, memoryview) else v for v in row) for row in
            conn.execute(f"SELECT * FROM {table} ORDER BY board_id, seq").fetchall()]


def _begin(conn, *boards):
    for board_id in boards:
        store.begin_journal(conn, board_id, "gate-" + board_id, "A", "0.1.0", NOW)


def test_many_boards_in_one_transaction_are_stored_each_once_with_its_journal(db_target):
    b1 = journal_bytes(KEYS["b1"], 230)  # every kind: sightings, decisions, counts, events
    b2 = journal_bytes(KEYS["b2"], 40, clock_valid=lambda seq: seq % 3 != 0)
    b3 = journal_bytes(KEYS["b3"], 7)
    spans = [store.BoardRecords("b1", "gate-b1", "A", b1[:100]),
             store.BoardRecords("b2", "gate-b2", "A", b2),
             store.BoardRecords("b1", "gate-b1", "A", b1[100:]),  # a board's next span, same call
             store.BoardRecords("b3", "gate-b3", "B", b3),
             store.BoardRecords("b3", "gate-b3", "B", [])]
    with store.open_store(db_target) as conn:
        with store.transaction(conn):
            _begin(conn, "b1", "b2", "b3")
            counts = store.store_many(conn, spans, NOW)
        assert counts == [_expected_counts(span.raws) for span in spans]
        for board_id, raws in (("b1", b1), ("b2", b2), ("b3", b3)):
            assert [bytes(r) for (r,) in conn.execute(
                "SELECT raw FROM records WHERE board_id = ? ORDER BY seq", (board_id,))] == raws
            assert store.journal_position(conn, board_id) == (len(raws), record.mac_of(raws[-1]))
        sites = dict(conn.execute("SELECT DISTINCT board_id, site FROM sightings").fetchall())
        assert sites == {"b1": "A", "b2": "A", "b3": "B"}
        total = sum(conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
                    for table in ("sightings", "decisions", "counts", "events"))
        assert total == len(b1) + len(b2) + len(b3)


def _expected_counts(raws: list[bytes]) -> dict:
    counts = dict.fromkeys(("sightings", "decisions", "counts", "events", "unreadable"), 0)
    for raw in raws:
        counts[{1: "sightings", 2: "decisions", 3: "counts", 4: "events"}[raw[4]]] += 1
    return counts


def test_records_stored_again_on_a_later_day_are_kept_once_as_first_stored(db_target):
    """Records made before the gate's clock was set are as old as their first collection:
    storing them again days later must not add a second row for another day."""
    raws = journal_bytes(KEYS["b1"], 30, clock_valid=lambda seq: False)
    with store.open_store(db_target) as conn:
        with store.transaction(conn):
            _begin(conn, "b1")
            store.store_records(conn, "b1", "gate-b1", "A", raws[:20], NOW)
        first = {table: _dump(conn, table) for table in ("records", "sightings", "decisions")}
        with store.transaction(conn):
            _begin(conn, "b1")
            again = store.store_many(conn, [store.BoardRecords("b1", "gate-b1", "A", raws[10:])],
                                     NOW + 3 * DAY)
        assert again == [_expected_counts(raws[10:])]
        later = {table: _dump(conn, table) for table in ("records", "sightings", "decisions")}
        assert [r[1] for r in later["records"]] == list(range(30))  # each seq once
        for table, rows in first.items():  # what was stored is left as it was
            assert [row for row in later[table] if row[1] < 20] == rows
        days = {row[1]: row[-1] for row in later["records"]}
        assert {days[seq] for seq in range(10, 20) if raws[seq][4] in (1, 2)} == {NOW // DAY}
        assert {days[seq] for seq in range(20, 30) if raws[seq][4] in (1, 2)} == {NOW // DAY + 3}
        assert store.journal_position(conn, "b1") == (30, record.mac_of(raws[-1]))


def test_store_records_called_again_in_one_transaction_stores_each_call_once(db_target):
    """The ingester's way before store_many: one call per batch, many batches a transaction
    (on PostgreSQL batches this big go through the staging table: emptied after each)."""
    raws = journal_bytes(KEYS["b1"], 3 * COPY_FROM)
    with store.open_store(db_target) as conn:
        with store.transaction(conn):
            _begin(conn, "b1", "b2")
            for part in range(3):
                batch = raws[part * COPY_FROM:(part + 1) * COPY_FROM]
                store.store_records(conn, "b1", "gate-b1", "A", batch, NOW)
                store.store_records(conn, "b2", "gate-b2", "A", batch[:5], NOW)
        assert [r[1] for r in _dump(conn, "records") if r[0] == "b1"] == list(range(3 * COPY_FROM))
        assert conn.execute("SELECT count(*) FROM records WHERE board_id = 'b2'").fetchone()[0] == 15
        assert store.journal_position(conn, "b1") == (3 * COPY_FROM, record.mac_of(raws[-1]))


def test_rows_there_already_past_the_journals_position_are_left_as_they_were(db_target):
    """The store skips the records it holds before a journal's position; should rows past it be
    there too (a journal row moved back by hand), they are not written twice, and the other
    boards' records of the same call are stored (PostgreSQL's COPY refuses them: the savepoint is
    undone and every table goes through its staging table)."""
    raws = journal_bytes(KEYS["b1"], 3 * COPY_FROM)
    others = journal_bytes(KEYS["b2"], 2 * COPY_FROM)
    with store.open_store(db_target) as conn:
        with store.transaction(conn):
            _begin(conn, "b1", "b2")
            store.store_records(conn, "b1", "gate-b1", "A", raws, NOW)
            conn.execute("UPDATE journals SET next_seq = 0, last_mac = NULL WHERE board_id = 'b1'")
        before = {table: _dump(conn, table) for table in ("records", "sightings", "decisions")}
        with store.transaction(conn):
            counts = store.store_many(conn, [store.BoardRecords("b1", "gate-b1", "A", raws),
                                             store.BoardRecords("b2", "gate-b2", "A", others)], NOW)
        assert counts == [_expected_counts(raws), _expected_counts(others)]
        for table, rows in before.items():
            assert [row for row in _dump(conn, table) if row[0] == "b1"] == rows
        assert [bytes(r) for (r,) in conn.execute(
            "SELECT raw FROM records WHERE board_id = 'b2' ORDER BY seq")] == others
        assert store.journal_position(conn, "b1") == (len(raws), record.mac_of(raws[-1]))


def test_any_number_of_rows_is_stored_whole_and_in_order(db_target):
    """Around the sizes of the bulk statements (SQLite: SQLITE_CHUNKS rows a statement)."""
    sizes = (1, 3, 4, 5, 15, 16, 17, 63, 64, 65, 85, COPY_FROM, 2 * 64 + 16 + 4 + 3)
    raws = journal_bytes(KEYS["b1"], sum(sizes))
    with store.open_store(db_target) as conn:
        start = 0
        for size in sizes:
            with store.transaction(conn):
                _begin(conn, "b1")
                store.store_records(conn, "b1", "gate-b1", "A", raws[start:start + size], NOW)
            start += size
        assert [bytes(r) for (r,) in conn.execute(
            "SELECT raw FROM records WHERE board_id = 'b1' ORDER BY seq")] == raws
        total = sum(conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
                    for table in ("sightings", "decisions", "counts", "events"))
        assert total == len(raws)
