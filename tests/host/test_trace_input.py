"""F0 input: the forms the health authority's data arrives in, and every malformed file refused
with the entry at fault named and exit status 2, never a traceback."""

import json

import pytest
from click.testing import CliRunner
from tracekit import DAY, F0_KEY, f0_json, notification, sightings_db

from bzgate.cli import main
from bzgate.errors import UserError
from bzgate.trace.f0 import F0Record, read_f0

GOOD = {"daily_key": F0_KEY, "time_start": DAY, "max": 96, "time_end": DAY + 86399}
RECORD = F0Record(bytes.fromhex(F0_KEY), DAY, 96, DAY + 86399)


def with_entry(**changes) -> str:
    entry = {k: v for k, v in {**GOOD, **changes}.items() if v is not None}
    return json.dumps({"data": [GOOD, entry]})


@pytest.mark.parametrize("text", [
    json.dumps({"data": [GOOD]}),
    json.dumps({"data": [{**GOOD, "time_start": DAY * 1000, "time_end": (DAY + 86399) * 1000}]}),
    json.dumps({"data": [{**GOOD, "time_start": str(DAY), "max": "96"}]}),  # Android reads these
    json.dumps({"data": [{**GOOD, "time_start": float(DAY), "time_end": DAY + 86399.75}]}),  # iOS
    json.dumps({"data": [{**GOOD, "daily_key": F0_KEY.lower()}]}),
    json.dumps(notification({"data": [GOOD]})),
    json.dumps(notification({"data": [GOOD]})["message"]),
    json.dumps(json.dumps({"data": [GOOD]})),
], ids=["seconds", "ms", "numeric strings", "doubles", "lower-case hex", "notification",
        "notification data", "JSON in a string"])
def test_every_accepted_form_reads_the_same_record(text):
    assert read_f0(text, "f0.json") == [RECORD]


@pytest.mark.parametrize("text, message", [
    ("", "f0.json is not JSON"),
    ("{\"data\": [", "f0.json is not JSON"),
    ("[1, 2]", "f0.json: no F0 data here"),
    (json.dumps({"data": 5}), "no F0 data here"),
    (json.dumps({"data": []}), "no F0 records"),
    (json.dumps({"Type": "KiemTraLichSuTiepXuc", "DataContent": "{\"FindGUID\": 1}"}),
     "f0.json DataContent: no F0 data here"),
    (json.dumps({"DataContent": "{not json"}), "f0.json DataContent is not JSON"),
    (json.dumps({"data": [GOOD, 7]}), "data[1]: expected an object"),
    (with_entry(max=None), "data[1]: missing max"),
    (with_entry(daily_key="XYZ"), "data[1]: daily_key must be 64 hex digits"),
    (with_entry(daily_key=F0_KEY[:62]), "data[1]: daily_key must be 64 hex digits"),
    (with_entry(daily_key=12), "data[1]: daily_key must be 64 hex digits"),
    (with_entry(max=7), "data[1]: max must divide 86400"),
    (with_entry(max=0), "data[1]: max must divide 86400"),
    (with_entry(time_start=DAY + 60), "data[1]: time_start 1600387260 is not 00:00 UTC"),
    (with_entry(time_end=DAY - 1), "data[1]: time_end 1600387199 must be from time_start"),
    (with_entry(time_end=DAY + 400 * 86400), "must be from time_start"),
    (with_entry(time_start=True), "data[1] time_start: expected a number, got True"),
    (with_entry(time_start="soon"), "data[1] time_start: expected a number"),
    (with_entry(time_end=[1]), "data[1] time_end: expected a number"),
    (with_entry(max=float("nan")), "data[1] max: expected a number, got nan"),
    (with_entry(time_start=-86400), "is not a time between 1970 and 2100"),
    (with_entry(time_start="1e400"), "data[1] time_start: expected a number"),
    ("[" * 100000 + "]" * 100000, "f0.json is not JSON"),
    ('{"message": ' * 900 + "1" + "}" * 900, "no F0 data here: wrapped more than 8 times"),
], ids=lambda v: v if len(v) < 40 else None)
def test_malformed_f0_is_refused_naming_the_entry(text, message):
    with pytest.raises(UserError) as caught:
        read_f0(text, "f0.json")
    assert message in caught.value.format_message()


def test_the_command_refuses_a_bad_file_in_one_line(tmp_path):
    db = sightings_db(tmp_path / "t.db", [])
    bad = tmp_path / "f0.json"
    bad.write_text(with_entry(daily_key="XYZ"))
    result = CliRunner().invoke(main, ["trace", "--f0", str(bad), "--db", str(db)])
    assert result.exit_code == 2
    assert result.stderr.strip().splitlines() == [
        f"bzgate: {bad} data[1]: daily_key must be 64 hex digits, got 'XYZ'"]


@pytest.mark.parametrize("content", [b"\xff\xfe\x00garbage", None], ids=["not UTF-8", "missing"])
def test_an_unreadable_file_is_refused(tmp_path, content):
    db = sightings_db(tmp_path / "t.db", [])
    f0 = tmp_path / "f0.json"
    if content is not None:
        f0.write_bytes(content)
    result = CliRunner().invoke(main, ["trace", "--f0", str(f0), "--db", str(db)])
    assert result.exit_code == 2 and result.stderr.startswith(f"bzgate: cannot read {f0}")


def test_the_kits_f0_is_accepted():
    assert read_f0(json.dumps(f0_json()), "f0.json")[0].time_end == DAY + 2 * 86400 - 1
