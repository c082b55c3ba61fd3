"""The `gate` fixture: a gate board (gatekit.start_gate) per call, all stopped after the test.

    def test_x(gate):
        board = gate(config={"mode": "monitor"}, phones=[phone("an", "android")])
"""

import pytest
from gatekit import start_gate, stop_gate
from toolchain import install_packages


@pytest.fixture(scope="session")
def board_packages(tmp_path_factory):
    """A folder holding the firmware's packages as a board gets them (.mpy), for tests that run
    the interpreter on them directly; its lib/ holds the third-party modules."""
    flash = tmp_path_factory.mktemp("packages")
    install_packages(flash)
    return flash


@pytest.fixture
def gate(tmp_path):
    started = []

    def start(**args):
        board = start_gate(tmp_path / f"gate{len(started)}", **args)
        started.append(board)
        return board

    yield start
    for board in started:
        stop_gate(board)
