"""Exits on a virtual board (config "direction"): with "out" every button press or beam break
is an exit, with "both" the button is the way in and the exit button the way out. An exit opens
the door at once (green 0.5 s, no beep), phone or no phone, and is journalled as an EXIT
decision; it neither meets anti-passback nor counts as a phone's admission. Count mode takes
none (test_gate_exempt.py)."""

import time

from decisionkit import AT_GATE, BUTTON, BUZZER, EXIT_BUTTON, FAST, RED, RELAY, ready
from gatekit import phone, wait_until

from bzcore import record


def pulses(board, since):
    """How many times the relay has opened and closed again since `since`."""
    levels = board.levels(RELAY, since)
    return sum(1 for a, b in zip(levels, levels[1:]) if (a, b) == (1, 0))


def test_direction_out_every_press_is_an_exit_and_none_is_refused(gate):
    board = ready(gate(config={**FAST, "direction": "out"}))  # nobody with a phone anywhere near
    since = time.time()
    board.control.press(BUTTON)
    assert wait_until(lambda: pulses(board, since) == 1)
    board.control.press(BUTTON)  # the next one out, straight after
    assert wait_until(lambda: pulses(board, since) == 2)
    exits = board.wait_records(record.DECISION, 2)
    assert [(d["verdict"], d["trigger"]) for d in exits] == [(record.EXIT, record.BUTTON)] * 2
    assert all((d["id"], d["rssi"], d["reason"]) == (None, None, 0) for d in exits)
    assert 1 not in board.levels(RED, since) and 1 not in board.levels(BUZZER, since)
    assert board.status()["last_decision"]["verdict"] == "exit"


def test_a_bouncing_exit_button_is_one_exit(gate):
    board = ready(gate(config={**FAST, "direction": "out"}))
    board.control.press(BUTTON, 0.02)
    time.sleep(0.04)  # the bounce itself: a second edge 40 ms after the first
    board.control.press(BUTTON, 0.02)
    exit_, = board.wait_records(record.DECISION, 1)
    assert (exit_["verdict"], exit_["presses"]) == (record.EXIT, 2)
    assert board.status()["decisions"] == 1


def test_direction_both_the_button_enters_and_the_exit_button_leaves(gate):
    board = gate(config={**FAST, "direction": "both", "antipassback_s": 600},
                 phones=[phone("an", "android", **AT_GATE)])
    assert wait_until(lambda: board.status()["present"] >= 1)
    since = time.time()
    board.control.press(EXIT_BUTTON)  # a phone at the scanner while someone leaves
    assert wait_until(lambda: pulses(board, since) == 1)
    board.control.press(BUTTON)
    allow, = [d for d in board.wait_records(record.DECISION, 2) if d["verdict"] != record.EXIT]
    assert allow["verdict"] == record.ALLOW, "the exit was no admission of that phone"
    board.control.press(EXIT_BUTTON)  # leaving within antipassback_s of coming in
    assert wait_until(lambda: pulses(board, since) == 3)
    board.control.press(BUTTON)  # the way in keeps its rule: that phone came in already
    decisions = board.wait_records(record.DECISION, 4)
    assert [(d["verdict"], d["trigger"]) for d in decisions] == [
        (record.EXIT, record.EXIT_BUTTON), (record.ALLOW, record.BUTTON),
        (record.EXIT, record.EXIT_BUTTON), (record.DENY, record.BUTTON)]
