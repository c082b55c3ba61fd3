"""On MicroPython, classify() rejects non-Bluezone adverts without allocating: it runs with the
heap locked (any allocation raises MemoryError), as it may in a BLE IRQ handler."""

import json
import os
import subprocess

from toolchain import BOARD_HEAP, CASES, MICROPYTHON, REPO

SCRIPT = """
import json, micropython
from bzcore import adv
cases = json.load(open("tests/cases/adverts.json"))["cases"]
result = verdict = None  # globals exist before the heap is locked
for case in cases:
    if case["kind"] != "none":
        continue
    data = memoryview(bytes.fromhex(case["adv"]))
    rsp = bytes.fromhex(case["scan_rsp"]) if "scan_rsp" in case else None
    result = adv.NONE
    micropython.heap_lock()
    try:
        result = adv.classify(data, rsp, False)
        verdict = "no allocation"
    except MemoryError:
        verdict = "allocated"
    micropython.heap_unlock()
    print(verdict + "\t" + case["name"] + "\t" + str(result.kind))
"""


def test_non_bluezone_adverts_allocate_nothing():
    env = dict(os.environ, MICROPYPATH="firmware:.frozen")
    run = subprocess.run([str(MICROPYTHON), "-X", f"heapsize={BOARD_HEAP}", "-c", SCRIPT],
                         cwd=REPO, env=env, capture_output=True, text=True, timeout=60)
    assert run.returncode == 0, run.stderr
    lines = run.stdout.splitlines()
    expected = [c for c in json.loads((CASES / "adverts.json").read_text())["cases"]
                if c["kind"] == "none"]
    assert len(lines) == len(expected) > 10
    assert [line for line in lines if not line.startswith("no allocation")] == []


def test_android_adverts_allocate_nothing_with_the_scratch_id():
    env = dict(os.environ, MICROPYPATH="firmware:.frozen")
    script = SCRIPT.replace('case["kind"] != "none"', 'case["kind"] != "android"').replace(
        "adv.classify(data, rsp, False)", "adv.classify(data, rsp, True)").replace(
        "str(result.kind)", "bytes(result.id).hex().upper()")
    run = subprocess.run([str(MICROPYTHON), "-c", script], cwd=REPO, env=env,
                         capture_output=True, text=True, timeout=60)
    assert run.returncode == 0, run.stderr
    rows = [line.split("\t") for line in run.stdout.splitlines()]
    expected = {c["name"]: c["id"] for c in json.loads((CASES / "adverts.json").read_text())["cases"]
                if c["kind"] == "android"}
    assert len(rows) == len(expected) >= 5
    assert all(verdict == "no allocation" and ident == expected[name] for verdict, name, ident in rows)


def test_the_heap_lock_catches_an_allocation():
    # The same harness on a Bluezone advert, which must allocate its ID: proves the lock bites.
    env = dict(os.environ, MICROPYPATH="firmware:.frozen")
    script = SCRIPT.replace('case["kind"] != "none"', 'case["kind"] != "android"')
    run = subprocess.run([str(MICROPYTHON), "-c", script], cwd=REPO, env=env,
                         capture_output=True, text=True, timeout=60)
    assert run.stdout.splitlines() and all(
        line.startswith("allocated") for line in run.stdout.splitlines())
