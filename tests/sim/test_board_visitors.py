"""A scenario's visitor pressing at a gate presses that board's button (or breaks its beam),
on the pin its config.json wires for it."""

import json

import pytest
from boardkit import VirtualBoard
from scenariokit import phone, scenario, write_scenario

from bzsim.board.control import BoardControlError

WATCH_INPUT = """
import machine, time
pin = machine.Pin({gpio}, machine.Pin.IN, machine.Pin.PULL_UP)
while pin.value() == 1:
    time.sleep_ms(10)
print("input {gpio} went low")
"""


@pytest.mark.parametrize("config, gpio", [
    (None, 0),                                           # default profile: BOOT button
    ({"trigger": "beam"}, 33),                           # DevKitC profile's beam input
    ({"board": "esp32-relay-x4", "trigger": "beam"}, 19),
])
def test_a_visitor_presses_the_wired_input(tmp_path, config, gpio):
    flash = tmp_path / "flash"
    flash.mkdir()
    (flash / "main.py").write_text(WATCH_INPUT.format(gpio=gpio))
    if config is not None:
        (flash / "config.json").write_text(json.dumps(config))
    path = write_scenario(tmp_path, scenario(
        [phone("visitor", "android", path="enter", arrive_s=1.5, dwell_s=3, press=True)]))
    board = VirtualBoard(flash, "--scenario", str(path), "--name", "front")
    try:
        board.control.wait_console(f"input {gpio} went low", timeout=10)
    finally:
        board.stop()


def test_a_visitor_at_another_gate_does_not_press_here(tmp_path):
    flash = tmp_path / "flash"
    flash.mkdir()
    (flash / "main.py").write_text(WATCH_INPUT.format(gpio=0))
    path = write_scenario(tmp_path, scenario(
        [phone("visitor", "android", gate="back", path="enter", arrive_s=0.5, dwell_s=2,
               press=True)]))
    board = VirtualBoard(flash, "--scenario", str(path), "--name", "front")
    try:
        with pytest.raises(BoardControlError, match="not on the console"):
            board.control.wait_console("input 0 went low", timeout=4)
    finally:
        board.stop()
