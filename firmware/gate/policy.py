"""The gate's decisions: a trigger plus who is near gives ALLOW, DENY or NO_APP.

Modes (config "mode"):
    enforce  a trigger is ALLOW when a Bluezone device was near within present_s and its ID
             (an unread iPhone: its address, unless require_id) has not opened the gate within
             antipassback_s; else DENY. ALLOW pulses the relay; DENY leaves it off.
    monitor  the same decision, NO_APP in place of DENY; the relay opens either way.
    count    no decisions; count_minutes() writes a COUNT record each minute.
Triggers (config "trigger"): button and beam are pin edges (pin IRQ -> press()); tap makes a
Bluezone device entering the near zone the trigger itself (presence.on_near -> tap()); none
takes no decisions.

press() and tap() only note the trigger's time and set a ThreadSafeFlag; the run() task
decides. latency_ms in each DECISION record runs from the trigger to the outputs being set.
"""

import time

import asyncio
from micropython import const

from bzcore import record

_OPENED_MAX = const(32)  # anti-passback entries kept
COUNT_PERIOD_MS = const(60000)
_DEBOUNCE_MS = const(300)
_HEALTH_MS = const(1000)


class Policy:
    def __init__(self, cfg, presence, outputs, log, publish):
        self.presence = presence
        self.outputs = outputs
        self.log = log  # (record tuple) -> None
        self.publish = publish  # (dict) -> None: live events for the host link
        self.configure(cfg)
        self.flag = asyncio.ThreadSafeFlag()
        self.opened = {}  # key -> ticks_ms it last opened the gate
        self._pending = 0  # trigger code waiting for a decision
        self._at_ms = 0
        self._tap_entry = -1
        self._last_press = time.ticks_add(time.ticks_ms(), -_DEBOUNCE_MS)
        self.decisions = 0
        self.latency_max_ms = 0
        self.last = None  # the last decision, as published

    def configure(self, cfg):
        self.mode = {"enforce": record.ENFORCE, "monitor": record.MONITOR}.get(
            cfg["mode"], record.COUNTING)
        self.present_ms = cfg["present_s"] * 1000
        self.antipassback_ms = cfg["antipassback_s"] * 1000
        self.pulse_ms = cfg["relay_pulse_ms"]
        self.require_id = cfg["require_id"]

    # ---- triggers (pin IRQ and presence callbacks) ---------------------------------------

    def press(self, trigger):
        """A button press or beam break (called from the pin IRQ)."""
        now = time.ticks_ms()
        if time.ticks_diff(now, self._last_press) < _DEBOUNCE_MS or self._pending:
            return
        self._last_press = now
        self._arm(trigger, now, -1)

    def tap(self, entry):
        """A Bluezone device entered the near zone (only in tap mode)."""
        if not self._pending:
            self._arm(record.TAP, time.ticks_ms(), entry)

    def _arm(self, trigger, now, entry):
        self._at_ms = now
        self._tap_entry = entry
        self._pending = trigger
        self.flag.set()

    # ---- deciding ------------------------------------------------------------------------

    def _chosen(self, now):
        """(entry, key) of the device that may pass, or (-1, None)."""
        p = self.presence
        entries = [self._tap_entry] if self._tap_entry >= 0 else p.candidates(now, self.present_ms)
        for i in entries:
            if self.require_id and not p.has_id[i]:
                continue
            key = p.id_of(i) or p.key_of(i)
            opened = self.opened.get(key)
            if opened is not None and time.ticks_diff(now, opened) < self.antipassback_ms:
                continue
            return i, key
        return -1, None

    def decide(self, trigger, at_ms):
        now = time.ticks_ms()
        i, key = self._chosen(now)
        p = self.presence
        if i >= 0:
            verdict = record.ALLOW
            self.outputs.show_allow(self.pulse_ms)
            if len(self.opened) >= _OPENED_MAX:
                del self.opened[next(iter(self.opened))]  # the oldest: dicts keep order
            self.opened[key] = now
        elif self.mode == record.MONITOR:
            verdict = record.NO_APP
            self.outputs.show_no_app(self.pulse_ms)
        else:
            verdict = record.DENY
            self.outputs.show_deny()
        latency = time.ticks_diff(time.ticks_ms(), at_ms)
        ident = p.id_of(i) if i >= 0 else None
        rssi = p.rssi(i) if i >= 0 else 0
        platform = p.platform[i] if i >= 0 else record.PLATFORM_UNKNOWN
        self.log(record.decision(verdict, trigger, self.mode, ident, rssi, platform, latency))
        self.decisions += 1
        if latency > self.latency_max_ms:
            self.latency_max_ms = latency
        self.last = {"n": self.decisions, "verdict": record.VERDICT_NAMES[verdict],
                     "trigger": record.TRIGGER_NAMES[trigger],
                     "id": None if ident is None else ident.hex(), "rssi": rssi,
                     "platform": record.PLATFORM_NAMES[platform], "latency_ms": latency}
        self.publish(self.last)
        return verdict

    async def run(self, healthy):
        while True:
            try:
                await asyncio.wait_for_ms(self.flag.wait(), _HEALTH_MS)
            except asyncio.TimeoutError:
                pass
            healthy()
            trigger = self._pending
            if trigger:
                if self.mode != record.COUNTING:
                    self.decide(trigger, self._at_ms)
                self._pending = 0

    # ---- count mode ----------------------------------------------------------------------

    async def count_minutes(self, radio, healthy, period_ms=COUNT_PERIOD_MS):
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
