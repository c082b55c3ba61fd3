"""--from and --to at the ends of the calendar: a range that reaches past the times a record can
hold means no bound on that side; one that no record can fall in is a one-line error."""

import pytest
from click.testing import CliRunner
from exportkit import Builder, utc

from bzgate.cli import main


@pytest.fixture
def db(tmp_path):
    rows = Builder(tmp_path / "bzgate.db")
    rows.add("decisions", utc("2020-09-18 01:00"))
    rows.add("decisions", utc("2020-09-19 01:00"))
    rows.conn.close()
    return tmp_path / "bzgate.db"


def bzgate(db, *args):
    return CliRunner().invoke(main, [*args, "--db", str(db)])


@pytest.mark.parametrize("bounds", [("--to", "9999-12-31"),
                                    ("--from", "0001-01-01", "--to", "9999-12-31")])
def test_a_range_past_the_records_times_exports_everything(db, bounds):
    result = bzgate(db, "export", "--what", "decisions", "--ids", "none", *bounds)
    assert result.exit_code == 0, result.output
    assert result.stderr == "2 decisions exported\n"


def test_a_report_from_the_first_day_of_the_calendar_covers_the_records(db):
    result = bzgate(db, "report", "--from", "0001-01-01", "--to", "9999-12-31", "--format", "md",
                    "--lang", "en")
    assert result.exit_code == 0, result.output
    assert "2020-09-18 08:00" in result.stdout  # the period: from the first record
    assert "0001" not in result.stdout and "9999" not in result.stdout


@pytest.mark.parametrize("command", [("export", "--what", "decisions"), ("report",)])
@pytest.mark.parametrize("bounds, message", [
    (("--from", "9999-12-31T23:59Z"), "--from 9999-12-31T23:59Z is after 2106-02-07 06:28:15 UTC"),
    (("--from", "9999-12-31"), "--from 9999-12-31 is after 2106-02-07 06:28:15 UTC"),
    (("--to", "0001-01-01"), "--to 0001-01-01 is before 1970-01-01 00:00:00 UTC"),
    (("--to", "1969-12-31T23:00Z"), "--to 1969-12-31T23:00Z is before 1970-01-01 00:00:00 UTC")])
def test_a_range_no_record_can_be_in_is_a_one_line_usage_error(db, command, bounds, message):
    result = bzgate(db, *command, *bounds)
    assert result.exit_code == 2, result.output
    assert message in result.stderr and len(result.stderr.splitlines()) == 1


@pytest.mark.parametrize("week, message", [
    ("9999-W52", "--week 9999-W52 is after 2106-02-07 06:28:15 UTC"),
    ("0001-W01", "--week 0001-W01 is before 1970-01-01 00:00:00 UTC")])
def test_a_week_no_record_can_be_in_is_a_one_line_usage_error(db, week, message):
    result = bzgate(db, "report", "--week", week)
    assert result.exit_code == 2, result.output
    assert message in result.stderr and len(result.stderr.splitlines()) == 1
