"""Was a bench's busy run played in real time? The simulated air's pace (bzsim.air.server
Air.pace) sampled with the gate's STATUS, and a verdict on the adverts the board heard.

A busy row only says something about the firmware when the gate got the busy scenario: the air
kept its clock (never more than BEHIND_LIMIT_S late) and the board heard at least HEARD_SHARE of
the adverts the air put on air (some are out of the gate's range, some go by while it reads an
iPhone over GATT: about 3 in 4 are heard when all is well).
"""

BEHIND_LIMIT_S = 1.0
HEARD_SHARE = 0.5


class PaceWatch:
    """Samples of an air's pace, each taken with a STATUS of the gate (see `sample`)."""

    def __init__(self, air):
        self.air = air
        self.samples = []

    def sample(self) -> None:
        self.samples.append(self.air.pace())

    def verdict(self, heard: int) -> dict:
        """Given the adverts the board heard between the first sample and the last: what the
        air played meanwhile, how late it fell, and whether the run counts ("valid")."""
        if len(self.samples) < 2:
            return {"played_per_s": None, "behind_s": None, "valid": False,
                    "invalid_because": ["fewer than two samples"]}
        first, last = self.samples[0], self.samples[-1]
        seconds = last["t"] - first["t"]
        played = last["sent"] - first["sent"]
        behind = max(s["behind_s"] for s in self.samples)
        why = []
        if behind > BEHIND_LIMIT_S:
            why.append(f"the air fell {behind:.1f} s behind its clock")
        if heard < HEARD_SHARE * played:
            why.append(f"the board heard {heard:,} of {played:,} adverts played")
        return {"played_per_s": round(played / seconds) if seconds > 0 else None,
                "behind_s": round(behind, 2), "valid": not why, "invalid_because": why}


def mark(verdict: dict | None) -> str:
    """A table cell's warning for a run that does not count ('' for one that does)."""
    if not verdict or verdict["valid"]:
        return ""
    return " INVALID (" + "; ".join(verdict["invalid_because"]) + ")"
