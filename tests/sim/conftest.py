"""The `board` fixture: a fresh virtual ESP32 board per test, its flash in tmp_path (see
tests/boardkit.py). A module whose board needs its own flash or options defines its own `board`.

    def test_x(board):
        board.mpremote("exec", "print(1)")
        board.control.press(13)
"""

import pytest
from boardkit import VirtualBoard


@pytest.fixture
def board(tmp_path):
    board = VirtualBoard(tmp_path / "flash")
    yield board
    board.stop()
