"""The gate's decisions: a trigger plus who is at the scanner gives ALLOW, DENY or NO_APP;
a guard's word gives EXEMPT, and a person leaving EXIT.

The rule (enforce mode): a trigger is ALLOW at once when a Bluezone phone is near now (heard at
or above near_rssi within presence.NEAR_NOW_MS) and has not opened the gate within
antipassback_s: the strongest such phone decides. Otherwise the gate is "checking": the green
LED blinks and it keeps listening up to wait_s, since a phone running Bluezone may be silent
for a while (an Android app in the background advertises 15 s of every 30; in the foreground
it pauses 5 s a minute: docs/protocol.md §2.7). It ALLOWs the moment such a phone comes to the
scanner and DENYs only when wait_s is over. An unread iPhone counts by its address unless
require_id.

Anti-passback follows the device: the presence entry that opened the gate keeps the mark when
an iPhone's read turns its address into an ID, and the ID keeps it in `opened` when the phone
comes back under a new address or a new entry. One phone never admits two people.

Presses (or beam breaks) while a decision is under way, or within _MERGE_MS of the one that
started it (a bouncing button, a visitor pressing twice), join that decision: its record counts
them (`presses`) and STATUS counts the extras (`presses_merged`). None is lost unseen.

EXEMPT lets in a person without a smartphone at once, phone or no phone: the guard's key switch
(guard_press(), reason no-smartphone) or the host link's EXEMPT request (exempt(), any reason of
record.REASON_CODES). An EXEMPT while the gate is checking a press answers that press: the check
ends, no DENY follows, and the record counts that press's presses. EXIT is a person leaving
(config "direction": "out", every button press or beam break; "both", the exit_button):
exit_press() opens the door at once, never refused; an exit neither meets anti-passback nor
counts as a phone's admission. EXEMPT and EXIT name no phone. Both are made by run_at_once(),
a task of their own, so that neither waits behind a press that is checking; presses of the
guard or exit input within _MERGE_MS join the one they follow, as on the button.

Modes (config "mode"):
    enforce  as above; ALLOW, EXEMPT and EXIT pulse the relay; DENY leaves it off.
    monitor  the same rule, NO_APP in place of DENY; the relay opens either way.
    count    no decisions (no EXEMPT, no EXIT); count_minutes() writes a COUNT record each
             minute.
Triggers (config "trigger"): button and beam are pin edges (pin IRQ -> press()); tap makes a
Bluezone device entering the near zone the trigger itself (presence.on_near -> tap()), and
does not wait; none takes no decisions.

press(), tap(), guard_press() and exit_press() only note the trigger's time and set a
ThreadSafeFlag; the run() and run_at_once() tasks decide. latency_ms in each DECISION record runs from the trigger to the verdict showing.
"""

import time

import asyncio
from micropython import const

from bzcore import record

_OPENED_MAX = const(32)  # anti-passback entries kept by ID
_COUNT_PERIOD_MS = const(60000)
_MERGE_MS = const(300)  # presses this soon after the one that started a decision join it
_HEALTH_MS = const(1000)


class _AtOnce:
    """An input whose press is decided without a phone (the guard's, the exit's): its press
    under way, noted by the pin IRQ, with the presses that joined it."""

    def __init__(self, flag):
        self.flag = flag
        self.trigger = 0  # trigger code of the press under way
        self.at_ms = time.ticks_add(time.ticks_ms(), -_MERGE_MS)
        self.extra = 0

    def press(self, trigger):
        now = time.ticks_ms()
        if self.trigger or time.ticks_diff(now, self.at_ms) < _MERGE_MS:
            self.extra += 1
            return
        self.at_ms = now
        self.extra = 0
        self.trigger = trigger
        self.flag.set()


class Policy:
    def __init__(self, cfg, presence, outputs, log, publish):
        self.presence = presence
        self.outputs = outputs
        self.log = log  # (record tuple) -> the record's journal seq, or None
        self.publish = publish  # (dict) -> None: live events for the host link
        self.configure(cfg)
        self.flag = asyncio.ThreadSafeFlag()
        self.at_once = asyncio.ThreadSafeFlag()
        self._guard = _AtOnce(self.at_once)
        self._exit = _AtOnce(self.at_once)
        self._answered = False  # an EXEMPT answered the press being checked
        self.opened = {}  # ID -> ticks_ms it last opened the gate
        self._pending = 0  # trigger code of the decision under way
        self._at_ms = time.ticks_add(time.ticks_ms(), -_MERGE_MS)
        self._tap_entry = -1
        self._extra = 0  # presses that joined the decision under way
        self.checking = False
        self.decisions = 0
        self.presses_merged = 0
        self.latency_max_ms = 0
        self.last = None  # the last decision, as published
        presence.on_strong = self._phone_arrived

    def configure(self, cfg):
        self.mode = {"enforce": record.ENFORCE, "monitor": record.MONITOR}.get(
            cfg["mode"], record.COUNTING)
        self.present_ms = cfg["present_s"] * 1000
        self.wait_ms = cfg["wait_s"] * 1000
        self.antipassback_ms = cfg["antipassback_s"] * 1000
        self.pulse_ms = cfg["relay_pulse_ms"]
        self.require_id = cfg["require_id"]

    # ---- triggers (pin IRQ and presence callbacks) ---------------------------------------

    def press(self, trigger):
        """A button press or beam break (called from the pin IRQ)."""
        now = time.ticks_ms()
        if self._pending or time.ticks_diff(now, self._at_ms) < _MERGE_MS:
            self._extra += 1  # joins the decision under way (or just made)
            return
        self._arm(trigger, now, -1)

    def guard_press(self):
        """The guard's key switch (called from the pin IRQ): EXEMPT no-smartphone."""
        self._guard.press(record.GUARD)

    def exit_press(self, trigger):
        """A press or beam break that is an exit (called from the pin IRQ)."""
        self._exit.press(trigger)

    def tap(self, entry):
        """A Bluezone device entered the near zone (only in tap mode)."""
        if not self._pending:
            self._arm(record.TAP, time.ticks_ms(), entry)

    def _arm(self, trigger, now, entry):
        self._at_ms = now
        self._tap_entry = entry
        self._extra = 0
        self._pending = trigger
        self.flag.set()

    def _phone_arrived(self, entry):
        if self.checking:
            self.flag.set()

    # ---- deciding ------------------------------------------------------------------------

    def _blocked(self, i, now):
        """True when the device at entry i opened the gate within antipassback_s."""
        p = self.presence
        if p.admitted_within(i, now, self.antipassback_ms):
            return True
        ident = p.id_of(i)
        opened = self.opened.get(ident) if ident is not None else None
        return opened is not None and time.ticks_diff(now, opened) < self.antipassback_ms

    def _chosen(self, now):
        """The entry of the phone that may pass now, or -1."""
        p = self.presence
        entries = p.at_scanner(now)
        if self._tap_entry >= 0:
            entries.insert(0, self._tap_entry)  # the phone that tapped comes first
        for i in entries:
            if self.require_id and not p.has_id[i]:
                continue
            if not self._blocked(i, now):
                return i
        return -1

    def _admit(self, i, now):
        p = self.presence
        p.admit(i, now)
        ident = p.id_of(i)
        if ident is not None:
            self._remember(ident, now)

    def _remember(self, ident, at):
        if ident not in self.opened and len(self.opened) >= _OPENED_MAX:
            del self.opened[next(iter(self.opened))]  # the oldest: dicts keep order
        self.opened[ident] = at

    def _learn_admitted_ids(self, now):
        """An iPhone admitted by address and read since: its ID keeps the mark (it may come
        back under another address)."""
        for ident, at in self.presence.admitted_ids(now, self.antipassback_ms):
            if self.opened.get(ident) != at:
                self._remember(ident, at)

    async def _wait_for_phone(self, trigger, healthy):
        """Checking: the entry of a phone that came to the scanner within wait_ms, or -1."""
        self.checking = True
        self.outputs.show_checking()
        self.publish({"checking": {"n": self.decisions + 1, "trigger": record.TRIGGER_NAMES[trigger],
                                   "wait_ms": self.wait_ms}})
        try:
            while True:
                now = time.ticks_ms()
                left = self.wait_ms - time.ticks_diff(now, self._at_ms)
                if left <= 0:
                    return -1
                await _woken(self.flag, min(left, _HEALTH_MS))
                healthy()
                if self._answered:
                    return -1
                i = self._chosen(time.ticks_ms())
                if i >= 0:
                    return i
        finally:
            self.checking = False

    async def decide(self, trigger, healthy):
        """One decision for the trigger armed at self._at_ms; returns its verdict."""
        self._learn_admitted_ids(time.ticks_ms())
        i = self._chosen(time.ticks_ms())
        if i < 0 and trigger != record.TAP and self.wait_ms:
            i = await self._wait_for_phone(trigger, healthy)
            if self._answered:  # an EXEMPT was this press's answer, and has its record
                self._answered = False
                return record.EXEMPT
        now = time.ticks_ms()
        p = self.presence
        if i >= 0:
            verdict = record.ALLOW
            self.outputs.show_allow(self.pulse_ms)
            self._admit(i, now)
        elif self.mode == record.MONITOR:
            verdict = record.NO_APP
            self.outputs.show_no_app(self.pulse_ms)
        else:
            verdict = record.DENY
            self.outputs.show_deny()
        latency = time.ticks_diff(time.ticks_ms(), self._at_ms)
        ident = p.id_of(i) if i >= 0 else None
        rssi = p.rssi(i) if i >= 0 else None
        platform = p.platform[i] if i >= 0 else record.PLATFORM_UNKNOWN
        address = p.address_of(i) if i >= 0 and ident is None else None
        await _merge_wait(self._at_ms)
        self.presses_merged += self._extra
        self._record(verdict, trigger, latency, 1 + self._extra, ident, rssi, platform, address)
        return verdict

    def _record(self, verdict, trigger, latency, presses, ident=None, rssi=None,
                platform=record.PLATFORM_UNKNOWN, address=None, reason=record.REASON_NONE):
        """Journal a decision and publish it live; its journal seq (None: not written)."""
        seq = self.log(record.decision(verdict, trigger, self.mode, ident, rssi, platform,
                                       latency, presses, reason))
        self.decisions += 1
        if latency > self.latency_max_ms:
            self.latency_max_ms = latency
        self.last = {"n": self.decisions, "verdict": record.VERDICT_NAMES[verdict],
                     "trigger": record.TRIGGER_NAMES[trigger],
                     "id": None if ident is None else ident.hex(), "rssi": rssi,
                     "platform": record.PLATFORM_NAMES[platform], "latency_ms": latency,
                     "presses": presses}
        if address is not None:  # an unread iPhone: which phone it was, for the guard's log
            self.last["addr"] = address.hex()
        if verdict == record.EXEMPT:
            self.last["reason"] = record.REASON_NAMES[reason]
        self.publish(self.last)
        return seq

    # ---- decisions without a phone: EXEMPT and EXIT --------------------------------------

    def _end_check(self):
        """The presses an EXEMPT answers: those of the press being checked (whose check ends
        here), or none (0)."""
        if not self.checking:
            return 0
        self._answered = True
        self.flag.set()
        return 1 + self._extra

    def exempt(self, reason):
        """An EXEMPT requested over the host link, shown and journalled now: its journal seq."""
        at = time.ticks_ms()
        presses = self._end_check() or 1
        self.outputs.show_exempt(self.pulse_ms)
        return self._record(record.EXEMPT, record.HOST, time.ticks_diff(time.ticks_ms(), at),
                            presses, reason=reason)

    async def _answer(self, pressed, verdict):
        """The guard's or the exit's press under way: shown at once, journalled when its
        presses are in."""
        answered = 0
        if verdict == record.EXEMPT:
            answered = self._end_check()
            self.outputs.show_exempt(self.pulse_ms)
        else:
            self.outputs.show_exit(self.pulse_ms)
        latency = time.ticks_diff(time.ticks_ms(), pressed.at_ms)
        await _merge_wait(pressed.at_ms)
        self.presses_merged += pressed.extra
        reason = record.NO_SMARTPHONE if verdict == record.EXEMPT else record.REASON_NONE
        self._record(verdict, pressed.trigger, latency, answered or 1 + pressed.extra,
                     reason=reason)
        pressed.trigger = 0

    async def run_at_once(self, healthy):
        """The task that answers the guard's and the exit's presses."""
        while True:
            await _woken(self.at_once, _HEALTH_MS)
            healthy()
            if self._guard.trigger:
                await self._answer(self._guard, record.EXEMPT)
            if self._exit.trigger:
                await self._answer(self._exit, record.EXIT)

    async def run(self, healthy):
        while True:
            await _woken(self.flag, _HEALTH_MS)
            healthy()
            trigger = self._pending
            if trigger:
                if self.mode != record.COUNTING:
                    await self.decide(trigger, healthy)
                self._pending = 0

    # ---- count mode ----------------------------------------------------------------------

    async def count_minutes(self, radio, healthy, period_ms=_COUNT_PERIOD_MS):
        """COUNT records each minute: devices near and present, adverts heard, drops."""
        adverts = radio.adverts
        drops = radio.ring.drops
        waited = 0
        while True:
            await asyncio.sleep_ms(_HEALTH_MS)
            healthy()
            waited += _HEALTH_MS
            if waited < period_ms:
                continue
            waited = 0
            near, present = self.presence.counts(time.ticks_ms(), self.present_ms)
            self.log(record.count(near, present, radio.adverts - adverts, radio.ring.drops - drops))
            adverts = radio.adverts
            drops = radio.ring.drops


async def _woken(flag, ms):
    """Until the flag is set or ms have passed, whichever comes first (a task that waits for
    work still reports healthy in between)."""
    try:
        await asyncio.wait_for_ms(flag.wait(), ms)
    except asyncio.TimeoutError:
        pass


async def _merge_wait(at_ms):
    """Until _MERGE_MS after a press: a bounce or a second press joins its record."""
    left = _MERGE_MS - time.ticks_diff(time.ticks_ms(), at_ms)
    if left > 0:
        await asyncio.sleep_ms(left)
