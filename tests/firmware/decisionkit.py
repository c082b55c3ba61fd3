"""What the decision tests share: the devkit profile's pins, a config that decides fast, phones
standing at the scanner, and the output levels a guard sees after a press.

    board = gate(config=FAST, phones=[phone("an", "android", **AT_GATE)])
    levels = press_and_watch(board, lambda: board.control.press(BUTTON))   # {pin: [levels]}
    board = ready(gate(config=FAST))                # pressed before the gate runs, a press is lost
    at_scanner(board, "an")                         # the gate has heard the phone held to the scanner
"""

import math
import time

import scenariokit
from gatekit import wait_until

from bzcore.config import PROFILES
from bzsim.air.paths import SCANNER_M

PINS = PROFILES["esp32-devkitc"]
RELAY, GREEN, RED, BUZZER = (PINS[role][0] for role in ("relay", "green", "red", "buzzer"))
BUTTON, BEAM = PINS["button"][0], PINS["beam"][0]
GUARD, EXIT_BUTTON = PINS["guard"][0], PINS["exit_button"][0]  # pressed to ground, as BUTTON
# near_rssi -75: a phone at the gate is near however its RSSI is drawn; wait_s 1: a press
# nobody's phone answers is denied within a second
FAST = {"near_rssi": -75, "relay_pulse_ms": 500, "present_s": 8, "wait_s": 1}
AT_GATE = dict(path="enter", arrive_s=1, dwell_s=120)
DECISION_BUDGET_MS = 300  # a phone at the scanner: the verdict shows this soon after the press
WATCH_S = 2.5  # a DENY comes after wait_s (1 s here)
# Adverts the gate takes from a phone held to the scanner before a press: each moves the
# smoothed RSSI a quarter of the way (gate.presence), so after 4 less than a third of the
# distance from the approach's reading is left, well inside near_rssi -75.
HEARD_AT_SCANNER = 4


def ready(board):
    """The board once its gate runs: the host link answers only after every input is armed."""
    board.status()
    return board


def at_scanner(board, name, counter="bluezone", adverts=HEARD_AT_SCANNER, timeout=20.0,
               status=None):
    """The board once the air has phone `name` held to the scanner and the gate has taken
    `adverts` more adverts since (the STATUS counter `counter`: "bluezone" when the phone is the
    gate's only Bluezone device, "adverts" for a phone without Bluezone). status: how to ask
    for STATUS (a link already open: its status), board.status unless told."""
    status = status or board.status
    gate_xy = (scenariokit.FRONT["x"], scenariokit.FRONT["y"])

    def held():
        p = next(p for p in board.air.phones() if p["name"] == name)
        return p["present"] and math.dist(p["position"], gate_xy) <= SCANNER_M[1] + 1e-6
    assert wait_until(held, timeout), f"{name} never reached the scanner"
    base = status()[counter]
    assert wait_until(lambda: status()[counter] >= base + adverts, timeout), \
        f"the gate heard no {counter} advert from {name} at the scanner"
    return board


def press_and_watch(board, press):
    """Press (or break the beam), then the relay/green/red levels seen within WATCH_S."""
    since = time.time()
    press()
    time.sleep(WATCH_S)
    return {pin: board.levels(pin, since) for pin in (RELAY, GREEN, RED, BUZZER)}
