"""Where a visitor is: piecewise-linear walks relative to a gate, in metres and seconds.

The gate stands at (x, y); visitors come from outside (smaller y), and "enter" continues
inside (larger y). Times are seconds from the scenario start; arrive_s is when the visitor
reaches the gate (or, for a pass-by, its closest point to it).
"""

WALK_M_PER_S = 1.2
RANGE_M = 15.0  # where a walk starts and ends: about the edge of what a gate hears
AT_GATE_M = 0.3  # a visitor at the gate holds the phone to the scanner, about this far
LINGER_M = 3.0
PASS_BY_M = 3.0


class Path:
    """A walk through timed waypoints; the visitor is present from the first to the last."""

    def __init__(self, waypoints):
        self.points = waypoints  # [(t, x, y)], t ascending

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


def walk(kind: str, gate_xy, arrive_s: float, dwell_s: float) -> Path:
    """The path of a visitor of kind enter, pass-by or linger at a gate."""
    gx, gy = gate_xy
    cross = RANGE_M / WALK_M_PER_S
    if kind == "pass-by":
        return Path([(arrive_s - cross, gx - RANGE_M, gy - PASS_BY_M),
                     (arrive_s + cross, gx + RANGE_M, gy - PASS_BY_M)])
    stop = AT_GATE_M if kind == "enter" else LINGER_M
    approach = (RANGE_M - stop) / WALK_M_PER_S
    outside = (gx + AT_GATE_M, gy - RANGE_M)
    waiting = (gx + AT_GATE_M, gy - stop)
    points = [(arrive_s - approach, *outside), (arrive_s, *waiting),
              (arrive_s + dwell_s, *waiting)]
    if kind == "enter":
        points.append((arrive_s + dwell_s + cross, gx + AT_GATE_M, gy + RANGE_M))
    else:
        points.append((arrive_s + dwell_s + approach, *outside))
    return Path(points)


def standing(xy) -> Path:
    """A device that never moves and is always there."""
    return Path([(float("-inf"), *xy), (float("inf"), *xy)])
