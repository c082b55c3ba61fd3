"""bzcore.config and bzcore.wire: their case tables on CPython and on the real MicroPython
interpreter (96K heap, one run per module), and properties on CPython: framing round-trips,
no input makes the parsers or the line reader raise, config.load never raises."""

import json
import os
import subprocess

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import config_cases
import wire_cases
from bzcore import config, wire, wirehost
from toolchain import BOARD_HEAP, CASES, MICROPYTHON, REPO

MODULES = {"config_cases": config_cases, "wire_cases": wire_cases}
CASE_LIST = [(name, case_id, check) for name, module in MODULES.items()
             for case_id, check in module.checks(str(CASES))]


@pytest.mark.parametrize("check", [c for _, _, c in CASE_LIST], ids=[i for _, i, _ in CASE_LIST])
def test_cpython(check):
    check()


@pytest.fixture(scope="module")
def micropython_results():
    """{case id: (verdict, why...)} from one MicroPython run per case module."""
    results = {}
    for name in MODULES:
        code = ("import sys\nsys.path[:0] = ['tests']\nimport core_cases, %s\n"
                "core_cases.report(%s.checks('tests/cases'))\n" % (name, name))
        run = subprocess.run([str(MICROPYTHON), "-X", f"heapsize={BOARD_HEAP}", "-c", code], cwd=REPO,
                             env=dict(os.environ, MICROPYPATH="firmware:.frozen"),
                             capture_output=True, text=True, timeout=120)
        assert run.returncode == 0, run.stdout[-2000:] + run.stderr
        for line in run.stdout.splitlines():
            verdict, case_id, *why = line.split("\t")
            results[case_id] = (verdict, *why)
    return results


@pytest.mark.parametrize("case_id", [i for _, i, _ in CASE_LIST])
def test_micropython(micropython_results, case_id):
    assert micropython_results.get(case_id, ("did not run",)) == ("PASS",)


# --- properties (CPython) -------------------------------------------------------------------
commands = st.sampled_from(wire.COMMANDS)
printable = st.text(st.characters(min_codepoint=32, max_codepoint=0x2FFF, exclude_characters="\x7f"),
                    max_size=120)
json_values = st.recursive(st.none() | st.booleans() | st.integers(-2**40, 2**40) | printable,
                           lambda inner: st.lists(inner, max_size=4)
                           | st.dictionaries(printable, inner, max_size=4), max_leaves=12)


@given(st.integers(1, wire.ID_MAX), commands, printable)
def test_a_request_parses_back(req_id, command, args):
    args = args.strip()
    got = wire.parse_request(wirehost.request(req_id, command, args).rstrip(b"\n"))
    assert got == (req_id, command, args, None)


@given(st.integers(0, wire.ID_MAX), st.sampled_from(wirehost.STATUSES), json_values)
def test_a_reply_parses_back_or_is_a_too_long_error(req_id, status, data):
    line = wirehost.reply(req_id, status, data)
    assert len(line) <= wire.REPLY_MAX and line.endswith(b"\n")
    got_id, got_status, got_data, error = wirehost.parse_reply(line.rstrip(b"\n"))
    assert error is None and got_id == req_id
    assert (got_status, got_data) in ((status, data), (wire.ERR, {"error": wire.ERR_TOO_LONG,
                                                                  "message": "reply longer than 1024 bytes"}))


@given(st.integers(1, wire.ID_MAX), commands, st.data())
def test_a_damaged_request_is_never_taken_for_another(req_id, command, data):
    sent = wirehost.request(req_id, command, "17").rstrip(b"\n")
    line = bytearray(sent)
    pos = data.draw(st.integers(0, len(line) - 1))
    line[pos] ^= data.draw(st.integers(1, 255))
    got = wire.parse_request(bytes(line))
    if got[3] is None:  # CRC-32 catches every one-byte change but the checksum's own hex case
        assert got == (req_id, command, "17", None) and bytes(line).lower() == sent.lower()


@settings(max_examples=500)
@given(st.binary(max_size=400))
def test_parsers_take_any_bytes(raw):
    req = wire.parse_request(raw)
    assert req[3] in (None, wire.ERR_CRC, wire.ERR_FORMAT, wire.ERR_UNKNOWN)
    rep = wirehost.parse_reply(raw)
    assert rep[3] in (None, wire.ERR_CRC, wire.ERR_FORMAT)


@settings(max_examples=300)
@given(st.binary(max_size=1500), st.integers(1, 300))
def test_the_line_reader_takes_any_bytes_and_keeps_lines_short(raw, limit):
    reader = wire.LineReader(limit)
    for b in raw:
        if reader.feed(b) == wire.LINE:
            line = bytes(reader.line())
            assert 0 < len(line) <= limit and b"\n" not in line and b"\r" not in line


@given(st.lists(st.binary(min_size=48, max_size=48), max_size=wire.RECORDS_PER_REPLY))
def test_a_full_chunk_of_records_fits_one_reply(records):
    line = wirehost.reply(wire.ID_MAX, wire.OK, {"records": wire.records_text(records), "next": 2**32 - 1})
    assert wirehost.records_from_text(wirehost.parse_reply(line.rstrip(b"\n"))[2]["records"]) == records


@settings(max_examples=300)
@given(st.one_of(st.binary(max_size=300).map(lambda b: b.decode("latin-1")),
                 st.dictionaries(st.sampled_from(config.FIELDS + ("extra",)), json_values).map(json.dumps)))
def test_config_load_never_raises_and_always_gives_a_valid_config(text):
    cfg, errors = config.load(text)
    assert config.validate(cfg) == []
    assert isinstance(errors, list) and all(isinstance(e, str) and ":" in e for e in errors)
