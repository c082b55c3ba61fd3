"""What a receiver hears: log-distance path loss with noise, sensitivity, and scan duty cycle.

RSSI(d) = power at 1 m - 10 n log10(d) + shadowing + fading. Shadowing varies smoothly along a
device's path (people, walls and bodies between the phone and the gate); fading is drawn per
packet. The figures are indoor estimates, not measurements.
"""

import math
import random

PATH_LOSS_EXPONENT = 2.5  # indoor office, line of sight mostly
SENSITIVITY_DBM = -97  # ESP32 BLE receiver, 1 Mbit/s (datasheet: about -97 dBm)
FADING_SIGMA_DB = 2.0
SHADOW_AMPLITUDE_DB = 3.0
MIN_DISTANCE_M = 0.3
# One advertising event of a board: the PDU on channels 37, 38 and 39 with the switches and the
# controller's scheduling around it (an estimate for ESP32's NimBLE). Its receiver hears nothing
# meanwhile.
ADV_EVENT_S = 0.003


class Shadowing:
    """A smooth, seeded dB offset as a function of time: two slow waves with random phases."""

    def __init__(self, rng: random.Random):
        self._waves = [(rng.uniform(4.0, 20.0), rng.uniform(0, 2 * math.pi)) for _ in range(2)]

    def at(self, t: float) -> float:
        return SHADOW_AMPLITUDE_DB / 2 * sum(
            math.sin(2 * math.pi * t / period + phase) for period, phase in self._waves)


def distance(a, b) -> float:
    return max(MIN_DISTANCE_M, math.hypot(a[0] - b[0], a[1] - b[1]))


def rssi(power_1m: float, d: float, shadow_db: float, rng: random.Random) -> int:
    """One packet's RSSI in dBm at distance d (metres)."""
    loss = 10 * PATH_LOSS_EXPONENT * math.log10(d)
    return int(round(power_1m - loss + shadow_db + rng.gauss(0.0, FADING_SIGMA_DB)))


def heard(level: int) -> bool:
    return level >= SENSITIVITY_DBM


class ScanWindow:
    """A scan's duty cycle: the receiver listens window_us out of every interval_us.

    An advert at time t is heard only inside a window, so the share of adverts heard is
    window/interval (about 0.9 % for MicroPython's default 11.25 ms every 1.28 s).
    """

    def __init__(self, started: float, interval_us: int, window_us: int):
        self.started = started
        self.interval = max(interval_us, 1) / 1e6
        self.window = min(window_us, interval_us) / 1e6

    def listening(self, t: float) -> bool:
        return (t - self.started) % self.interval < self.window
