"""A database missing one of bzgate's tables is named as damaged, not met with a driver's
traceback halfway through a command."""

import pytest
from click.testing import CliRunner
from exportkit import Builder, utc

from bzgate import store
from bzgate.cli import main


@pytest.mark.parametrize("table", ["decisions", "audit"])
def test_a_dropped_table_is_named_in_one_line(db_target, table):
    rows = Builder(db_target)
    rows.add("decisions", utc("2020-09-18 01:00"))
    with store.transaction(rows.conn):
        rows.conn.execute(f"DROP TABLE {table}")
    rows.conn.close()
    for command in (["export", "--what", "decisions", "--ids", "none"], ["report"]):
        result = CliRunner().invoke(main, [*command, "--db", str(db_target)])
        assert result.exit_code == 2, result.output
        assert result.stderr.startswith(f"bzgate: {store.shown(db_target)} is damaged or not a "
                                        f"bzgate database: it has no {table} table")
        assert len(result.stderr.splitlines()) == 1


def test_the_tables_checked_are_those_of_a_new_store(db_target):
    with store.open_store(db_target) as conn:
        assert set(store.TABLES) == conn.table_names() - {"bzgate_schema"}
