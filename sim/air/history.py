"""What the simulated phones' Bluezone apps record: the IDs they hear, as the history file the
app uploads (docs/protocol.md §5.4).

A rolling-ID phone (android, ios, ios-background) that is in the air keeps one row per ID it
hears in an advert: another Android phone's, or a gate's checkpoint beacon (bzcore.beacon),
which is the same advert. IDs an iPhone only gives over a GATT read are not modelled. A row is

    <own ID at that time, hex>\\t<seen ID, hex>\\t<RSSI>\\t<timestamp>

with the timestamp in milliseconds on Android and in seconds on iOS (3.0.3). As the app's
database does not grow by the advert, a phone records a seen ID at most once a minute, and
keeps at most ROWS_KEPT rows (the oldest go first).
"""

import random
from collections import OrderedDict, deque

from bzcore import adv
from bzsim.air.devices import ADV_IND, ADV_NONCONN_IND, AndroidPhone, IosPhone
from bzsim.air.radio import distance, heard, rssi

RECORD_EVERY_S = 60.0
ROWS_KEPT = 5000


class History:
    """One phone's app database of contacts."""

    def __init__(self, phone, seed: int):
        self.phone = phone
        self.rows = deque(maxlen=ROWS_KEPT)
        # seen ID -> scenario time it was last recorded, oldest first: what a minute has passed
        # since is dropped from the front, so a flood of new IDs costs each record O(1)
        self.recent = OrderedDict()
        self.rng = random.Random(f"{seed}/hears/{phone.name}")  # not the phone's own: its
        # adverts' timing must not depend on what it hears
        self.millis = isinstance(phone, AndroidPhone)

    def due(self, ident: bytes, t: float) -> bool:
        last = self.recent.get(ident)
        return last is None or t - last >= RECORD_EVERY_S

    def record(self, ident: bytes, level: int, t: float, start: int) -> None:
        recent = self.recent
        while recent and t - next(iter(recent.values())) >= RECORD_EVERY_S:
            recent.popitem(last=False)
        recent[ident] = t
        recent.move_to_end(ident)
        moment = start + t
        stamp = int(moment * 1000) if self.millis else int(moment)
        self.rows.append((self.phone.id_at(t), ident, level, stamp))

    def text(self) -> str:
        return "".join(f"{own.hex().upper()}\t{seen.hex().upper()}\t{level}\t{stamp}\n"
                       for own, seen, level, stamp in list(self.rows))  # the air appends meanwhile


class Histories:
    """Every listening phone's history; the air calls heard() for each advert it sends."""

    def __init__(self, start: int, seed: int):
        self.start = start
        self.seed = seed
        self._by_name = {}

    def _of(self, phone) -> History:
        history = self._by_name.get(phone.name)
        if history is None:
            history = self._by_name[phone.name] = History(phone, self.seed)
        return history

    def heard(self, phones, device, advert, t: float, where, shadow: float) -> None:
        listeners = [p for p in phones if p is not device and _records(p) and p.path.present(t)]
        if not listeners or advert.adv_type not in (ADV_IND, ADV_NONCONN_IND):
            return
        found = adv.classify(advert.data)
        if found.kind != adv.KIND_ANDROID:
            return
        for phone in listeners:
            history = self._of(phone)
            if not history.due(found.id, t):
                continue
            level = rssi(device.power_1m, distance(where, phone.path.position(t)), shadow,
                         history.rng)
            if heard(level):
                history.record(found.id, level, t, self.start)

    def text(self, name: str) -> str:
        history = self._by_name.get(name)
        return history.text() if history else ""


def _records(phone) -> bool:
    """Phones whose app keeps a history of rolling IDs."""
    return isinstance(phone, (AndroidPhone, IosPhone)) and phone.spec.daily_key is not None
