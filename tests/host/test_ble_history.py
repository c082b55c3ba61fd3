"""`bzgate trace --history`: history files (docs/protocol.md §5.4) read line by line, matched
against the checkpoint gates' rolling IDs. The IDs here are the vectors of docs/protocol.md §9:
base key bytes(range(32)) from 2020-09-18 (1600387200)."""

import json

import pytest
from blekit import invoke

from bzcore import ids
from bzgate.trace.history import parse_history, passes
from bzgate.keys import KeyStore

K0 = bytes(range(32))
DAY0 = 1600387200
SLOT2 = "648C30B3A8352FEAC3721277"  # valid [1600389000, 1600389900)
NEXT_DAY_SLOT0 = "970E23C0E19DE93F8CC4057B"  # valid from 1600473600
OWN = "1B620A4F6BAD21A188B2287A"
CHECKPOINTS = {"b1": {"gate_id": "lobby", "key": K0, "day": DAY0}}


def line(seen, rssi, stamp, own=OWN):
    return f"{own}\t{seen}\t{rssi}\t{stamp}"


def test_units_are_told_per_line_and_bad_lines_are_counted_by_number():
    text = "\r\n".join([
        line(SLOT2, -72, 1600389123000),  # Android: ms
        line(SLOT2, -60, 1600389124),  # iOS 3.0.3: s
        "",
        "not a row",
        line(SLOT2, -72, "soon"),
        line("648C30B3", -72, 1600389123),  # a short ID
        line("ZZ" * 12, -72, 1600389123),
        line(SLOT2, -300, 1600389123),
        line(SLOT2, -70, 0),
        line(SLOT2, -70, 1600389125) + "\textra",
        "   ",
    ]) + "\n"
    history = parse_history(text)
    assert [(r.line, r.time, r.rssi) for r in history.rows] == [(1, 1600389123, -72),
                                                               (2, 1600389124, -60)]
    assert [n for n, _ in history.bad] == [4, 5, 6, 7, 8, 9, 10]
    assert "not 4" in history.bad[0][1] and "24 hex" in history.bad[2][1]


def test_a_row_matches_within_the_slot_and_its_tolerance_only():
    rows = "\n".join([line(SLOT2, -72, 1600389123000), line(SLOT2, -65, 1600389930000)])
    found = passes(parse_history(rows), CHECKPOINTS, tolerance=180)
    assert [(p.gate_id, p.first_seen, p.last_seen, p.rows, p.best_rssi) for p in found] == [
        ("lobby", 1600389123, 1600389930, 2, -65)]
    exact = passes(parse_history(rows), CHECKPOINTS, tolerance=0)  # 30 s after the slot: out
    assert [(p.first_seen, p.rows) for p in exact] == [(1600389123, 1)]
    a_day_later = line(SLOT2, -72, 1600389123 + ids.DAY_SECONDS)  # same ID, wrong day
    assert passes(parse_history(a_day_later), CHECKPOINTS, 180) == []


def test_passes_roll_over_days_and_split_on_long_gaps():
    rows = "\n".join([line(SLOT2, -72, 1600389123), line(NEXT_DAY_SLOT0, -70, 1600473610)])
    found = passes(parse_history(rows), CHECKPOINTS, 180)
    assert [(p.first_seen, p.rows) for p in found] == [(1600389123, 1), (1600473610, 1)]
    before_k0 = {"b1": {**CHECKPOINTS["b1"], "day": DAY0 + ids.DAY_SECONDS}}
    assert [p.first_seen for p in passes(parse_history(rows), before_k0, 180)] == []


@pytest.fixture
def keys(tmp_path):
    store = KeyStore(tmp_path / "keys.json")
    store.put("b1", bytes(32), gate_id="lobby")
    store.put_checkpoint("b1", K0, DAY0)
    return store


def test_the_command_reports_passes_and_bad_lines(tmp_path, keys):
    history = tmp_path / "data_trace.txt"
    history.write_bytes((line(SLOT2, -72, 1600389123000) + "\n\xff\xfe garbage\n").encode(
        "latin-1"))
    code, out, err = invoke(["trace", "--history", str(history), "--keys", str(keys.path), "--json"])
    doc = json.loads(out)
    assert code == 0 and doc["bad_lines"] == 1 and "1 line(s)" in err
    (found,) = doc["passes"]
    assert found["gate_id"] == "lobby" and found["first_seen_utc"] == "2020-09-18T00:32:03Z"
    assert found["first_seen_local"] == "2020-09-18 07:32:03"
    code, text, _ = invoke(["trace", "--history", str(history), "--keys", str(keys.path)])
    assert code == 0 and "lobby" in text and "could not be read" in text


def test_the_command_refuses_what_it_cannot_use(tmp_path, keys):
    history = tmp_path / "h.txt"
    history.write_text(line(SLOT2, -72, 1600389123) + "\n")
    empty = KeyStore(tmp_path / "none.json")
    cases = [(["--history", str(history), "--keys", str(empty.path)], "no checkpoint gates"),
             (["--history", str(tmp_path / "missing.txt"), "--keys", str(keys.path)],
              "cannot read"),
             ([], "give --f0"), (["--history", str(history), "--f0", str(history)], "give --f0")]
    for args, message in cases:
        code, _, err = invoke(["trace", *args])
        assert code == 2 and message in err, (args, err)
