"""The benchmark's naive baseline must classify like bzcore, or its ratio means nothing."""

import json

import naive_classify
import pytest

from bzcore import adv
from toolchain import CASES

CASES_TABLE = json.loads((CASES / "adverts.json").read_text())["cases"]


@pytest.mark.parametrize("case", CASES_TABLE, ids=[c["name"] for c in CASES_TABLE])
def test_baseline_agrees_with_classify(case):
    data = bytes.fromhex(case["adv"])
    scan_rsp = bytes.fromhex(case["scan_rsp"]) if "scan_rsp" in case else None
    assert naive_classify.classify(data, scan_rsp) == adv.classify(data, scan_rsp)
