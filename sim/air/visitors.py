"""Visitors who queue at a gate and react to it: the closed loop between the air and a board.

Who queues: every crowd visitor, and every scenario phone with path "enter" and a press
(bzsim.air.world). At each gate they are served one at a time in the order they join the queue:

  coming      walking up from out of range towards the scanner; it stops at the back of the
              queue instead when there is one (QUEUE_FIRST_M, QUEUE_STEP_M: bzsim.air.paths)
  queued      waiting its turn; when the scanner spot frees, everyone moves up one place (the
              next one walks the metre or so to the scanner, about a second)
  at-scanner  holding the phone 0.10-0.30 m from the scanner; one who presses reaches for the
              button after REACH_S (drawn), one who does not stands there dwell_s and walks in
  waiting     pressed (attempt 1 or 2); now it watches the gate's relay and red LED:
                the relay turns on (the door opens; in monitor mode with the red LED too)
                  -> walks in: outcome "entered"
                the red LED turns on and the relay stays off for DENY_SEEN_S (a DENY)
                  -> with "retry" and not retried yet: opens the app (OPEN_APP_S, drawn: unlock,
                     find it, open it; from then an Android phone advertises in foreground mode,
                     starting at once, and a background iPhone is a foreground one), reaches
                     for the button again: attempt 2
                  -> otherwise: walks back out, outcome "turned-away"
                no answer PATIENCE_S after a press -> walks back out, outcome "gave-up"
              The green LED is not a verdict (the gate may blink it while it checks): ignored.
  gone        walked in (2-5 m inside, a stay, then out of range) or back out; the scanner spot
              is free for the next one.

The gate's signals come from the board standing there (bzsim.board.process sends GATE_SIGNAL when its
relay or LED outputs change; Air.gate_signal injects them directly). Without a board nothing
answers and every presser gives up after PATIENCE_S.

Events (published through the air, with "t" added):
  {"event": "press", "gate", "phone", "platform", "app", "attempt"}   app at that press
  {"event": "visitor", "gate", "phone", "platform", "outcome", "attempts"}
A visitor who does not press has no outcome event. All draws come from the visitor's own seeded
stream (bzsim.air.devices.visit_rng), in the order its visit needs them.
"""

from bzsim.air.paths import WALK_M_PER_S, away_walk, in_front, inside_walk

REACH_S = (0.5, 1.5)  # from standing at the scanner to pressing its button
OPEN_APP_S = (3.0, 8.0)  # unlock the phone, find Bluezone, open it
PATIENCE_S = 20.0  # after a press without an answer, a visitor gives up
DENY_SEEN_S = 0.5  # the red LED with the door still shut this long: a visitor takes it as a no


def press_event(phone, t: float, attempt: int) -> dict:
    return {"event": "press", "gate": phone.gate, "phone": phone.name,
            "platform": phone.platform, "app": phone.app(t), "attempt": attempt}


class Visitor:
    """One queueing visitor: its phone (whose path it changes), where it stands, its state."""

    def __init__(self, phone, gate_xy, stance):
        self.phone = phone
        self.gate_xy = gate_xy
        self.stance = stance
        self.spec = phone.spec
        self.rng = phone.visit_rng
        self.reacts = phone.spec.press
        self.state = "coming"
        self.attempts = 0
        self.retried = False
        self.token = 0  # bumped by every change of plan: a timer set before it does nothing

    def slot_xy(self, slot: int):
        return in_front(self.gate_xy, self.stance.slot_m(slot))


class GateQueue:
    def __init__(self):
        self.members = []  # in order: members[0] is at (or stepping up to) the scanner
        self.coming = []
        self.signal = {"relay": 0, "red": 0, "green": 0}


class Visitors:
    def __init__(self, at, publish):
        self._at = at  # at(when, action(when)): a timer on the air's clock
        self._publish = publish  # publish(event, t)
        self.queues = {}

    def queue(self, gate: str) -> GateQueue:
        return self.queues.setdefault(gate, GateQueue())

    # ---- timers --------------------------------------------------------------------

    def _later(self, visitor, when, action):
        """action(visitor, when) at `when`, unless the visitor's plan has changed by then."""
        token = visitor.token
        self._at(when, lambda w: action(visitor, w) if visitor.token == token else None)

    @staticmethod
    def _replan(visitor):
        visitor.token += 1

    # ---- coming and queueing ---------------------------------------------------------

    def start(self, visitor, now: float) -> None:
        """A visitor's phone enters the air: it walks up from when it appears."""
        self.queue(visitor.phone.gate).coming.append(visitor)
        self._later(visitor, max(now, visitor.phone.path.appears), self._approach)

    def _approach(self, visitor, t):
        """Where the visitor joins the queue: the place behind the last one, which its walk to
        the scanner passes at a known time; checked again when the queue changes."""
        if visitor.state != "coming":
            return
        queue = self.queue(visitor.phone.gate)
        slot = len(queue.members)
        stance = visitor.stance
        reach = visitor.spec.arrive_s - (stance.slot_m(slot) - stance.scanner_m) / WALK_M_PER_S
        self._replan(visitor)
        if reach <= t + 1e-9:
            self._join(visitor, slot, t)
        else:
            self._later(visitor, reach, self._approach)

    def _join(self, visitor, slot, t):
        queue = self.queue(visitor.phone.gate)
        queue.coming.remove(visitor)
        queue.members.append(visitor)
        visitor.state = "queued"
        there = visitor.phone.path.walk_to(t, visitor.slot_xy(slot))
        if slot == 0:
            self._later(visitor, there, self._serve)
        self._recheck_coming(queue, t)

    def _recheck_coming(self, queue, t):
        for other in list(queue.coming):
            if other.phone.path.appears <= t:
                self._approach(other, t)

    # ---- at the scanner ------------------------------------------------------------------

    def _serve(self, visitor, t):
        visitor.state = "at-scanner"
        self._replan(visitor)
        if visitor.reacts:
            self._later(visitor, t + visitor.rng.uniform(*REACH_S), self._press)
        else:
            self._later(visitor, t + visitor.spec.dwell_s, self._walk_in)

    def _press(self, visitor, t):
        visitor.attempts += 1
        visitor.state = "waiting"
        self._replan(visitor)
        self._publish(press_event(visitor.phone, t, visitor.attempts), t)
        self._later(visitor, t + PATIENCE_S, lambda v, w: self._leave(v, w, "gave-up"))

    def signal(self, gate: str, levels: dict, t: float) -> None:
        """The board at `gate` shows relay/red/green levels (1: on) from t."""
        queue = self.queue(gate)
        before, queue.signal = queue.signal, dict(levels)
        head = queue.members[0] if queue.members else None
        if head is None or not head.reacts:
            return
        if levels["relay"] and not before["relay"]:
            self._walk_in(head, t)
        elif levels["red"] and not before["red"] and not levels["relay"] \
                and head.state == "waiting":
            self._later(head, t + DENY_SEEN_S, self._deny_seen)

    def _deny_seen(self, visitor, t):
        signal = self.queue(visitor.phone.gate).signal
        if signal["relay"] or not signal["red"] or visitor.state != "waiting":
            return
        if visitor.spec.retry and not visitor.retried:
            visitor.retried = True
            visitor.state = "opening"
            self._replan(visitor)
            self._later(visitor, t + visitor.rng.uniform(*OPEN_APP_S), self._app_opened)
        else:
            self._leave(visitor, t, "turned-away")

    def _app_opened(self, visitor, t):
        visitor.phone.open_app(t)
        visitor.state = "at-scanner"
        self._later(visitor, t + visitor.rng.uniform(*REACH_S), self._press)

    # ---- leaving ---------------------------------------------------------------------

    def _walk_in(self, visitor, t):
        path = visitor.phone.path
        path.change(t, inside_walk(visitor.gate_xy, visitor.stance, t, path.position(t)))
        self._gone(visitor, t, "entered")

    def _leave(self, visitor, t, outcome):
        path = visitor.phone.path
        path.change(t, away_walk(visitor.gate_xy, t, path.position(t)))
        self._gone(visitor, t, outcome)

    def _gone(self, visitor, t, outcome):
        visitor.state = "gone"
        self._replan(visitor)
        if visitor.reacts:
            self._publish({"event": "visitor", "gate": visitor.phone.gate,
                           "phone": visitor.phone.name, "platform": visitor.phone.platform,
                           "outcome": outcome, "attempts": visitor.attempts}, t)
        queue = self.queue(visitor.phone.gate)
        queue.members.remove(visitor)
        for slot, member in enumerate(queue.members):
            there = member.phone.path.walk_to(t, member.slot_xy(slot))
            if slot == 0:
                member.state = "stepping"
                self._replan(member)
                self._later(member, there, self._serve)
        self._recheck_coming(queue, t)
