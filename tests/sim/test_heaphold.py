"""The pieces that hold the virtual board's heap back, in the real interpreter: let go, their
heap comes back even while something still refers to them, as a stale copy of an address on
the C stack can (the collector scans it conservatively)."""

import os
import subprocess

from bzsim.board.interpreter import micropython_command

SHIMS = os.path.join(os.path.dirname(__file__), "..", "..", "sim", "shims")

SCRIPT = """
import gc
from _heaphold import hold, let_go, piece_bytes, take_largest
gc.collect()
free = gc.mem_free()
held = [None] * 8
hold(held, 0, 4096, 64)
print('held', 4000 < sum(piece_bytes(p) for p in held if p is not None) <= 4096)
lid = take_largest(free // 2)
print('largest', piece_bytes(lid) > free * 9 // 10)
let_go([lid])
let_go(held)
gc.collect()
print('back', gc.mem_free() > free - 1024)
again = take_largest(free // 2)  # lid and held are still referred to, as from a stale stack copy
print('again', again is not None and piece_bytes(again) > free * 9 // 10)
print('none', take_largest(free * 2) is None)
"""


def test_pieces_let_go_give_their_heap_back_while_still_referred_to():
    out = subprocess.run([*micropython_command(), "-X", "heapsize=256K", "-c", SCRIPT],
                         env={**os.environ, "MICROPYPATH": SHIMS}, capture_output=True, text=True,
                         timeout=30).stdout
    assert out.split() == ["held", "True", "largest", "True", "back", "True", "again", "True",
                           "none", "True"], out
