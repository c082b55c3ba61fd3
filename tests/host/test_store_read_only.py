"""A database its user cannot write (a copy handed over read-only, a file of another account):
export and report work on it with --no-audit, which says that nothing is recorded; without it
they say that it is read-only, before doing any work.

A file's permissions do not stop root, so as root the commands run as `nobody` (setpriv), in a
folder of their own that `nobody` can read: the database as its user meets it, not a simulation.
"""

import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
from click.testing import CliRunner
from exportkit import Builder, utc
from tracekit import f0_json

from bzgate.cli import main

BZGATE = str(Path(sys.executable).parent / "bzgate")
NOBODY = 65534


def _filled(path: Path) -> Path:
    rows = Builder(path)
    rows.add("decisions", utc("2020-09-18 01:00"))
    rows.add("sightings", utc("2020-09-18 01:00"))
    rows.conn.close()
    return path


def _as_another_user() -> list[str]:
    if os.geteuid() != 0:
        return []
    if shutil.which("setpriv") is None:
        pytest.skip("running as root without setpriv: no user to whom a file can be read-only")
    return ["setpriv", f"--reuid={NOBODY}", f"--regid={NOBODY}", "--clear-groups"]


@pytest.fixture(params=["file", "file and folder"])
def read_only_db(request):
    """A bzgate database that the user running bzgate can read, not write: the file alone, or
    its folder too (where SQLite cannot make the WAL's -shm and -wal files)."""
    base = Path(tempfile.mkdtemp(prefix="bzgate-ro-"))
    folder, home = base / "copy", base / "home"
    try:
        base.chmod(0o755)
        folder.mkdir()
        home.mkdir(mode=0o777)
        home.chmod(0o777)
        db = _filled(folder / "bzgate.db")
        db.chmod(0o444)
        folder.chmod(0o555 if request.param == "file and folder" else 0o777)
        yield db
    finally:
        folder.chmod(0o755)
        shutil.rmtree(base)


def run(db: Path, *args: str) -> subprocess.CompletedProcess:
    home = db.parent.parent / "home"
    return subprocess.run([*_as_another_user(), BZGATE, *args, "--db", str(db)],
                          capture_output=True, text=True, timeout=60,
                          env=dict(os.environ, HOME=str(home)), cwd=home)


def _unchanged(db: Path, before: bytes) -> None:
    assert db.read_bytes() == before
    assert sorted(p.name for p in db.parent.iterdir()) in (
        ["bzgate.db"], ["bzgate.db", "bzgate.db-shm", "bzgate.db-wal"])


def test_export_and_report_work_with_no_audit_and_say_so(read_only_db):
    before = read_only_db.read_bytes()
    export = run(read_only_db, "export", "--what", "decisions", "--ids", "none", "--format",
                 "jsonl", "--no-audit")
    assert export.returncode == 0, export.stderr
    assert json.loads(export.stdout)["verdict"] == "allow"
    assert "--no-audit: nothing of this export is recorded in the audit table" in export.stderr
    report = run(read_only_db, "report", "--format", "md", "--lang", "en", "--no-audit")
    assert report.returncode == 0, report.stderr
    assert "2020-09-18" in report.stdout
    assert "--no-audit: nothing of this report is recorded in the audit table" in report.stderr
    _unchanged(read_only_db, before)


@pytest.mark.parametrize("command", [["export", "--what", "decisions", "--ids", "none"],
                                     ["report", "--format", "md"]])
def test_without_no_audit_a_read_only_database_is_said_to_be_one(read_only_db, command):
    before = read_only_db.read_bytes()
    result = run(read_only_db, *command)
    assert result.returncode == 2, result.stderr
    assert result.stderr.startswith(f"bzgate: {read_only_db} is read-only: this {command[0]} "
                                    "cannot be recorded in its audit table; give --no-audit")
    assert len(result.stderr.splitlines()) == 1 and result.stdout == ""
    _unchanged(read_only_db, before)


def test_no_audit_records_nothing_in_a_database_it_could_write(tmp_path):
    db = _filled(tmp_path / "bzgate.db")
    result = CliRunner().invoke(main, ["export", "--db", str(db), "--what", "counts",
                                       "--no-audit"])
    assert result.exit_code == 0, result.output
    assert "nothing of this export is recorded in the audit table" in result.stderr
    assert Builder(db).audit("export") == []


def test_full_ids_are_not_given_out_unrecorded(tmp_path):
    db = _filled(tmp_path / "bzgate.db")
    result = CliRunner().invoke(main, ["export", "--db", str(db), "--what", "decisions",
                                       "--ids", "full", "--purpose", "F0 case", "--no-audit"])
    assert result.exit_code == 2
    assert "--ids full cannot go with --no-audit" in result.stderr
    assert result.stdout == ""



def test_a_trace_is_always_recorded_so_a_read_only_database_is_refused_first(read_only_db):
    f0_file = read_only_db.parent.parent / "home" / "f0.json"
    f0_file.write_text(json.dumps(f0_json()))
    f0_file.chmod(0o644)
    result = run(read_only_db, "trace", "--f0", str(f0_file))
    assert result.returncode == 2, result.stderr
    assert result.stderr == (f"bzgate: {read_only_db} is read-only: every trace is recorded in "
                             "its audit table; trace on a copy this user can write\n")
