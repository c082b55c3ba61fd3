"""Where a visitor is: piecewise-linear walks relative to a gate, in metres and seconds.

The gate (its scanner) stands at (x, y); visitors come from outside (smaller y) along the line
x = gate x, and go in on the other side (larger y). Times are seconds from the scenario start;
arrive_s is when the visitor reaches the scanner (or, for a pass-by, its closest point to it).

Where visitors stand (each draws its own figures from its own seeded stream, bzsim.air.devices
visit_rng; see Stance):
  at the scanner   the phone held 0.10-0.30 m from it
  in the queue     the first one waiting 1.0-1.5 m from the scanner, each further one
                   QUEUE_STEP_M further back
  inside           2-5 m past the gate (and up to 1.5 m aside), standing there 5-20 s (waiting
                   for the lift), then walking on out of range
  passing by       2-4 m from the gate
  lingering        LINGER_M from it
A visitor in the queue has an open-ended path (bzsim.air.visitors changes it as it goes); it
ends, and the phone leaves the air, when the visitor has walked out of range.
"""

WALK_M_PER_S = 1.2
RANGE_M = 15.0  # where a walk starts and ends: about the edge of what a gate hears
SCANNER_M = (0.10, 0.30)  # a visitor at the gate holds the phone this far from the scanner
QUEUE_FIRST_M = (1.0, 1.5)  # the next one in the queue waits this far from the scanner
QUEUE_STEP_M = 0.8  # each further one this much further back
INSIDE_M = (2.0, 5.0)  # past the gate, where a visitor who went in stands a while
INSIDE_ASIDE_M = 1.5
INSIDE_STAY_S = (5.0, 20.0)
PASS_BY_M = (2.0, 4.0)
LINGER_M = 3.0
LINGER_ASIDE_M = 0.3  # beside the queue's line
AWAY_ASIDE_M = 0.8  # a visitor who turns away walks out beside the queue
FOREVER = float("inf")


class Path:
    """A walk through timed waypoints; the visitor is present from the first to the last.
    The last waypoint may be at FOREVER: the visitor stays until the path is changed."""

    def __init__(self, waypoints):
        self.points = list(waypoints)  # [(t, x, y)], t ascending

    @property
    def appears(self) -> float:
        return self.points[0][0]

    @property
    def leaves(self) -> float:
        return self.points[-1][0]

    def present(self, t: float) -> bool:
        return self.appears <= t <= self.leaves

    def position(self, t: float):
        pts = self.points
        if t <= pts[0][0]:
            return pts[0][1:]
        for (t0, x0, y0), (t1, x1, y1) in zip(pts, pts[1:]):
            if t <= t1:
                if (x0, y0) == (x1, y1):  # standing still (maybe forever: no 0/0 or inf/inf)
                    return x0, y0
                f = (t - t0) / (t1 - t0) if t1 > t0 else 1.0
                return x0 + f * (x1 - x0), y0 + f * (y1 - y0)
        return pts[-1][1:]

    def change(self, t: float, points) -> None:
        """From t on, walk on from where the visitor is through `points` [(t, x, y)], times
        after t: what was planned after t is dropped."""
        here = (t, *self.position(t))
        self.points = [p for p in self.points if p[0] < t] + [here] + list(points)

    def walk_to(self, t: float, xy, then_stay: float = FOREVER) -> float:
        """Walk from where the visitor is at t straight to xy, and stand there until then_stay
        (FOREVER: until the next change); the time it gets there."""
        x, y = self.position(t)
        arrive = t + _dist((x, y), xy) / WALK_M_PER_S
        self.change(t, [(arrive, *xy), (max(arrive, then_stay), *xy)])
        return arrive


def _dist(a, b) -> float:
    return ((a[0] - b[0]) ** 2 + (a[1] - b[1]) ** 2) ** 0.5


class Stance:
    """Where one visitor stands at a gate, drawn once from its own stream."""

    def __init__(self, rng):
        self.scanner_m = rng.uniform(*SCANNER_M)
        self.queue_m = rng.uniform(*QUEUE_FIRST_M)
        self.inside_m = rng.uniform(*INSIDE_M)
        self.inside_aside_m = rng.uniform(-INSIDE_ASIDE_M, INSIDE_ASIDE_M)
        self.inside_stay_s = rng.uniform(*INSIDE_STAY_S)
        self.pass_by_m = rng.uniform(*PASS_BY_M)

    def slot_m(self, slot: int) -> float:
        """How far from the scanner this visitor stands in place `slot` (0: at the scanner)."""
        return self.scanner_m if slot == 0 else self.queue_m + QUEUE_STEP_M * (slot - 1)


def outside(gate_xy):
    return gate_xy[0], gate_xy[1] - RANGE_M


def in_front(gate_xy, metres):
    """The point `metres` in front of the scanner on the visitors' side."""
    return gate_xy[0], gate_xy[1] - metres


def inside_walk(gate_xy, stance, t: float, start_xy):
    """Waypoints from start_xy at t: through the gate to the inside spot, a stay, then on out of
    range."""
    gx, gy = gate_xy
    spot = (gx + stance.inside_aside_m, gy + stance.inside_m)
    there = t + _dist(start_xy, spot) / WALK_M_PER_S
    stayed = there + stance.inside_stay_s
    away = (spot[0], gy + RANGE_M)
    return [(there, *spot), (stayed, *spot), (stayed + _dist(spot, away) / WALK_M_PER_S, *away)]


def away_walk(gate_xy, t: float, start_xy):
    """Waypoints from start_xy at t: a step aside, then back out of range beside the queue."""
    gx, gy = gate_xy
    aside = (gx + AWAY_ASIDE_M, start_xy[1])
    stepped = t + _dist(start_xy, aside) / WALK_M_PER_S
    out = (gx + AWAY_ASIDE_M, gy - RANGE_M)
    return [(stepped, *aside), (stepped + _dist(aside, out) / WALK_M_PER_S, *out)]


def approach(gate_xy, stance, arrive_s: float) -> Path:
    """A queueing visitor's walk from out of range to the scanner, reached at arrive_s, and
    standing there until told otherwise (bzsim.air.visitors stops it earlier at the back of a
    queue)."""
    start = outside(gate_xy)
    scanner = in_front(gate_xy, stance.scanner_m)
    appears = arrive_s - _dist(start, scanner) / WALK_M_PER_S
    return Path([(appears, *start), (arrive_s, *scanner), (FOREVER, *scanner)])


def walk(kind: str, gate_xy, arrive_s: float, dwell_s: float, stance: Stance) -> Path:
    """The fixed path of a visitor of kind enter (one who does not queue), pass-by or linger."""
    gx, gy = gate_xy
    cross = RANGE_M / WALK_M_PER_S
    if kind == "pass-by":
        d = stance.pass_by_m
        return Path([(arrive_s - cross, gx - RANGE_M, gy - d), (arrive_s + cross, gx + RANGE_M, gy - d)])
    if kind == "enter":
        path = approach(gate_xy, stance, arrive_s)
        scanner = path.points[1][1:]
        path.points[2] = (arrive_s + dwell_s, *scanner)
        path.points += inside_walk(gate_xy, stance, arrive_s + dwell_s, scanner)
        return path
    start = (gx + LINGER_ASIDE_M, gy - RANGE_M)
    waiting = (gx + LINGER_ASIDE_M, gy - LINGER_M)
    approach_s = (RANGE_M - LINGER_M) / WALK_M_PER_S
    return Path([(arrive_s - approach_s, *start), (arrive_s, *waiting),
                 (arrive_s + dwell_s, *waiting), (arrive_s + dwell_s + approach_s, *start)])


def standing(xy) -> Path:
    """A device that never moves and is always there."""
    return Path([(float("-inf"), *xy), (float("inf"), *xy)])
