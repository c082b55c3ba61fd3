"""The database file: created at the current schema, WAL, migrations atomic, foreign files refused."""

import sqlite3
import subprocess
import sys

import pytest
from collectkit import journal_bytes, signed_records

from bzcore import record
from bzgate import store
from bzgate.errors import UserError


def test_a_new_store_has_every_table_at_the_current_schema_in_wal_mode(tmp_path):
    conn = store.open_store(tmp_path / "a.db")
    tables = {row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    assert {"journals", "records", "sightings", "decisions", "counts", "events", "evidence",
            "audit"} <= tables
    assert conn.execute("PRAGMA user_version").fetchone()[0] == store.SCHEMA_VERSION
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_each_commit_is_synced_to_disk_before_anything_is_acked(tmp_path):
    """FULL: the WAL is synced at every commit; NORMAL would sync it only at checkpoints, and a
    power cut after collect's ack (the gate may reclaim what it acked) would lose records."""
    FULL = 2
    conn = store.open_store(tmp_path / "a.db")
    assert conn.execute("PRAGMA synchronous").fetchone()[0] == FULL


def test_opening_again_keeps_the_data(tmp_path):
    conn = store.open_store(tmp_path / "a.db")
    conn.execute("INSERT INTO audit (at, action, detail) VALUES (1, 'collect', '{}')")
    conn.close()
    again = store.open_store(tmp_path / "a.db")
    assert again.execute("SELECT count(*) FROM audit").fetchone()[0] == 1


def test_a_newer_schema_is_refused(tmp_path):
    path = tmp_path / "new.db"
    sqlite3.connect(path).execute(f"PRAGMA user_version={store.SCHEMA_VERSION + 1}")
    with pytest.raises(UserError, match="upgrade bzgate"):
        store.open_store(path)


def test_a_file_that_is_not_a_database_is_refused(tmp_path):
    path = tmp_path / "notes.db"
    path.write_bytes(b"these are my notes, not a database" * 100)
    with pytest.raises(UserError, match="not a bzgate database"):
        store.open_store(path)


def test_a_failing_migration_leaves_the_file_as_it_was(tmp_path, monkeypatch):
    monkeypatch.setattr(store, "MIGRATIONS", store.MIGRATIONS + ["CREATE TABLE extra (a); SELECT nonsense("])
    monkeypatch.setattr(store, "SCHEMA_VERSION", len(store.MIGRATIONS))
    store_path = tmp_path / "m.db"
    sqlite3.connect(store_path).close()
    with pytest.raises(sqlite3.OperationalError):
        store.open_store(store_path)
    conn = sqlite3.connect(store_path)
    assert conn.execute("PRAGMA user_version").fetchone()[0] == store.SCHEMA_VERSION - 1
    assert not conn.execute("SELECT name FROM sqlite_master WHERE name='extra'").fetchall()


def test_the_database_path_follows_option_then_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("BZGATE_DB", str(tmp_path / "env.db"))
    assert store.db_path() == tmp_path / "env.db"
    assert store.db_path(tmp_path / "opt.db") == tmp_path / "opt.db"
    monkeypatch.delenv("BZGATE_DB")
    assert str(store.db_path()) == "bzgate.db"


# --- PostgreSQL: the same schema and writes behind a URL ---------------------------------------
TABLES = {"journals", "records", "sightings", "decisions", "counts", "events", "evidence", "audit"}


def test_a_new_postgresql_store_has_every_table_at_the_current_schema(pg_url):
    with store.open_store(pg_url) as conn:
        assert conn.kind == "postgresql"
        tables = {row[0] for row in conn.execute(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'public'")}
        assert TABLES <= tables
        assert conn.schema_version() == store.SCHEMA_VERSION
        conn.execute("INSERT INTO audit (at, action, detail) VALUES (1, 'collect', '{}')")
    with store.open_store(pg_url) as again:
        assert again.execute("SELECT count(*) FROM audit").fetchone()[0] == 1


def test_processes_opening_one_new_postgresql_database_together_migrate_it_once(pg_url):
    code = "import sys; from bzgate import store; store.open_store(sys.argv[1]).close()"
    openers = [subprocess.Popen([sys.executable, "-c", code, pg_url], stderr=subprocess.PIPE, text=True)
               for _ in range(4)]
    for opener in openers:
        assert opener.wait(timeout=60) == 0, opener.stderr.read()
    with store.open_store(pg_url) as conn:
        assert conn.execute("SELECT count(*) FROM bzgate_schema").fetchone()[0] == 1
        assert conn.schema_version() == store.SCHEMA_VERSION


def test_a_newer_postgresql_schema_is_refused(pg_url):
    with store.open_store(pg_url) as conn:
        conn.set_schema_version(store.SCHEMA_VERSION + 1)
    with pytest.raises(UserError, match="upgrade bzgate"):
        store.open_store(pg_url)


def test_a_postgresql_server_that_does_not_answer_is_a_clear_error_without_the_password():
    with pytest.raises(UserError, match="cannot be reached") as refused:
        store.open_store("postgresql://bz:hunter2@127.0.0.1:1/bzgate")
    assert "hunter2" not in str(refused.value) and "postgresql://bz@127.0.0.1:1/bzgate" in str(refused.value)


def test_records_stored_twice_are_kept_once_on_both_databases(db_target):
    raws = journal_bytes(b"k" * 32, 120)
    with store.open_store(db_target) as conn:
        for _ in range(2):
            with store.transaction(conn):
                store.begin_journal(conn, "b1", "front", "A", "0.1.0", 1000)
                stored = store.store_records(conn, "b1", "front", "A", raws, 1000)
        assert sum(stored.values()) == len(raws)
        assert [bytes(r[0]) for r in conn.execute("SELECT raw FROM records ORDER BY seq")] == raws
        counts = {t: conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0]
                  for t in ("sightings", "decisions", "counts", "events")}
        assert sum(counts.values()) == len(raws) and counts["events"] == 1
        assert store.journal_position(conn, "b1") == (120, record.mac_of(raws[-1]))
        assert conn.execute("SELECT id FROM sightings WHERE seq = 1").fetchone()[0] == bytes([0, 0, 0, 1]) * 3


# --- schema 4: a decision's RSSI may be absent, a decision counts its presses ------------------
_OLD_ROWS = [  # (seq, verdict, id, rssi) as schema 3 held them: no RSSI stored as 0
    (0, "allow", bytes(12), -48), (1, "deny", None, 0), (2, "no-app", None, 0),
    (3, "no-app", None, -90), (4, "allow", None, -51)]


def _at_schema(version: int, target, monkeypatch) -> None:
    """A store as bzgate made it at an older schema (3 or later), with decisions in it."""
    with monkeypatch.context() as m:
        m.setattr(store, "MIGRATIONS", store.MIGRATIONS[:version])
        m.setattr(store, "SCHEMA_VERSION", version)
        m.setattr(store, "TABLES", ())  # the tables of later schemas are not there yet
        with store.open_store(target) as conn, store.transaction(conn):
            for seq, verdict, ident, rssi in _OLD_ROWS:
                conn.execute("INSERT INTO decisions (board_id, seq, gate_id, site, time, clock_valid, "
                             "verdict, trigger, mode, id, rssi, platform, latency_ms) VALUES "
                             "('b1', ?, 'front', 'A', ?, 1, ?, 'button', 'enforce', ?, ?, NULL, 9)",
                             (seq, 1000 + seq, verdict, ident, rssi))


def test_schema_4_makes_a_missing_rssi_null_and_counts_one_press_for_old_decisions(db_target, monkeypatch):
    _at_schema(3, db_target, monkeypatch)
    with store.open_store(db_target) as conn:
        assert conn.schema_version() == store.SCHEMA_VERSION >= 4
        rows = conn.execute("SELECT seq, verdict, rssi, presses, latency_ms FROM decisions "
                            "ORDER BY seq").fetchall()
        assert [tuple(r) for r in rows] == [(0, "allow", -48, 1, 9), (1, "deny", None, 1, 9),
                                            (2, "no-app", None, 1, 9), (3, "no-app", -90, 1, 9),
                                            (4, "allow", -51, 1, 9)]
        # the table's indexes came back with it, and a new row may leave its RSSI out
        indexes = ("SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'decisions'"
                   if conn.kind == "sqlite" else
                   "SELECT indexname FROM pg_indexes WHERE tablename = 'decisions'")
        assert {"decisions_time", "decisions_gate_time"} <= {r[0] for r in conn.execute(indexes)}
        with store.transaction(conn):
            conn.execute("INSERT INTO decisions (board_id, seq, gate_id, site, time, clock_valid, "
                         "verdict, trigger, mode, id, rssi, platform, latency_ms) VALUES "
                         "('b1', 9, 'front', 'A', 2000, 1, 'deny', 'button', 'enforce', NULL, NULL, "
                         "NULL, 5000)")
        assert tuple(conn.execute("SELECT rssi, presses FROM decisions WHERE seq = 9").fetchone()) \
            == (None, 1)


def test_decisions_are_stored_with_their_presses_and_no_rssi_when_no_phone_decided(db_target):
    phone = bytes.fromhex("130CEA6472130C185D8643DF")
    old_deny = bytes.fromhex("020101" + "00" * 12 + "00" + "00" + "0010")  # before the field: 0
    raws = signed_records(b"k" * 32, [
        record.decision(record.ALLOW, record.BUTTON, record.ENFORCE, phone, -55, record.ANDROID, 40),
        record.decision(record.DENY, record.BUTTON, record.ENFORCE, None, None, 0, 5012, presses=3),
        record.decision(record.NO_APP, record.BEAM, record.MONITOR, None, None, 0, 5000),
        (record.DECISION, old_deny)])
    with store.open_store(db_target) as conn:
        with store.transaction(conn):
            store.begin_journal(conn, "b1", "front", "A", "0.1.0", 1000)
            assert store.store_records(conn, "b1", "front", "A", raws, 1000)["decisions"] == 4
        rows = conn.execute("SELECT verdict, id, rssi, latency_ms, presses FROM decisions "
                            "ORDER BY seq").fetchall()
    assert [tuple(r) for r in rows] == [("allow", phone, -55, 40, 1), ("deny", None, None, 5012, 3),
                                        ("no-app", None, None, 5000, 1), ("deny", None, None, 16, 1)]


# --- schema 5: why an exempt was given -----------------------------------------------------------
def test_schema_5_gives_decisions_a_reason_none_for_the_rows_stored_before(db_target, monkeypatch):
    _at_schema(4, db_target, monkeypatch)
    with store.open_store(db_target) as conn:
        assert conn.schema_version() == store.SCHEMA_VERSION >= 5
        rows = conn.execute("SELECT seq, verdict, reason FROM decisions ORDER BY seq").fetchall()
        assert [tuple(r) for r in rows] == [(seq, verdict, None) for seq, verdict, *_ in _OLD_ROWS]
        with store.transaction(conn):
            conn.execute("INSERT INTO decisions (board_id, seq, gate_id, site, time, clock_valid, "
                         "verdict, trigger, mode, id, rssi, platform, latency_ms, reason) VALUES "
                         "('b1', 9, 'front', 'A', 2000, 1, 'exempt', 'host', 'enforce', NULL, NULL, "
                         "NULL, 0, 'paper-declaration')")
        assert conn.execute("SELECT reason FROM decisions WHERE seq = 9").fetchone()[0] \
            == "paper-declaration"


def test_an_exempt_is_stored_with_its_reason_and_every_other_decision_without(db_target):
    older = record.decision(record.DENY, record.BUTTON, record.ENFORCE, None, None, 0, 5000)
    raws = signed_records(b"k" * 32, [
        record.decision(record.EXEMPT, record.HOST, record.ENFORCE, None, None, 0, 0,
                        reason=record.STAFF_OVERRIDE),
        record.decision(record.EXEMPT, record.GUARD, record.ENFORCE, None, None, 0, 0,
                        reason=record.NO_SMARTPHONE),
        record.decision(record.EXIT, record.EXIT_BUTTON, record.ENFORCE, None, None, 0, 0),
        record.decision(record.ALLOW, record.BUTTON, record.ENFORCE, bytes(range(12)), -50,
                        record.ANDROID, 30),
        (record.DECISION, older[1][:20])])  # a gate from before the field: 20 bytes
    with store.open_store(db_target) as conn:
        with store.transaction(conn):
            store.begin_journal(conn, "b1", "front", "A", "0.1.0", 1000)
            assert store.store_records(conn, "b1", "front", "A", raws, 1000)["decisions"] == 5
        rows = conn.execute("SELECT verdict, trigger, rssi, reason FROM decisions "
                            "ORDER BY seq").fetchall()
    assert [tuple(r) for r in rows] == [("exempt", "host", None, "staff-override"),
                                        ("exempt", "guard", None, "no-smartphone"),
                                        ("exit", "exit-button", None, None),
                                        ("allow", "button", -50, None), ("deny", "button", None, None)]
