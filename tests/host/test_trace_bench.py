"""The trace benchmark at a tiny size: it builds its database, finds every planted sighting, and
the app's one-query-per-slot way finds the same ones, or its ratios mean nothing."""

import json
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def test_the_trace_benchmark_runs_small_and_agrees_with_the_apps_way(tmp_path):
    run = subprocess.run([sys.executable, str(REPO / "bench" / "trace.py"), "--records", "40",
                          "--days", "2", "--sightings", "20000", "--runs", "1",
                          "--results", str(tmp_path)],
                         capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stdout + run.stderr
    figures = json.loads((tmp_path / "trace.json").read_text())
    assert figures["ids"] == 40 * 2 * 96
    assert figures["matches"] == figures["planted"] == 2 * 3
    assert figures["hashes"] == 40 * 2 * 97
    assert "faster than the app's way" in run.stdout
    assert len(list(tmp_path.glob("trace-*.db"))) == 1  # built once, kept for the next run
