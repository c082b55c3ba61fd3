"""gate: the board-only modules of the gate firmware, one concern each (see gate/app.py)."""
