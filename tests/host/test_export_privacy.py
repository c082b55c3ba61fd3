"""Visitors' Bluezone IDs are personal data: an export hashes them unless asked otherwise, and an
export of the IDs themselves says why, in the audit table."""

import json

from click.testing import CliRunner
from exportkit import Builder, ident, utc

from bzgate.cli import main

ID_A = ident(0xA1)


def _db(path):
    rows = Builder(path)
    rows.add("sightings", utc("2020-09-18 01:00"), id=ID_A)
    rows.conn.close()
    return path


def export(db, *args):
    return CliRunner().invoke(main, ["export", "--db", str(db), "--what", "sightings",
                                     "--format", "jsonl", *args])


def audited(db) -> dict:
    return json.loads(Builder(db).audit("export")[-1])


def test_ids_are_hashed_unless_asked_otherwise(tmp_path):
    db = _db(tmp_path / "bzgate.db")
    result = export(db)
    assert result.exit_code == 0, result.output
    row = json.loads(result.stdout.splitlines()[0])
    assert len(row["id"]) == 32 and row["id"] != ID_A.hex().upper()
    assert audited(db)["ids"] == "hashed"
    assert (tmp_path / "bzgate.secret").exists()


def test_full_ids_need_a_purpose_and_nothing_is_written_without_one(tmp_path):
    db = _db(tmp_path / "bzgate.db")
    out = tmp_path / "s.csv"
    for purpose in ((), ("--purpose", "  ")):
        result = export(db, "--ids", "full", *purpose, "-o", str(out))
        assert result.exit_code == 2, result.output
        assert "--ids full needs --purpose" in result.output
        assert len(result.output.splitlines()) == 1
    assert not out.exists() and Builder(db).audit("export") == []


def test_the_purpose_of_a_full_export_goes_into_the_audit(tmp_path):
    db = _db(tmp_path / "bzgate.db")
    result = export(db, "--ids", "full", "--purpose", "Trace F0 case 1234 for HCDC")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout.splitlines()[0])["id"] == ID_A.hex().upper()
    entry = audited(db)
    assert (entry["ids"], entry["purpose"]) == ("full", "Trace F0 case 1234 for HCDC")
