"""On MicroPython, classify() rejects non-Bluezone adverts without allocating, and the radio's IRQ
handler keeps a Bluezone advert in its ring without allocating: they run with the heap locked
(any allocation raises MemoryError), as in a BLE IRQ handler."""

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
        result = adv.classify(data, rsp)
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


# Every Bluezone case whose ADV alone is Bluezone, through Radio._irq as NimBLE calls it
# (memoryviews): an allocation would be caught there and counted in irq_errors.
RADIO_SCRIPT = """
import gc, json, micropython
from bzcore import adv
for name in ("gate.presence", "gate.radio"):  # one module at a time, collected between, as main.py
    gc.collect()
    __import__(name)
from gate.radio import Radio
def nothing(*args):
    pass
radio = Radio(None, 30000, 30000, nothing, nothing)
ring = radio.ring
irq = radio._irq
cases = json.load(open("tests/cases/adverts.json"))["cases"]
addr = memoryview(b"\\x40\\x01\\x02\\x03\\x04\\x05")
for case in cases:
    packet = bytes.fromhex(case["adv"])
    if "scan_rsp" in case or adv.classify(packet).kind == "none":
        continue
    data = (0, addr, 0, -50, memoryview(packet))
    before = radio.bluezone
    micropython.heap_lock()
    irq(5, data)
    micropython.heap_unlock()
    slot = (ring.head - 1) % ring.size
    kept = radio.bluezone - before
    print("%d\\t%d\\t%s\\t%s" % (radio.irq_errors, kept, case["name"], bytes(ring.keys[slot]).hex().upper()))
    ring.tail = ring.head
"""


def test_the_radio_keeps_bluezone_adverts_without_allocating():
    run = subprocess.run([str(MICROPYTHON), "-X", f"heapsize={BOARD_HEAP}", "-c", RADIO_SCRIPT],
                         cwd=REPO, env=dict(os.environ, MICROPYPATH="firmware:.frozen"),
                         capture_output=True, text=True, timeout=60)
    assert run.returncode == 0, run.stderr
    rows = [line.split("\t") for line in run.stdout.splitlines()]
    cases = {c["name"]: c for c in json.loads((CASES / "adverts.json").read_text())["cases"]}
    assert len(rows) >= 10
    assert [(errors, kept) for errors, kept, _, _ in rows] == [("0", "1")] * len(rows)
    for _, _, name, key in rows:  # Android devices by their ID or v1 code, iPhones by address
        kind, ident = cases[name]["kind"], cases[name]["id"]
        if kind == "android":
            want = "01" + ident
        elif kind == "android-v1":
            want = "01" + ident.encode().hex().upper()
        else:
            want = "0200400102030405"
        assert key == want.ljust(26, "0"), name


def test_the_heap_lock_catches_an_allocation():
    # The same harness on a Bluezone advert, which must allocate its ID: proves the lock bites.
    env = dict(os.environ, MICROPYPATH="firmware:.frozen")
    script = SCRIPT.replace('case["kind"] != "none"', 'case["kind"] != "android"')
    run = subprocess.run([str(MICROPYTHON), "-c", script], cwd=REPO, env=env,
                         capture_output=True, text=True, timeout=60)
    assert run.stdout.splitlines() and all(
        line.startswith("allocated") for line in run.stdout.splitlines())
