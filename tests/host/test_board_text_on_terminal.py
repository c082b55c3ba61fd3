"""A board's text on the terminal: an older gate (or a hostile one) that holds a newline, an OSC
(ESC ] ... BEL, which retitles the window) or a CSI (ESC [ ..., which moves the cursor or clears
the screen) in its gate id, site or alarms; `bzgate status` and `bzgate gate` show each control
character as an escape, and the table keeps one line per gate."""

import json

import pytest
from click.testing import CliRunner
from linkkit import ok

from bzcore import wire, wirehost
from bzgate.cli import main

SITE = "HQ\nbzgate: all gates OK\x1b]0;owned\x07"
GATE_ID = "door\x1b[2J\x1b[1;1H"
FIRMWARE = "0.1\x9b31m"  # a C1 CSI: one character


def older_gate(req_id, command, args, error):
    answers = {"HELLO": {"gate_id": GATE_ID, "board_id": "ab\x1b[8m", "firmware": FIRMWARE, "mpy": 6},
               "CONFIG GET": {"config": {"gate_id": GATE_ID, "site": SITE, "mode": "enforce\x07"}},
               "STATUS": {"mode": "monitor\x1b[5m", "clock_valid": True, "decisions": 3,
                          "alarms": ["config-error\x1b]8;;http://x\x07"], "storage": {"bytes": 1, "free_bytes": 9}}}
    return ok(req_id, answers[command]) if command in answers else wirehost.reply(req_id, wire.ERR, {})


def _no_controls(text):
    """No control character but the newlines that end lines."""
    assert not [c for c in text if (ord(c) < 0x20 or 0x7F <= ord(c) < 0xA0) and c != "\n"], repr(text)


@pytest.mark.parametrize("command", [["status"], ["gate", "hello"], ["gate", "config-get"], ["gate", "status"]])
def test_a_boards_control_characters_are_shown_as_escapes(scripted, command):
    gate = scripted(older_gate)
    shown = CliRunner().invoke(main, [*command, "--port", gate.path])
    assert shown.exit_code == 0, shown.output
    _no_controls(shown.output)
    assert "\\x1b" in shown.output or "\\u001b" in shown.output  # shown, as an escape


def test_status_keeps_one_line_per_gate(scripted):
    gate = scripted(older_gate)
    shown = CliRunner().invoke(main, ["status", "--port", gate.path])
    header, row = shown.output.splitlines()
    assert header.startswith("GATE") and row.startswith("door\\x1b[2J\\x1b[1;1H")
    assert "HQ\\x0abzgate: all gates OK\\x1b]0;owned\\x07" in row


def test_json_output_carries_the_text_as_the_gate_sent_it(scripted):
    gate = scripted(older_gate)
    shown = CliRunner().invoke(main, ["gate", "config-get", "--port", gate.path, "--json"])
    _no_controls(shown.output)  # JSON escapes them itself
    assert json.loads(shown.output)["site"] == SITE
