"""The monitor's state model without gates: alarms from STATUS, offline after 30 s, today's
counts kept once across live events and collections, decisions missed between streams."""

import datetime as dt

from bzgate.localtime import LOCAL
from bzgate.monitorstate import (EVENTS_KEPT, OFFLINE_AFTER_S, QUEUED_MAX, STALL_SHOWN_S, Board,
                                 status_alarms)

PORT = "/dev/ttyUSB0"
NOON = dt.datetime(2026, 11, 22, 12, 0, tzinfo=LOCAL).timestamp()


def storage(used, free, full=False):
    return {"bytes": used, "free_bytes": free, "storage_full": full, "alarms": []}


def test_status_alarms_name_what_a_guard_must_know():
    assert status_alarms({"clock_valid": True, "storage": storage(79, 21)}) == []
    assert status_alarms({"clock_valid": True, "storage": storage(80, 20)}) == ["storage-high"]
    assert status_alarms({"clock_valid": True, "storage": {**storage(99, 1, True),
                                                          "alarms": ["storage-full"]}}) \
        == ["storage-full"]
    assert status_alarms({"clock_valid": False, "safe_mode": True, "alarms": ["config-error"],
                          "restarts": [3, 1], "storage": storage(0, -1)}) \
        == ["config-error", "clock-invalid", "safe-mode", "scanner-stalled"]


class Clock:
    def __init__(self, t=NOON):
        self.t = t

    def __call__(self):
        return self.t


def watched(clock, **status):
    board = Board(clock)
    board.add_gate(PORT, "front", "Site")
    board.hello(PORT, {"gate_id": "front", "board_id": "ab"}, {"site": "Tòa nhà A"})
    board.status(PORT, {"clock_valid": True, "decisions": 0, "restarts": [0, 0], **status})
    return board


def gate(board):
    return board.snapshot()["gates"][0]


def test_a_gate_silent_for_30_s_goes_offline_with_an_alarm_and_an_event():
    clock = Clock()
    board = watched(clock)
    changes = board.subscribe()
    clock.t += OFFLINE_AFTER_S - 1
    board.refresh()
    assert gate(board)["online"] and gate(board)["site"] == "Tòa nhà A"
    clock.t += 2
    board.refresh()
    assert not gate(board)["online"] and gate(board)["alarms"] == ["offline"]
    assert board.snapshot()["events"][0]["kind"] == "offline"
    kinds = [changes.get_nowait()[0] for _ in range(changes.qsize())]
    assert kinds[0] == "state" and "gate" in kinds and "event" in kinds
    board.replied(PORT)
    assert gate(board)["online"] and board.snapshot()["events"][0]["kind"] == "online"


def test_a_silent_scan_restart_is_a_stalled_scanner_for_a_while():
    clock = Clock()
    board = watched(clock)
    board.status(PORT, {"clock_valid": True, "restarts": [1, 0]})
    assert gate(board)["alarms"] == ["scanner-stalled"]
    clock.t += STALL_SHOWN_S + 1
    board.status(PORT, {"clock_valid": True, "restarts": [1, 0]})
    assert gate(board)["alarms"] == []


def test_a_refused_collection_is_a_chain_error_until_one_succeeds():
    board = watched(Clock())
    board.collected(PORT, {"result": "broken-chain", "message": "breaks at seq 7"})
    assert gate(board)["alarms"] == ["chain-error"]
    assert board.snapshot()["events"][0]["result"] == "broken-chain"
    board.collected(PORT, {"result": "ok", "stored": {"records": 0}})
    assert gate(board)["alarms"] == []


def test_todays_counts_count_a_decision_once_live_and_once_collected():
    clock = Clock()
    board = watched(clock)
    for verdict in ("allow", "allow", "deny"):
        board.event(PORT, {"verdict": verdict, "platform": "android"})
    assert gate(board)["today"] == {"allow": 2, "deny": 1, "no-app": 0}
    assert gate(board)["compliance"] == 67
    # One allow reached the database (with three from before the monitor ran); the rest not yet.
    board.counts_stored(PORT, today={"allow": 4, "deny": 0}, new={"allow": 1})
    assert gate(board)["today"] == {"allow": 5, "deny": 1, "no-app": 0}
    clock.t += 86400  # the next day in Vietnam
    board.refresh()
    assert gate(board)["today"] == {"allow": 0, "deny": 0, "no-app": 0}
    assert gate(board)["compliance"] is None


def test_a_decision_made_between_two_streams_is_taken_from_status():
    board = watched(Clock(), decisions=5)
    assert gate(board)["last"] is None
    board.status(PORT, {"clock_valid": True, "decisions": 6,
                        "last_decision": {"verdict": "deny", "platform": None}})
    assert gate(board)["last"]["verdict"] == "deny" and gate(board)["today"]["deny"] == 1
    board.event(PORT, {"verdict": "allow"})
    board.status(PORT, {"clock_valid": True, "decisions": 7,
                        "last_decision": {"verdict": "allow"}})  # seen live: not twice
    assert gate(board)["today"] == {"allow": 1, "deny": 1, "no-app": 0}


def test_the_event_list_keeps_the_last_200():
    board = watched(Clock())
    for n in range(EVENTS_KEPT + 20):
        board.event(PORT, {"alarm": f"a{n}"})
    events = board.snapshot()["events"]
    assert len(events) == EVENTS_KEPT and events[0]["alarm"] == f"a{EVENTS_KEPT + 19}"


def test_a_page_that_stops_reading_starts_over_from_the_whole_state():
    board = watched(Clock())
    changes = board.subscribe()
    for n in range(QUEUED_MAX + 5):
        board.event(PORT, {"alarm": f"a{n}"})
    kind, state = changes.get_nowait()
    assert changes.qsize() < QUEUED_MAX
    assert kind == "state"  # not the first one: it holds what the page missed
    assert int(state["events"][0].get("alarm", "a-1")[1:]) >= QUEUED_MAX - 10
    last = [changes.get_nowait() for _ in range(changes.qsize())][-1]
    assert last[0] in ("event", "gate")
