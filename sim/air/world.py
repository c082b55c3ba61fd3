"""Who is in the air, and when: a scenario turned into devices, arrivals, noise and presses.

The world only decides; the air (bzsim.air.server) keeps the clock, carries adverts to receivers
and runs the connections. Everything random here comes from the scenario's seed, drawn in
time order, so a scenario plays out the same way every time.
"""

import dataclasses
import random

from bzsim.air.devices import PHONE_CLASSES, NoiseAdvert, noise_advert, quiet_office
from bzsim.air.paths import RANGE_M, Path, Stance, approach, walk
from bzsim.air.scenario import CROWD_SHARES, NOISE_RATES
from bzsim.air.scenario import Phone as PhoneSpec
from bzsim.air.visitors import Visitor

CROWD_DWELL_S = (2.0, 6.0)


class World:
    def __init__(self, scenario, now_unix: int, held=False):
        """held: the scenario's phones are made only by release()."""
        self.scenario = scenario
        self.seed = scenario.seed if scenario else 0
        self.start = scenario.start if scenario else now_unix
        self.phones = []
        self.fixtures = []
        if scenario is None:
            self.fixtures = quiet_office((0.0, 0.0), self.seed)
            return
        self.phones = [] if held else [self.make_phone(spec) for spec in scenario.phones]
        self._crowd_rng = random.Random(f"{self.seed}/crowd")
        self._crowd_count = 0
        self._last_arrival = 0.0
        self._crowd_until = float("inf")
        self._noise_rng = random.Random(f"{self.seed}/noise")

    def gate(self, name):
        """The gate a board called `name` stands at: its own, else the first; None without a
        scenario."""
        if self.scenario is None:
            return None
        return self.scenario.gate(name) or self.scenario.gates[0]

    def gate_position(self, name):
        """Where a board called `name` stands: its gate (see gate()), else the origin."""
        gate = self.gate(name)
        return (0.0, 0.0) if gate is None else (gate.x, gate.y)

    def make_phone(self, spec, queues=None):
        """The phone of a visitor. One who queues (by default: path enter with a press; every
        crowd visitor) gets an open-ended path and a Visitor (bzsim.air.visitors) that walks it
        through the queue; the others walk a fixed path (bzsim.air.paths.walk)."""
        if queues is None:
            queues = spec.path == "enter" and spec.press
        gate_xy = self.gate_position(spec.gate)
        phone = PHONE_CLASSES[spec.platform](spec, Path([(0.0, *gate_xy)]), self.start,
                                             self.seed, spec.gate)
        stance = Stance(phone.visit_rng)
        if queues and spec.path == "enter":
            phone.path = approach(gate_xy, stance, spec.arrive_s)
            phone.visitor = Visitor(phone, gate_xy, stance)
        else:
            phone.path = walk(spec.path, gate_xy, spec.arrive_s, spec.dwell_s, stance)
        return phone

    def release(self, t: float, crowd_s=None):
        """The visitors come from t (they were held back): the scenario's phones with their
        times counted from t, the crowd from t, for crowd_s seconds (None: without end)."""
        self.phones = [self.make_phone(dataclasses.replace(spec, arrive_s=spec.arrive_s + t))
                       for spec in self.scenario.phones] if self.scenario else []
        self._last_arrival = t
        self._crowd_until = float("inf") if crowd_s is None else t + crowd_s

    # ---- crowd ------------------------------------------------------------------------

    def next_crowd_phone(self):
        """The phone of the next crowd visitor (Poisson arrivals at the gate), or None."""
        crowd = self.scenario.crowd if self.scenario else None
        if crowd is None or crowd.per_minute <= 0:
            return None
        rng = self._crowd_rng
        arrive = self._last_arrival + rng.expovariate(crowd.per_minute / 60.0)
        if arrive > self._crowd_until:
            return None
        self._last_arrival = arrive
        share = rng.choices(CROWD_SHARES, [crowd.shares[p] for p in CROWD_SHARES])[0]
        platform = "android" if share == "android-open" else share
        self._crowd_count += 1
        press = rng.random() < crowd.press_share
        # Only drawn when some retry: crowds without retry_share play out as they did before.
        retry = crowd.retry_share > 0 and rng.random() < crowd.retry_share
        spec = PhoneSpec(
            name=f"crowd-{self._crowd_count}", platform=platform, gate=crowd.gate,
            daily_key=rng.randbytes(32) if platform != "other" else None,
            arrive_s=arrive, dwell_s=rng.uniform(*CROWD_DWELL_S), path="enter",
            press=press, app="open" if share == "android-open" else "background",
            retry=press and retry and platform != "other")
        phone = self.make_phone(spec, queues=True)
        self.phones.append(phone)
        return phone

    # ---- noise ------------------------------------------------------------------------

    def noise_rates(self):
        noise = self.scenario.noise if self.scenario else None
        if noise is None:
            return {}
        return {k: getattr(noise, k) for k in NOISE_RATES if getattr(noise, k) > 0}

    def next_noise(self, kind: str, after: float):
        """(time, one-shot device) of the next noise advert of a kind; None when there is no
        more (past the random IDs' window)."""
        rng = self._noise_rng
        window = self.scenario.noise.random_bluezone_ids_window \
            if kind == "random_bluezone_ids_per_s" else None
        if window is not None:
            after = max(after, window[0])
        t = after + rng.expovariate(self.noise_rates()[kind])
        if window is not None and t >= window[1]:
            return None
        gx, gy = self.gate_position("")
        xy = (gx + rng.uniform(-RANGE_M, RANGE_M), gy + rng.uniform(-RANGE_M, RANGE_M))
        return t, NoiseAdvert(f"noise-{kind}", xy, noise_advert(kind, rng), rng)
