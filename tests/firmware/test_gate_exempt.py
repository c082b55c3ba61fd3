"""EXEMPT on a virtual board: a person without a smartphone let in on the guard's word, by the
guard's key switch (reason no-smartphone) or by an EXEMPT request over the host link. The door
opens with its own signal (green, two short beeps), the journal gets an EXEMPT decision with its
reason, and the host hears it live. Count mode takes none (nor an exit); monitor mode logs
them."""

import time

import pytest
from decisionkit import BUTTON, BUZZER, EXIT_BUTTON, FAST, GREEN, GUARD, RED, RELAY, ready
from gatekit import wait_until

from bzcore import record
from bzgate.link.serial import LinkError


def pulsed(board, since):
    """True once the relay has opened and closed again since `since`."""
    return board.levels(RELAY, since)[:2] == [1, 0]


def released(board, pin):
    """True once the virtual board has let go of a pressed input."""
    return str(pin) not in board.control.pins()["driven"]


def test_a_guard_press_lets_in_a_person_without_a_smartphone(gate):
    board = ready(gate(config=FAST))
    since = time.time()
    board.control.press(GUARD)
    assert wait_until(lambda: pulsed(board, since))
    assert wait_until(lambda: board.levels(BUZZER, since)[:4] == [1, 0, 1, 0]), "two short beeps"
    assert 1 in board.levels(GREEN, since) and 1 not in board.levels(RED, since)
    exempt, = board.wait_records(record.DECISION, 1)
    assert exempt["verdict"] == record.EXEMPT and exempt["trigger"] == record.GUARD
    assert exempt["reason"] == record.NO_SMARTPHONE and exempt["mode"] == record.ENFORCE
    assert (exempt["id"], exempt["rssi"], exempt["platform"]) == (None, None, record.PLATFORM_UNKNOWN)
    last = board.status()["last_decision"]
    assert (last["verdict"], last["reason"], last["trigger"]) == ("exempt", "no-smartphone", "guard")


def test_exempt_over_the_host_link_answers_at_once_with_its_journal_seq(gate):
    board = ready(gate(config=FAST))
    since = time.time()
    with board.link() as link:
        board_id = link.hello()["board_id"]
        list(link.events(seconds=0.2))  # subscribed: the gate keeps what happens till the next
        reply = link.exempt("paper-declaration")
        assert wait_until(lambda: pulsed(board, since))
        with pytest.raises(LinkError) as bad:
            link.exempt("a friend of the director")
        events = list(link.events(seconds=0.5))
    seq = reply.pop("seq")
    assert isinstance(seq, int)
    assert reply == {"verdict": "exempt", "reason": "paper-declaration", "n": 1, "board_id": board_id}
    assert bad.value.code == "bad-reason"
    assert [(e["verdict"], e["reason"], e["trigger"]) for e in events if "verdict" in e] == \
        [("exempt", "paper-declaration", "host")]
    board.wait_records(record.DECISION, 1)
    by_seq = {rec.seq: fields for rec, fields in board.records()}
    exempt = by_seq[seq]
    assert (exempt["verdict"], exempt["trigger"], exempt["reason"]) == \
        (record.EXEMPT, record.HOST, record.PAPER_DECLARATION)


def test_an_exempt_resent_with_its_token_is_answered_again_without_a_second_opening(gate):
    # The host resends a request whose reply it lost: one person, one record, one pulse.
    board = ready(gate(config=FAST))
    since = time.time()
    with board.link() as link:
        first = link.request("EXEMPT", "no-smartphone 5eed0001")
        assert wait_until(lambda: pulsed(board, since))
        again = link.request("EXEMPT", "no-smartphone 5eed0001")
        status = link.status()
    assert again == {**first, "repeat": True}
    assert status["decisions"] == 1 and board.levels(RELAY, since) == [1, 0]


def test_a_guard_press_while_the_gate_checks_answers_that_press(gate):
    # The visitor pressed and the gate looks for a phone she has not got: the guard's word is
    # the answer to her press, not a second person, and no DENY follows.
    board = ready(gate(config={**FAST, "wait_s": 3}))
    board.control.press(BUTTON)
    assert wait_until(lambda: board.status()["checking"])
    board.control.press(GUARD)
    exempt, = board.wait_records(record.DECISION, 1)
    assert (exempt["verdict"], exempt["trigger"], exempt["presses"]) == (record.EXEMPT, record.GUARD, 1)
    assert board.status()["checking"] is False
    board.control.press(BUTTON)  # the next visitor, also without Bluezone: denied after wait_s
    assert wait_until(lambda: board.status()["decisions"] >= 2 and not board.status()["checking"],
                      timeout=10)
    assert [d["verdict"] for d in board.wait_records(record.DECISION, 2)] == [record.EXEMPT, record.DENY]
    assert board.status()["decisions"] == 2


def test_count_mode_takes_no_exempt_and_no_exit(gate):
    board = ready(gate(config={**FAST, "mode": "count", "direction": "both"}))
    since = time.time()
    for pin in (GUARD, EXIT_BUTTON, BUTTON):
        board.control.press(pin)
    assert wait_until(lambda: all(released(board, pin) for pin in (GUARD, EXIT_BUTTON, BUTTON)))
    with board.link() as link:
        with pytest.raises(LinkError) as refused:
            link.exempt("no-smartphone")
        assert link.status()["decisions"] == 0
    assert refused.value.code == "count-mode"
    assert 1 not in board.levels(RELAY, since)


def test_monitor_mode_logs_an_exempt_and_opens(gate):
    board = ready(gate(config={**FAST, "mode": "monitor"}))
    since = time.time()
    board.control.press(GUARD)
    assert wait_until(lambda: pulsed(board, since))
    exempt, = board.wait_records(record.DECISION, 1)
    assert (exempt["verdict"], exempt["mode"], exempt["reason"]) == \
        (record.EXEMPT, record.MONITOR, record.NO_SMARTPHONE)
