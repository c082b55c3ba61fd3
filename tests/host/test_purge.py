"""`bzgate purge`: sightings and decisions past their retention go, with their signed records
and old evidence; counts, events and where each journal resumes stay. A record made before its
gate's clock was set is as old as its collection."""

import json
import time

from click.testing import CliRunner

from bzcore import record
from bzgate import store
from bzgate.cli import main

KEY = bytes(32)
NOW = int(time.time())
DAY = 86400
OLD, RECENT = NOW - 40 * DAY, NOW - DAY
ID = bytes(range(12))


def _journal(specs):
    """Encoded records from (kind payload, time, clock valid), chained from GENESIS."""
    raws, prev = [], record.GENESIS
    for seq, ((kind, payload), t, valid) in enumerate(specs):
        raws.append(record.encode(KEY, prev, seq, kind, t, valid, 1, payload))
        prev = record.mac_of(raws[-1])
    return raws


def _fill(db):
    conn = store.open_store(db)
    sighting = record.sighting(ID, OLD, OLD, -50, 2, record.ANDROID, record.ADV)
    front = _journal([(sighting, OLD, True),
                      (record.decision(record.ALLOW, record.BUTTON, record.ENFORCE, ID, -50,
                                       record.ANDROID, 10), OLD, True),
                      (sighting, RECENT, True),
                      (sighting, 100, False),  # clock not set; collected recently
                      (record.count(1, 2, 3, 0), OLD, True),
                      (record.event(record.BOOT, 1), OLD, True)])
    back = _journal([(sighting, 200, False)])  # clock not set; collected 40 days ago
    with store.transaction(conn):
        store.begin_journal(conn, "front", "front", "A", "0.1.0", OLD)
        store.store_records(conn, "front", "front", "A", front, RECENT)
        store.begin_journal(conn, "back", "back", "A", "0.1.0", OLD)
        store.store_records(conn, "back", "back", "A", back, OLD)
        store.keep_evidence(conn, "front", 9, "MAC of seq 9 does not match", front[:1], OLD)
        store.keep_evidence(conn, "front", 12, "MAC of seq 12 does not match", front[:1], RECENT)
    conn.close()


def test_purge_deletes_old_personal_data_and_says_how_much(db_target):
    db = db_target
    _fill(db)
    result = CliRunner().invoke(main, ["purge", "--older-than", "21", "--db", str(db), "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["deleted"] == {"sightings": 2, "decisions": 1, "evidence": 1}
    with store.open_store(db) as conn:
        left = {table: conn.execute(f"SELECT board_id, seq FROM {table} ORDER BY board_id, seq").fetchall()
                for table in ("sightings", "decisions", "counts", "events", "records")}
        evidence = conn.execute("SELECT first_seq FROM evidence").fetchall()
        journals = dict(conn.execute("SELECT board_id, next_seq FROM journals"))
        audit = conn.execute("SELECT detail FROM audit WHERE action = 'purge'").fetchall()
    assert left["sightings"] == [("front", 2), ("front", 3)]
    assert left["decisions"] == []
    assert left["counts"] == [("front", 4)] and left["events"] == [("front", 5)]
    assert left["records"] == [("front", 2), ("front", 3), ("front", 4), ("front", 5)]
    assert evidence == [(12,)]
    assert journals == {"front": 6, "back": 1}  # collections resume where they were
    assert json.loads(audit[0][0])["deleted"]["sightings"] == 2

    again = CliRunner().invoke(main, ["purge", "--db", str(db)])
    assert again.exit_code == 0
    assert "deleted 0 sightings, 0 decisions and 0 evidence spans older than 21 days" in again.stdout


def test_a_retention_under_one_day_is_refused(tmp_path):
    result = CliRunner().invoke(main, ["purge", "--older-than", "0", "--db", str(tmp_path / "x.db")])
    assert result.exit_code == 2 and "--older-than" in result.output
