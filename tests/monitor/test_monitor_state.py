"""The monitor's state model without gates: alarms from STATUS, offline after 30 s, today's
counts kept once across live events and collections, decisions missed between streams
and replayed, a press that is checking for a phone until its decision."""

from clockkit import Clock

from bzgate.monitor.state import (CHECKING_GRACE_S, CHECKING_LONGEST_S, EVENTS_KEPT,
                                 OFFLINE_AFTER_S, QUEUED_MAX, STALL_SHOWN_S, Board, status_alarms,
                                 status_problem)

PORT = "/dev/ttyUSB0"


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
    assert gate(board)["today"] == {"allow": 2, "deny": 1, "no-app": 0, "exempt": 0, "exit": 0}
    assert gate(board)["compliance"] == 67
    # One allow reached the database (with three from before the monitor ran); the rest not yet.
    board.counts_stored(PORT, today={"allow": 4, "deny": 0}, new={"allow": 1})
    assert gate(board)["today"] == {"allow": 5, "deny": 1, "no-app": 0, "exempt": 0, "exit": 0}
    clock.t += 86400  # the next day in Vietnam
    board.refresh()
    assert gate(board)["today"] == {"allow": 0, "deny": 0, "no-app": 0, "exempt": 0, "exit": 0}
    assert gate(board)["compliance"] is None


def decision(n, verdict):
    return {"n": n, "verdict": verdict, "platform": "android"}


def decisions_logged(board):
    return [e["n"] for e in board.snapshot()["events"] if e["kind"] == "decision"]


def test_a_decision_made_between_two_streams_is_taken_from_status_and_its_replay_not_again():
    board = watched(Clock(), decisions=5)  # five made before the monitor watched
    assert gate(board)["last"] is None
    board.status(PORT, {"clock_valid": True, "decisions": 6, "last_decision": decision(6, "deny")})
    assert gate(board)["last"]["verdict"] == "deny" and gate(board)["today"]["deny"] == 1
    board.event(PORT, decision(6, "deny"))  # the gate's replay when the next stream starts
    board.event(PORT, decision(7, "allow"))
    board.status(PORT, {"clock_valid": True, "decisions": 7, "last_decision": decision(7, "allow")})
    assert gate(board)["today"] == {"allow": 1, "deny": 1, "no-app": 0, "exempt": 0, "exit": 0}
    assert decisions_logged(board) == [7, 6]


def test_a_replay_fills_in_what_status_skipped_without_moving_the_tile_back():
    board = watched(Clock(), decisions=0)
    board.status(PORT, {"clock_valid": True, "decisions": 2, "last_decision": decision(2, "allow")})
    for n, verdict in ((1, "deny"), (2, "allow"), (3, "no-app")):  # the replay, then live
        board.event(PORT, decision(n, verdict))
    assert decisions_logged(board) == [3, 1, 2]
    assert gate(board)["last"]["n"] == 3
    assert gate(board)["today"] == {"allow": 1, "deny": 1, "no-app": 1, "exempt": 0, "exit": 0}
    board.event(PORT, decision(2, "allow"))
    assert gate(board)["last"]["n"] == 3 and decisions_logged(board) == [3, 1, 2]


def test_decisions_from_before_the_session_or_a_reboot_are_not_news():
    board = watched(Clock(), decisions=40)
    board.event(PORT, decision(39, "allow"))  # queued on the gate before this session
    assert decisions_logged(board) == [] and gate(board)["today"]["allow"] == 0
    board.event(PORT, decision(41, "allow"))
    board.status(PORT, {"clock_valid": True, "decisions": 1, "last_decision": decision(1, "deny")})
    assert gate(board)["last"]["n"] == 41  # a reboot: its count starts again, taken as the floor
    board.event(PORT, decision(2, "deny"))
    assert gate(board)["last"]["n"] == 2 and decisions_logged(board) == [2, 41]


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
    assert kind == "state"  # not the first one: it holds what the page missed
    newest_missed = state["events"][0].get("alarm", "a-1")
    assert int(newest_missed[1:]) >= QUEUED_MAX - 10
    # The queue started over: after the state, only what came since, nothing it replaced.
    since = [(kind, data.get("alarm")) for kind, data in
             (changes.get_nowait() for _ in range(changes.qsize()))]
    assert since == [("event", f"a{n}") for n in range(int(newest_missed[1:]) + 1, QUEUED_MAX + 5)]


# --- checking: a press with no phone near waits up to the gate's wait_s -----------------------
def checking(n, wait_ms=5000):
    return {"checking": {"n": n, "trigger": "button", "wait_ms": wait_ms}}


def deny(n, presses=1):
    return {"n": n, "verdict": "deny", "trigger": "button", "id": None, "rssi": None,
            "platform": None, "latency_ms": 5004, "presses": presses}


def test_a_check_shows_on_the_tile_until_its_decision_and_is_not_an_event():
    clock = Clock()
    board = watched(clock, decisions=3)
    changes = board.subscribe()
    changes.get_nowait()
    logged = board.snapshot()["events"]
    board.event(PORT, checking(4))
    assert gate(board)["checking"] == {"n": 4, "trigger": "button", "wait_ms": 5000, "at": clock.t}
    assert [kind for kind, _ in (changes.get_nowait() for _ in range(changes.qsize()))] == ["gate"]
    assert board.snapshot()["events"] == logged  # the tile says it; the event list waits for the verdict
    clock.t += 4
    board.refresh()
    assert gate(board)["checking"]["n"] == 4
    board.event(PORT, deny(4, presses=3))
    assert gate(board)["checking"] is None
    assert (gate(board)["last"]["verdict"], gate(board)["last"]["presses"]) == ("deny", 3)
    assert gate(board)["today"]["deny"] == 1


def test_a_check_replayed_after_its_decision_or_an_older_decision_leave_the_tile_right():
    board = watched(Clock(), decisions=3)
    board.status(PORT, {"clock_valid": True, "decisions": 4, "last_decision": deny(4)})
    board.event(PORT, checking(4))  # the replay of what came before decision 4
    assert gate(board)["checking"] is None
    board.event(PORT, checking(6))
    board.event(PORT, deny(5))  # decided before the check began (a replay)
    assert gate(board)["checking"]["n"] == 6
    board.event(PORT, deny(6))
    assert gate(board)["checking"] is None


def test_status_says_checking_on_a_new_session_and_that_it_is_over():
    clock = Clock()
    board = watched(clock, decisions=3, checking=True, presses_merged=2)
    assert gate(board)["checking"] == {"n": None, "trigger": None, "wait_ms": None, "at": clock.t}
    assert gate(board)["presses_merged"] == 2
    clock.t += 3
    board.status(PORT, {"clock_valid": True, "decisions": 3, "checking": True})
    assert gate(board)["checking"]["at"] == clock.t - 3  # still the same check
    board.status(PORT, {"clock_valid": True, "decisions": 3, "checking": False})
    assert gate(board)["checking"] is None
    board.status(PORT, {"clock_valid": True, "decisions": 3, "checking": True})
    board.hello(PORT, {"gate_id": "front", "board_id": "ab"}, {})  # a new session asks again
    assert gate(board)["checking"] is None


def test_a_check_whose_decision_never_came_ends_after_its_wait_or_when_the_gate_goes_offline():
    clock = Clock()
    board = watched(clock, decisions=0)
    board.event(PORT, checking(1, wait_ms=2000))
    clock.t += 2 + CHECKING_GRACE_S - 0.5
    board.refresh()
    assert gate(board)["checking"] is not None
    clock.t += 1
    board.refresh()
    assert gate(board)["checking"] is None  # its decision event was lost on the way
    board.status(PORT, {"clock_valid": True, "decisions": 0, "checking": True})  # wait unknown
    clock.t += CHECKING_LONGEST_S + CHECKING_GRACE_S - 1
    board.refresh()
    assert gate(board)["checking"] is not None
    board.went_offline(PORT, "its last will")
    assert gate(board)["checking"] is None


def test_a_deny_without_a_phone_has_no_rssi_even_from_a_gate_that_sent_0():
    board = watched(Clock(), decisions=0)
    board.event(PORT, {**deny(1), "rssi": 0})  # firmware from before the RSSI could be absent
    assert gate(board)["last"]["rssi"] is None and board.snapshot()["events"][0]["rssi"] is None
    board.event(PORT, {"n": 2, "verdict": "allow", "id": "ab" * 12, "rssi": -52,
                       "platform": "android", "presses": 1})
    assert gate(board)["last"]["rssi"] == -52


def test_a_status_from_the_broker_with_checking_or_presses_merged_of_the_wrong_kind_is_refused():
    assert status_problem({"checking": True, "presses_merged": 4}) is None
    assert status_problem({"checking": "yes"}) == "checking: not a bool"
    assert status_problem({"presses_merged": "4"}) == "presses_merged: not a int"


def test_inside_now_per_site_is_todays_entries_less_exits_counted_once_from_the_database():
    clock = Clock()
    board = Board(clock)
    board.stored_at_start({"ab": {"Tòa nhà A": {"allow": 3, "exit": 1}},
                           "cd": {"Cổng sau": {"exempt": 2, "deny": 4}}})  # a gate not watched
    board.add_gate(PORT, "front", "Tòa nhà A")
    board.hello(PORT, {"gate_id": "front", "board_id": "ab"}, {"site": "Tòa nhà A"})
    board.status(PORT, {"clock_valid": True, "decisions": 0, "restarts": [0, 0]})
    assert board.snapshot()["sites"] == [{"site": "Cổng sau", "inside": 2},
                                         {"site": "Tòa nhà A", "inside": 2}]
    changes = board.subscribe()
    for n, verdict in enumerate(("allow", "exempt", "no-app", "deny", "exit"), 1):
        board.event(PORT, {"n": n, "verdict": verdict, "reason": "no-smartphone"
                           if verdict == "exempt" else None})
    assert board.snapshot()["sites"][1] == {"site": "Tòa nhà A", "inside": 4}
    published = [data for kind, data in list(changes.queue) if kind == "sites"]
    assert published[-1] == board.snapshot()["sites"]
    assert gate(board)["compliance"] == 33  # of those who had to show the app: not the exempt
    # Collected: the database's counts of this board replace those at start, and the live ones.
    both = {"allow": 4, "exempt": 1, "no-app": 1, "deny": 1, "exit": 2}
    board.counts_stored(PORT, today=both, new={"allow": 1, "exempt": 1, "no-app": 1, "deny": 1,
                                                "exit": 1})
    assert board.snapshot()["sites"] == [{"site": "Cổng sau", "inside": 2},
                                         {"site": "Tòa nhà A", "inside": 4}]
    board.event(PORT, {"n": 6, "verdict": "exit"})
    board.event(PORT, {"n": 7, "verdict": "exit"})
    assert board.snapshot()["sites"][1] == {"site": "Tòa nhà A", "inside": 2}
    clock.t += 86400
    board.refresh()
    assert board.snapshot()["sites"] == [{"site": "Tòa nhà A", "inside": 0}]
