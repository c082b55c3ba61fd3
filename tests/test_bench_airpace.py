"""bench/airpace.py's verdict on a busy run: a run the air did not play in real time, or whose
board heard far fewer adverts than were played, must not pass for a measurement."""

import airpace


class PlayedAir:
    """An air whose pace() gives the samples it was made with, one per call."""

    def __init__(self, *samples):
        self._samples = iter(samples)

    def pace(self):
        return next(self._samples)


def pace(t, sent, behind_s=0.0):
    return {"t": t, "played_to": t - behind_s, "sent": sent, "behind_s": behind_s, "cpu_s": 0.0}


def watched(*samples):
    watch = airpace.PaceWatch(PlayedAir(*samples))
    for _ in samples:
        watch.sample()
    return watch


def test_a_run_the_air_kept_up_with_and_the_board_heard_counts():
    verdict = watched(pace(0.0, 0), pace(1.0, 540), pace(2.0, 1080)).verdict(heard=810)
    assert verdict == {"played_per_s": 540, "behind_s": 0.0, "valid": True, "invalid_because": []}
    assert airpace.mark(verdict) == ""


def test_an_air_that_fell_behind_its_clock_makes_the_run_invalid():
    verdict = watched(pace(0.0, 0), pace(1.0, 300, behind_s=0.4),
                      pace(2.0, 600, behind_s=1.3)).verdict(heard=500)
    assert not verdict["valid"] and verdict["behind_s"] == 1.3
    assert "INVALID (the air fell 1.3 s behind its clock)" in airpace.mark(verdict)


def test_a_board_that_heard_far_fewer_adverts_than_were_played_makes_the_run_invalid():
    verdict = watched(pace(0.0, 0), pace(2.0, 1080)).verdict(heard=0)
    assert verdict["invalid_because"] == ["the board heard 0 of 1,080 adverts played"]


def test_a_run_without_two_samples_is_not_a_measurement():
    assert not watched(pace(0.0, 0)).verdict(heard=0)["valid"]
