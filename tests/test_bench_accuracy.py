"""bench/accuracy.py's reading of a morning: which decision answered which press, and the table
of own-phone admissions, wrong-phone admissions, denials, lost presses and retries. Wrong here,
its figures would mean nothing."""

import accuracy


def press(t, phone, platform="android", app="open", attempt=1):
    return {"t": t, "phone": phone, "platform": platform, "app": app, "attempt": attempt}


def decision(t, verdict, latency_ms, owner=None):
    return {"t": t, "verdict": verdict, "latency_ms": latency_ms, "presses": 1, "owner": owner}


MORNING = {"rule": "today", "seed": 1, "presses": [
    press(10.0, "an"),                                    # allowed on her phone at once
    press(20.0, "bo", app="background"),                  # denied: the app slept...
    press(32.0, "bo", app="open", attempt=2),             # ...opened it, in
    press(40.0, "cu", platform="other", app="none"),      # no app: its press is lost
    press(43.0, "di", platform="ios-background", app="background"),  # in on "an"'s phone
], "decisions": [
    decision(10.3, "allow", 8, owner="an"),
    decision(25.3, "deny", 5005),
    decision(32.3, "allow", 6, owner="bo"),
    decision(43.4, "allow", 9, owner="an"),
]}


def test_each_decision_answers_the_latest_press_waiting_at_its_trigger():
    rows = accuracy.outcomes(MORNING)
    assert [(r["phone"], r["attempt"], r["verdict"], r["own"]) for r in rows] == [
        ("an", 1, "allow", True), ("bo", 1, "deny", False), ("bo", 2, "allow", True),
        ("cu", 1, None, False), ("di", 1, "allow", False)]
    assert rows[1]["group"] == "android background" and rows[2]["group"] == "android open"
    assert rows[4]["group"] == "ios background" and rows[3]["group"] == "no app"


def test_the_table_counts_first_presses_by_group_and_retries_by_visitor():
    f = accuracy.figures(accuracy.outcomes(MORNING))
    assert f["android open"] == {"n": 1, "own": 1, "other": 0, "denied": 0, "lost": 0,
                                 "in_after_retry": 1, "p50": 8, "p95": 8}
    background = f["android background"]
    assert (background["own"], background["denied"], background["in_after_retry"]) == (0, 1, 1)
    assert f["no app"]["lost"] == 1 and f["ios background"]["other"] == 1
    assert f["all"] == {"visitors": 4, "presses": 5, "lost": 1, "p50": 9, "p95": 5005}


def test_the_targets_fail_on_a_wrong_phone_or_a_lost_press():
    met = dict(accuracy.targets(accuracy.figures(accuracy.outcomes(MORNING)), 5))
    assert not met["app open, or any iPhone: own-phone ALLOW at the first press >= 99 %"]
    assert not met["presses lost = 0"]
    assert met["Android in the background: in on its own phone after one retry >= 99 %"]


def test_a_press_the_run_ended_on_is_left_out_an_earlier_unanswered_one_is_lost():
    morning = {**MORNING, "listened_until": 70.0}
    morning["presses"] = MORNING["presses"] + [press(60.0, "em", platform="other", app="none")]
    rows = accuracy.outcomes(morning)
    assert "em" not in {r["phone"] for r in rows}, "20 s before the end: no time to answer"
    assert [r["phone"] for r in rows if r["verdict"] is None] == ["cu"]


class _Phone:
    """A phone of the air as owner() reads it: no ID (an unread iPhone), an address that
    changes at `rotates_at`."""

    def __init__(self, name, before, after, rotates_at):
        self.name, self._before, self._after, self._at = name, before, after, rotates_at

    def id_at(self, t):
        return None

    def address(self, t):
        return 1, self._before if t < self._at else self._after


class _Air:
    def __init__(self, phones):
        self.world = type("World", (), {"phones": phones})()


def test_an_address_decision_is_the_phone_s_that_drew_a_new_address_just_before_the_verdict():
    air = _Air([_Phone("ios", b"\x41" * 6, b"\x42" * 6, rotates_at=42.72),
                _Phone("other", b"\x51" * 6, b"\x52" * 6, rotates_at=1000.0)])
    assert accuracy.owner(air, {"addr": "41" * 6}, 43.10).name == "ios"  # heard just before
    assert accuracy.owner(air, {"addr": "42" * 6}, 43.10).name == "ios"
    assert accuracy.owner(air, {"addr": "51" * 6}, 43.10).name == "other"
    assert accuracy.owner(air, {"addr": "61" * 6}, 43.10) is None  # nobody's: a wrong-phone admit
    assert accuracy.owner(air, {"addr": "41" * 6}, 42.72 + accuracy.ADDRESS_HELD_S + 1) is None
