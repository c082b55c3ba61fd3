"""Fixtures for tests that need a virtual ESP32 board (see boardkit.py).

    def test_x(virtual_board):            # a fresh board per test, flash in tmp_path
        virtual_board.mpremote("exec", "print(1)")
        virtual_board.control.press(13)
"""

import pytest
from boardkit import VirtualBoard


@pytest.fixture
def virtual_board(tmp_path):
    board = VirtualBoard(tmp_path / "flash")
    yield board
    board.stop()
