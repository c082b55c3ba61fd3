"""`bzgate collect` against a peer whose replies lack what collect needs (an older firmware, or
not a gate at all): a clear error and exit status 1, never a traceback, and an audit row."""

import sqlite3

import pytest
from click.testing import CliRunner
from linkkit import ok

from bzgate.cli import main
from bzgate.keys import KeyStore


@pytest.mark.parametrize("replies, message", [
    ({"HELLO": {"gate_id": "front"}}, "did not give its board id"),
    ({"HELLO": {"board_id": "aa", "gate_id": "front"}, "CONFIG GET": {"config": {"site": "A"}},
      "STATUS": {"uptime_ms": 5}}, "STATUS without the journal's position"),
])
def test_replies_without_what_collect_needs_are_a_clear_error(tmp_path, scripted, replies, message):
    gate = scripted(lambda req_id, command, args, error: ok(req_id, replies[command]))
    keys = KeyStore(tmp_path / "keys.json")
    keys.put("aa", bytes(32))
    result = CliRunner().invoke(main, ["collect", "--port", gate.path, "--db", str(tmp_path / "r.db"),
                                       "--keys", str(keys.path)])
    assert result.exit_code == 1 and isinstance(result.exception, SystemExit)  # not a crash
    assert message in result.stderr
    with sqlite3.connect(tmp_path / "r.db") as conn:
        assert conn.execute("SELECT count(*) FROM audit WHERE action = 'collect'").fetchone()[0] == 1
