# What the case-table files (tests/*_cases.py) share, on MicroPython and CPython alike; small on
# purpose: a case file run on a 96K MicroPython heap compiles this, not another table's module.
import json


def hexbytes(text):
    return bytes.fromhex(text)


def expect(got, want, what):
    if got != want:
        raise AssertionError("%s: got %r, want %r" % (what, got, want))


def load(cases_dir, name):
    with open(cases_dir + "/" + name) as f:
        return json.load(f)


class Lcg:
    """A tiny deterministic generator: the same pseudo-random adverts on both interpreters."""

    def __init__(self, seed):
        self.state = seed

    def next(self, bound):
        self.state = (self.state * 1103515245 + 12345) & 0x7FFFFFFF
        return self.state % bound


def report(case_list):
    """Run each (case id, check) and print its PASS/FAIL line."""
    for case_id, check in case_list:
        try:
            check()
            print("PASS\t" + case_id)
        except Exception as exc:  # report every failure, whatever it is, and go on
            print("FAIL\t%s\t%s %s" % (case_id, type(exc).__name__, exc))
