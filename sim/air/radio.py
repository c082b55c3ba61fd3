"""What a receiver hears: log-distance path loss with noise, body loss, sensitivity, and scan duty
cycle.

RSSI(d) = power at 1 m - path loss(d) + shadowing + fading - body loss. The path loss has two
slopes: nearly free space (exponent 2.15) up to 1 m, where a phone held to the scanner is in line
of sight, and the indoor exponent 2.5 beyond. Shadowing varies smoothly along a device's path
(people, walls and furniture between the phone and the gate); it fades out below 1 m, where the
direct path dominates. Fading is drawn per packet. Every visitor's body standing in the straight
line from a phone to a receiver, closer to the receiver, takes BODY_LOSS_DB off (at most
MAX_BODIES of them).

Calibration (the mean for an Android phone at TX_POWER_LOW, received by an ESP32; `python -m
bzsim.air.radio` prints the table): -45 dBm at 0.1 m, -55 at 0.3 m, -66.5 at 1 m, -71 at 1.5 m,
-78.5 at 3 m; iPhones 4.5 dB stronger. Published figures it follows:
  * espressif/esp-idf issue #2696 "Range of BLE scanner limited (to under 5m)"
    (https://github.com/espressif/esp-idf/issues/2696): an Android phone advertising at medium
    power, scanned by an ESP32, reads -50 to -65 dBm under 1 m and about -92 dBm at 5-6 m.
  * nkolban/esp32-snippets issue #952 "Increase BLE Beacon Scanning strength"
    (https://github.com/nkolban/esp32-snippets/issues/952): at 1 m an ESP32 reads a beacon at
    -75 dBm where a phone's scanner app reads -60 (ESP32 PCB antennas read lower than phones).
  * The log-distance model with a fitted A (RSSI at 1 m) and exponent n, lognormal fading:
    "Note on Calculating Distance From RSSI Value of BLE Devices"
    (https://thecustomizewindows.com/2020/03/note-on-calculating-distance-from-rssi-value-of-ble-devices/).
  * Body loss: L. Januszkiewicz, "Analysis of Human Body Shadowing Effect on Wireless Sensor
    Networks Operating in the 2.4 GHz Band", Sensors 2018, 18(10), 3412
    (https://www.mdpi.com/1424-8220/18/10/3412), and "Human body shadowing variability in
    short-range indoor radio links at 3-11 GHz band" (fading depths up to 15 dB and more when a
    body blocks the link): a body in the line of sight costs several dB to over 10 dB; 8 dB here.
With the firmware's default near_rssi of -60 this puts a phone held 0.1-0.3 m from the scanner
at -43 to -57 dBm (per-phone offsets included) and one waiting 1-1.5 m behind the visitor at the
scanner, behind that visitor's body, at -73 to -80.
"""

import math
import random

NEAR_EXPONENT = 2.15  # up to BREAK_M: line of sight, close to free space (2.0)
PATH_LOSS_EXPONENT = 2.5  # beyond: indoor office, line of sight mostly
BREAK_M = 1.0
SENSITIVITY_DBM = -97  # ESP32 BLE receiver, 1 Mbit/s (datasheet: about -97 dBm)
FADING_SIGMA_DB = 2.0
SHADOW_AMPLITUDE_DB = 3.0
SHADOW_FULL_M = 1.0  # shadowing grows to its full amplitude at this distance
MIN_DISTANCE_M = 0.05
TX_OFFSET_DB = 2.0  # a phone's own TX power and antenna: a fixed offset within +-this
BODY_LOSS_DB = 8.0
BODY_RADIUS_M = 0.25  # a body this close to the straight line blocks it
MAX_BODIES = 2
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


def path_loss(d: float) -> float:
    """dB lost from 1 m to d metres (negative below 1 m): the two-slope model."""
    d = max(MIN_DISTANCE_M, d)
    if d <= BREAK_M:
        return 10 * NEAR_EXPONENT * math.log10(d)
    return 10 * NEAR_EXPONENT * math.log10(BREAK_M) + 10 * PATH_LOSS_EXPONENT * math.log10(d / BREAK_M)


def mean_rssi(power_1m: float, d: float, body_db: float = 0.0) -> float:
    """The RSSI at distance d without shadowing and fading."""
    return power_1m - path_loss(d) - body_db


def rssi(power_1m: float, d: float, shadow_db: float, rng: random.Random,
         body_db: float = 0.0) -> int:
    """One packet's RSSI in dBm at distance d (metres), after body_db of bodies in the way."""
    shadow = shadow_db * min(1.0, d / SHADOW_FULL_M)
    return int(round(mean_rssi(power_1m, d, body_db) + shadow
                     + rng.gauss(0.0, FADING_SIGMA_DB)))


def body_loss(src, dst, bodies) -> float:
    """dB the bodies (x, y) standing in the straight line from src to dst take off: each one
    within BODY_RADIUS_M of the segment and closer to dst than src is (the visitor in front)."""
    sx, sy = src
    dx, dy = dst[0] - sx, dst[1] - sy
    length2 = dx * dx + dy * dy
    if length2 <= 0:
        return 0.0
    reach = math.sqrt(length2)
    count = 0
    for bx, by in bodies:
        u = ((bx - sx) * dx + (by - sy) * dy) / length2
        if not 0.0 < u < 1.0 or math.hypot(bx - dst[0], by - dst[1]) >= reach:
            continue
        if math.hypot(bx - (sx + u * dx), by - (sy + u * dy)) <= BODY_RADIUS_M \
                and math.hypot(bx - sx, by - sy) > BODY_RADIUS_M:
            count += 1
    return BODY_LOSS_DB * min(count, MAX_BODIES)


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


def calibration_table(distances=(0.1, 0.2, 0.3, 0.5, 1.0, 1.5, 2.0, 3.0, 5.0, 10.0, 15.0)):
    """[(distance, mean dBm per family)] for the phone families of bzsim.air.devices."""
    from bzsim.air.devices import POWER_1M  # pylint: disable=import-outside-toplevel
    return [(d, {family: round(mean_rssi(POWER_1M[family], d), 1)
                 for family in ("android", "ios", "other")}) for d in distances]


if __name__ == "__main__":
    print("distance   android   ios   other   (mean dBm; -%.0f dB per body in the way)"
          % BODY_LOSS_DB)
    for d, row in calibration_table():
        print(f"{d:6.2f} m  {row['android']:7.1f} {row['ios']:6.1f} {row['other']:6.1f}")
