"""An F0 file is input from outside: copies of one record, records that share days, or far more
days than any trace needs must not make `bzgate trace` expand the same keys again and again or
hold every ID at once. Each daily key is expanded once, and only a few batches of IDs are held."""

import json
import tracemalloc

import pytest
from click.testing import CliRunner
from tracekit import DAY, F0_KEY, SLOT2_FROM, SLOT2_ID, f0_json, sighting, sightings_db

from bzcore import ids
from bzgate import store
from bzgate.cli import main
from bzgate.trace import f0 as f0read
from bzgate.trace import matching as trace
from bzgate.trace.f0 import F0Record

KEY = bytes.fromhex(F0_KEY)
YEAR = F0Record(KEY, DAY, 96, DAY + 365 * ids.DAY_SECONDS - 1)
MB = 2**20


@pytest.fixture(scope="module")
def db(tmp_path_factory):
    return sightings_db(tmp_path_factory.mktemp("bounds") / "t.db",
                        [sighting(SLOT2_ID, "front", SLOT2_FROM + 300)])


def traced(db, records):
    """The trace's result and the peak of Python's memory (numpy's arrays included) meanwhile."""
    with store.open_store(db) as conn:
        tracemalloc.start()
        try:
            result = trace.trace(conn, records)
            return result, tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()


def test_two_thousand_copies_of_a_year_long_record_expand_one_record(db):
    result, peak = traced(db, [YEAR] * 2000)
    assert result.ids_expanded == 365 * 96
    assert [m.id for m in result.matches] == [SLOT2_ID]
    assert peak < 16 * MB


def test_records_that_share_days_expand_each_day_once_as_far_as_the_longest(db):
    records = [F0Record(KEY, DAY, 96, DAY + 10 * ids.DAY_SECONDS - 1),
               F0Record(KEY, DAY, 96, DAY + 20 * ids.DAY_SECONDS - 1),  # republished, longer
               F0Record(ids.daily_key(KEY, 5), DAY + 5 * ids.DAY_SECONDS, 96,  # from day 6 on
                        DAY + 8 * ids.DAY_SECONDS - 1)]
    result, _ = traced(db, records)
    assert result.ids_expanded == 20 * 96
    assert [m.id for m in result.matches] == [SLOT2_ID]


def test_ids_are_held_a_few_batches_at_a_time(db, monkeypatch):
    monkeypatch.setattr(trace, "BATCH_IDS", 2_000)
    records = [F0Record(bytes([n]) * 32, DAY, 96, DAY + 30 * ids.DAY_SECONDS - 1)
               for n in range(40)] + [YEAR]
    result, peak = traced(db, records)
    assert result.ids_expanded == (40 * 30 + 365) * 96  # 150,240 IDs: 1.8 MB of them alone
    assert [m.id for m in result.matches] == [SLOT2_ID]
    assert peak < 2 * MB  # 9 MB when every batch was held to the end


def test_more_distinct_days_than_a_trace_takes_are_refused_in_one_line(db, tmp_path, monkeypatch):
    monkeypatch.setattr(trace, "MAX_DAYS", 30)
    f0_file = tmp_path / "f0.json"
    f0_file.write_text(json.dumps(f0_json(time_end=DAY + 31 * ids.DAY_SECONDS - 1)))
    result = CliRunner().invoke(main, ["trace", "--f0", str(f0_file), "--db", str(db)])
    assert result.exit_code == 2, result.output
    assert "more than 30 distinct days of keys" in result.stderr
    assert len(result.stderr.splitlines()) == 1


def test_an_f0_file_larger_than_any_f0_list_is_refused_unread(db, tmp_path, monkeypatch):
    monkeypatch.setattr(f0read, "MAX_FILE_BYTES", 1000)
    f0_file = tmp_path / "f0.json"
    f0_file.write_text(json.dumps({"data": f0_json()["data"] * 20}))
    result = CliRunner().invoke(main, ["trace", "--f0", str(f0_file), "--db", str(db)])
    assert result.exit_code == 2, result.output
    assert f"{f0_file} is larger than 1,000 bytes" in result.stderr


def test_the_summary_says_how_many_copies_were_left_out(db, tmp_path):
    f0_file = tmp_path / "f0.json"
    f0_file.write_text(json.dumps({"data": f0_json()["data"] * 3}))
    result = CliRunner().invoke(main, ["trace", "--f0", str(f0_file), "--db", str(db)])
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("3 F0 record(s), 2 of them copies left out, 192 IDs")
