"""Every mode and trigger on a virtual board with scenario phones: the pins a guard sees and the
DECISION records the host collects. Phones stand at the scanner ("enter") or are absent;
near_rssi is -75, so a phone at the gate is near however its RSSI is drawn, and wait_s 1, so a
press nobody's phone answers is denied within a second (the rule itself: test_gate_rule.py).
"""

import time

from decisionkit import (AT_GATE, BEAM, BUTTON, BUZZER, DECISION_BUDGET_MS, FAST, GREEN, RED, RELAY,
                         at_scanner, press_and_watch, ready)
from gatekit import phone, wait_until

from bzcore import record


def near(board):
    return board.status()["present"] >= 1


def test_enforce_button_allows_a_bluezone_phone_at_the_gate_once_within_antipassback(gate):
    board = gate(config=FAST, phones=[phone("an", "android", **AT_GATE)])
    assert wait_until(lambda: near(board))
    at_scanner(board, "an")  # the smoothed RSSI is the scanner's
    first = press_and_watch(board, lambda: board.control.press(BUTTON))
    assert first[RELAY][:2] == [1, 0], "ALLOW pulses the relay and lets it go"
    assert 1 in first[GREEN] and 1 not in first[RED]
    again = press_and_watch(board, lambda: board.control.press(BUTTON))
    assert 1 not in again[RELAY], "the same ID within antipassback_s is denied"
    assert 1 in again[RED]
    decisions = board.wait_records(record.DECISION, 2)
    assert [d["verdict"] for d in decisions] == [record.ALLOW, record.DENY]
    allow = decisions[0]
    assert allow["trigger"] == record.BUTTON and allow["mode"] == record.ENFORCE
    assert allow["platform"] == record.ANDROID and allow["id"] is not None
    assert allow["rssi"] >= -75
    assert allow["latency_ms"] <= DECISION_BUDGET_MS
    assert decisions[1]["rssi"] is None, "a DENY names no phone"
    assert board.control.output(RELAY) == 0


def test_two_presses_40_ms_apart_on_the_button_make_one_decision_counting_both(gate):
    board = gate(config=FAST, phones=[phone("an", "android", **AT_GATE)])
    assert wait_until(lambda: near(board))
    board.control.press(BUTTON, 0.02)
    time.sleep(0.04)
    board.control.press(BUTTON, 0.02)
    decision, = board.wait_records(record.DECISION, 1)
    assert decision["presses"] == 2
    status = board.status()
    assert status["decisions"] == 1 and status["presses_merged"] == 1


def test_enforce_button_denies_without_a_bluezone_phone_and_the_relay_stays_closed(gate):
    board = gate(config=FAST, phones=[phone("other", "other", **AT_GATE)])
    at_scanner(ready(board), "other", counter="adverts")  # a phone at the scanner, but no Bluezone
    seen = press_and_watch(board, lambda: board.control.press(BUTTON))
    assert 1 not in seen[RELAY]
    assert 1 in seen[RED] and 1 in seen[BUZZER]
    decision, = board.wait_records(record.DECISION, 1)
    assert decision["verdict"] == record.DENY and decision["id"] is None


def test_monitor_logs_no_app_and_opens_anyway(gate):
    board = ready(gate(config={**FAST, "mode": "monitor"}))
    seen = press_and_watch(board, lambda: board.control.press(BUTTON))
    assert seen[RELAY][:2] == [1, 0] and 1 in seen[RED]
    decision, = board.wait_records(record.DECISION, 1)
    assert decision["verdict"] == record.NO_APP and decision["mode"] == record.MONITOR


def test_beam_break_is_the_trigger(gate):
    board = gate(config={**FAST, "trigger": "beam"}, phones=[phone("an", "android", **AT_GATE)])
    assert wait_until(lambda: near(board))
    at_scanner(board, "an")

    def break_beam():
        board.control.drive(BEAM, 0)  # the NPN sensor pulls low while the beam is broken
        time.sleep(0.2)
        board.control.drive(BEAM, None)

    seen = press_and_watch(board, break_beam)
    assert seen[RELAY][:2] == [1, 0]
    decision, = board.wait_records(record.DECISION, 1)
    assert decision["trigger"] == record.BEAM and decision["verdict"] == record.ALLOW


def test_tap_a_phone_reaching_the_gate_opens_it_without_a_press(gate):
    board = gate(config={**FAST, "trigger": "tap"},
                 phones=[phone("an", "android", path="enter", arrive_s=4, dwell_s=60)])
    assert wait_until(lambda: board.control.output(RELAY) == 1, timeout=15)
    decision, = board.wait_records(record.DECISION, 1)
    assert decision["trigger"] == record.TAP and decision["verdict"] == record.ALLOW
    assert decision["latency_ms"] <= DECISION_BUDGET_MS


def test_require_id_decides_whether_an_unread_iphone_counts(gate):
    iphone = [phone("ip", "ios", **AT_GATE)]
    unread = {**FAST, "ios_read": False}
    lenient = gate(config=unread, phones=iphone)
    strict = gate(config={**unread, "require_id": True}, phones=iphone)
    assert wait_until(lambda: near(lenient) and near(strict))
    at_scanner(lenient, "ip")
    at_scanner(strict, "ip")
    assert press_and_watch(lenient, lambda: lenient.control.press(BUTTON))[RELAY][:1] == [1]
    assert 1 not in press_and_watch(strict, lambda: strict.control.press(BUTTON))[RELAY]
    allow, = lenient.wait_records(record.DECISION, 1)
    deny, = strict.wait_records(record.DECISION, 1)
    assert (allow["verdict"], allow["platform"], allow["id"]) == (record.ALLOW, record.IOS, None)
    assert deny["verdict"] == record.DENY


def test_count_mode_takes_no_decisions(gate):
    board = gate(config={**FAST, "mode": "count"}, phones=[phone("an", "android", **AT_GATE)])
    assert wait_until(lambda: near(board))
    seen = press_and_watch(board, lambda: board.control.press(BUTTON))
    assert all(1 not in levels for levels in seen.values())
    # Whatever the gate logged by the end of the watch is on flash once nothing is pending
    # (the journal flushes every 5 s): a DECISION record would be among the flushed ones.
    assert wait_until(lambda: board.status()["storage"]["pending"] == 0, timeout=15)
    assert board.of_kind(record.DECISION) == []
    assert board.status()["decisions"] == 0


def test_an_allow_while_the_door_is_still_open_gives_the_relay_a_pulse_of_its_own(gate):
    # A turnstile counts one passage per pulse: the second visitor's ALLOW must be an edge too.
    board = gate(config={**FAST, "relay_pulse_ms": 3000, "antipassback_s": 0},
                 phones=[phone("an", "android", **AT_GATE)])
    assert wait_until(lambda: near(board))
    since = time.time()
    board.control.press(BUTTON)
    assert wait_until(lambda: board.control.output(RELAY) == 1)
    time.sleep(0.5)  # the first visitor is still walking through the open door
    board.control.press(BUTTON)
    decisions = board.wait_records(record.DECISION, 2)
    assert [d["verdict"] for d in decisions] == [record.ALLOW, record.ALLOW]
    assert wait_until(lambda: board.levels(RELAY, since)[:4] == [1, 0, 1, 0], timeout=8)
