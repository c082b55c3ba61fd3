"""The gate's own adverts: its status beacon, and its checkpoint beacon when configured.

    beacon = Beacon(app, secret.load_checkpoint())   # app: radio, config, alarms, journal
    task: beacon.run(healthy)                         STATUS: beacon.stats()

ESP32's port has one advertising set: gap_advertise replaces its data. The radio advertises
(non-connectable) every _INTERVAL_US, and every _SWITCH_MS this task gives it new data: the
status beacon (bzcore.beacon) with the live counts, or, with `checkpoint_beacon` on, the status
and the checkpoint advert in turn. So the status is on air for at least two events a second,
and the checkpoint ID for two more: Bluezone phones scan in low-latency mode and hear one of
them, and the cost stays 4 events a second (about 1.2 % of the receiver's time, which the
radio counts against the scan share in STATUS).

The checkpoint advert is the gate's rolling Bluezone ID, exactly as an Android phone sends it,
from the base key K0 provisioning put in NVS; the ID rolls at each 15-minute slot end. Without
a key, or without a valid clock (the slot would be a guess), no ID is sent, and STATUS says why
in `beacon.checkpoint`: off | no-key | no-clock | before-key | on.

Today's counts are the decisions published since 00:00 UTC (since boot while the clock is not
valid); they start at zero on every boot.
"""

import asyncio
from micropython import const

from bzcore import beacon, ids
from gate import clock

_INTERVAL_US = const(250000)
_SWITCH_MS = const(500)
_STORAGE_EVERY = const(20)  # switches between two looks at the journal's flash (10 s)
_STORAGE_HIGH_PERMILLE = const(800)  # as the monitor's STORAGE_HIGH

_CHECKPOINT_OFF = const("off")
_CHECKPOINT_NO_KEY = const("no-key")
_CHECKPOINT_NO_CLOCK = const("no-clock")
_CHECKPOINT_BEFORE_KEY = const("before-key")
_CHECKPOINT_ON = const("on")


def storage_alarms(stats):
    """storage-full or storage-high from the journal's STATUS counters."""
    if stats["storage_full"]:
        return ["storage-full"]
    used, free = stats["bytes"], stats["free_bytes"]
    if free >= 0 and used + free > 0 and used * 1000 >= _STORAGE_HIGH_PERMILLE * (used + free):
        return ["storage-high"]
    return []


class Beacon:
    def __init__(self, app, checkpoint_key):
        """checkpoint_key: (K0, its UTC midnight) or None."""
        self.app = app
        self.events = app.subscribe_events()
        self.counts = {"allow": 0, "deny": 0, "no-app": 0}
        self._day = -1
        self.key = checkpoint_key
        self.checkpoint = _CHECKPOINT_OFF
        self._slot = (0, 0)  # the slot the checkpoint advert is for: [from, until)
        self._checkpoint_advert = None
        self._storage = []
        self.sent = 0
        self.refused = 0  # data the stack did not take (BLE off during a reset)

    def _count(self, t, valid):
        day = ids.day_start(t) if valid else -1
        if day != self._day and valid:
            if self._day >= 0:  # a new UTC day; a clock just set keeps the counts since boot
                for name in self.counts:
                    self.counts[name] = 0
            self._day = day
        items = self.events.items
        while items:
            verdict = items.pop(0).get("verdict")
            if verdict in self.counts:
                self.counts[verdict] += 1

    def alarms(self, valid):
        app = self.app
        out = list(app.alarms) + self._storage
        if not valid:
            out.append("clock-invalid")
        if app.radio.resets:
            out.append("scanner-stalled")
        return out

    def status_advert(self, t, valid):
        cfg = self.app.config
        return beacon.status_advert(cfg["gate_id"], cfg["mode"], self.alarms(valid), self.counts,
                                    valid, self.checkpoint == _CHECKPOINT_ON)

    def checkpoint_advert(self, t, valid):
        """The checkpoint advert for time t, or None (self.checkpoint says why)."""
        if not self.app.config["checkpoint_beacon"]:
            self.checkpoint = _CHECKPOINT_OFF
        elif self.key is None:
            self.checkpoint = _CHECKPOINT_NO_KEY
        elif not valid:
            self.checkpoint = _CHECKPOINT_NO_CLOCK
        elif t < self.key[1]:
            self.checkpoint = _CHECKPOINT_BEFORE_KEY
        else:
            if self._checkpoint_advert is None or not self._slot[0] <= t < self._slot[1]:
                ident = beacon.checkpoint_id(self.key[0], self.key[1], t)
                self._checkpoint_advert = beacon.checkpoint_advert(ident)
                self._slot = ids.slot_window(t, beacon.CHECKPOINT_MAX_IDS)
            self.checkpoint = _CHECKPOINT_ON
            return self._checkpoint_advert
        self._checkpoint_advert = None
        return None

    async def run(self, healthy):
        turn = 0
        while True:
            healthy()
            t, valid = clock.now()
            self._count(t, valid)
            if turn % _STORAGE_EVERY == 0:
                self._storage = storage_alarms(self.app.journal.stats())
            data = self.checkpoint_advert(t, valid) if turn % 2 else None
            if data is None:
                data = self.status_advert(t, valid)
            if self.app.radio.advertise(_INTERVAL_US, data):
                self.sent += 1
            else:
                self.refused += 1
            turn += 1
            await asyncio.sleep_ms(_SWITCH_MS)

    def stats(self):
        return {"beacon": {"sent": self.sent, "refused": self.refused,
                           "interval_ms": _INTERVAL_US // 1000, "checkpoint": self.checkpoint,
                           "today": self.counts}}
