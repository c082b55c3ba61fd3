"""`bzgate gate exempt`: on a virtual gate the door opens, the note and who gave it land in the
audit, and `bzgate collect` then stores the EXEMPT record with its reason, its chain verified; a
reason or note that cannot be taken is refused before the gate is asked anything; the gate's own
refusals (count mode, a reason it does not know) come back as one clear line."""

import json
import shutil
import tempfile
import time
from pathlib import Path

import pytest
from click.testing import CliRunner
from collectkit import db_records, start_journal_gate
from decisionkit import RELAY
from gatekit import stop_gate, wait_until
from journalkit import flash_records
from linkkit import ok

from bzcore import record, wire
from bzgate import store
from bzgate.cli import main
from bzgate.store.audit import os_user

NOTE = "giao hàng tầng 3, chị Lan (lễ tân) cho vào"


@pytest.fixture(scope="module")
def exempt_gate():
    # A short folder, as for the collect tests: long paths cost the virtual board heap.
    where = Path(tempfile.mkdtemp(prefix="bze"))
    board, keys = start_journal_gate(where, 0)
    yield board, keys
    stop_gate(board)
    shutil.rmtree(where)


def bzgate(*args: str):
    return CliRunner().invoke(main, list(args))


def audit_rows(db) -> list[dict]:
    with store.open_store(db) as conn:
        return [json.loads(detail) for (detail,) in conn.execute(
            "SELECT detail FROM audit WHERE action = 'exempt' ORDER BY rowid")]


def test_an_exempt_opens_the_door_is_audited_with_its_note_and_collected_with_its_reason(exempt_gate, tmp_path):
    board, keys = exempt_gate
    db = tmp_path / "bzgate.db"
    since = time.time()
    given = bzgate("gate", "exempt", "--port", board.serial, "--reason", "staff-override",
                   "--note", NOTE, "--db", str(db), "--json")
    assert given.exit_code == 0, given.output
    reply = json.loads(given.stdout)
    assert (reply["verdict"], reply["reason"]) == ("exempt", "staff-override")
    assert wait_until(lambda: 1 in board.levels(RELAY, since)), "the door did not open"
    assert audit_rows(db) == [{"user": os_user(), "board_id": reply["board_id"], "seq": reply["seq"],
                               "gate_id": "test-gate", "reason": "staff-override", "note": NOTE,
                               "by": os_user()}]

    exempts = board.wait_records(record.DECISION, 1)  # flushed: collect takes only those
    assert [fields["reason"] for fields in exempts] == [record.STAFF_OVERRIDE]
    collected = bzgate("collect", "--port", board.serial, "--db", str(db), "--keys", str(keys.path))
    assert collected.exit_code == 0, collected.output
    stored = db_records(db)
    assert stored and stored == flash_records(board.flash)[:len(stored)]  # as the gate signed them
    with store.open_store(db) as conn:
        rows = conn.execute("SELECT seq, verdict, trigger, rssi, reason FROM decisions").fetchall()
    assert [tuple(row) for row in rows] == [(reply["seq"], "exempt", "host", None, "staff-override")]


def test_the_human_output_says_what_the_gate_did_and_where_the_audit_went(exempt_gate, tmp_path):
    board, _keys = exempt_gate
    db = tmp_path / "bzgate.db"
    given = bzgate("gate", "exempt", "--port", board.serial, "--reason", "no-smartphone",
                   "--db", str(db))
    assert given.exit_code == 0, given.output
    lines = dict(line.split(":", 1) for line in given.stdout.splitlines())
    assert lines["verdict"].strip() == "exempt" and lines["reason"].strip() == "no-smartphone"
    assert int(lines["seq"]) >= 0 and lines["audit"].strip() == str(db)
    assert [row["note"] for row in audit_rows(db)] == [None]  # optional for this reason


@pytest.mark.parametrize("args, message", [
    (["--reason", "vip"], "unknown reason 'vip': give one of no-smartphone, paper-declaration, "
                          "staff-override"),
    (["--reason", "staff-override"], "a staff-override needs a note"),
    (["--reason", "staff-override", "--note", "   "], "a staff-override needs a note"),
    (["--reason", "paper-declaration", "--note", "x" * 201], "the note has 201 characters; at most 200"),
    (["--reason", "paper-declaration", "--note", "form 12\nESC \x1b[2J"], "control characters"),
], ids=["unknown-reason", "override-without-note", "blank-note", "long-note", "control-characters"])
def test_a_reason_or_note_that_cannot_be_taken_is_refused_before_the_gate_is_asked(scripted, tmp_path, args, message):
    gate = scripted(lambda req_id, command, args, error: ok(req_id, {}))
    db = tmp_path / "bzgate.db"
    refused = bzgate("gate", "exempt", "--port", gate.path, "--db", str(db), *args)
    assert refused.exit_code == 2
    assert refused.stderr.startswith("bzgate: ") and len(refused.stderr.splitlines()) == 1
    assert message in refused.stderr
    assert gate.requests == [] and audit_rows(db) == []


def _gate_refusing(code: str, message: str):
    def answer(req_id, command, args, error):
        if command == "CONFIG GET":
            return ok(req_id, {"config": {"gate_id": "front"}})
        return wire.error_reply(req_id, code, message)
    return answer


@pytest.mark.parametrize("code, message, shown", [
    ("count-mode", "counting only", "the gate is in count mode"),
    ("bad-reason", "no reason 'paper-declaration' here", "bad-reason: no reason 'paper-declaration' here"),
    ("unknown-command", "EXEMPT", "does not know exempt entries: update it"),
])
def test_a_gate_that_refuses_says_why_in_one_line_and_nothing_is_audited(scripted, tmp_path, code, message, shown):
    gate = scripted(_gate_refusing(code, message))
    db = tmp_path / "bzgate.db"
    refused = bzgate("gate", "exempt", "--port", gate.path, "--reason", "paper-declaration",
                     "--db", str(db))
    assert refused.exit_code == 1
    assert refused.stderr.startswith(f"bzgate: gate on {gate.path}: ")
    assert shown in refused.stderr and len(refused.stderr.splitlines()) == 1
    assert audit_rows(db) == []
