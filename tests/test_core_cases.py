"""The bzcore case tables, run on CPython and on the real MicroPython interpreter.

Each case file (core_cases.py, record_cases.py, uplink_cases.py, beacon_cases.py,
fastpath_cases.py) is one MicroPython run, so that each gets a
board's heap to itself."""

import os
import subprocess

import pytest

import beacon_cases
import core_cases
import fastpath_cases
import record_cases
import uplink_cases
from toolchain import BOARD_HEAP, CASES, MICROPYTHON, REPO

CASE_FILES = (core_cases, record_cases, uplink_cases, beacon_cases, fastpath_cases)
CASE_LIST = [case for module in CASE_FILES for case in module.checks(str(CASES))]
CASE_IDS = [case_id for case_id, _ in CASE_LIST]


@pytest.mark.parametrize("check", [check for _, check in CASE_LIST], ids=CASE_IDS)
def test_cpython(check):
    check()


@pytest.fixture(scope="module")
def micropython_results():
    """One MicroPython run per case file, each with the heap of a board: {case id: line}."""
    env = dict(os.environ, MICROPYPATH="firmware:.frozen")
    results = {}
    for module in CASE_FILES:
        run = subprocess.run([str(MICROPYTHON), "-X", f"heapsize={BOARD_HEAP}",
                              f"tests/{module.__name__}.py", "tests/cases"],
                             cwd=REPO, env=env, capture_output=True, text=True, timeout=120)
        assert run.returncode == 0, run.stderr
        for line in run.stdout.splitlines():
            verdict, case_id, *why = line.split("\t")
            results[case_id] = (verdict, *why)
    return results


@pytest.mark.parametrize("case_id", CASE_IDS)
def test_micropython(micropython_results, case_id):
    assert micropython_results.get(case_id, ("did not run",)) == ("PASS",)
