"""A site, gate id or event text is free text (a site holds up to 64 characters of anything): an
export opened in Excel or LibreOffice must show it as text, never run it as a formula."""

import csv
import io
import json
import zipfile

import openpyxl
import pytest
from click.testing import CliRunner
from exportkit import Builder, utc

from bzgate.cli import main

LINK = '=HYPERLINK("http://x","y")'
FORMULAS = [LINK, "+1+2", "-2+3", "@SUM(A1)", "\tTab", "\rCR"]


@pytest.fixture
def db(tmp_path):
    rows = Builder(tmp_path / "bzgate.db")
    for n, text in enumerate(FORMULAS):
        rows.add("events", utc("2020-09-18 01:00") + n, site=text, gate=text, text=text)
    rows.add("events", utc("2020-09-18 02:00"), site="Tầng 2 = lối vào", text="a-b")
    rows.conn.close()
    return tmp_path / "bzgate.db"


def export(db, *args):
    result = CliRunner().invoke(main, ["export", "--db", str(db), "--what", "events", *args])
    assert result.exit_code == 0, result.output
    return result


def test_csv_cells_that_would_be_formulas_start_with_an_apostrophe_json_lines_keep_them(db, tmp_path):
    out = tmp_path / "e.csv"
    export(db, "-o", str(out))
    rows = list(csv.DictReader(io.StringIO(out.read_bytes().decode("utf-8-sig"), newline="")))
    for row, text in zip(rows, FORMULAS):
        assert (row["site"], row["gate_id"], row["text"]) == ("'" + text,) * 3
    assert (rows[-1]["site"], rows[-1]["text"]) == ("Tầng 2 = lối vào", "a-b")
    assert rows[0]["detail"] == "0"  # numbers stay numbers
    lines = export(db, "--format", "jsonl").stdout.splitlines()  # data for programs, not a sheet
    assert [json.loads(line)["site"] for line in lines[:len(FORMULAS)]] == FORMULAS


def test_xlsx_cells_that_look_like_formulas_are_text_kept_as_text_when_edited(db, tmp_path):
    out = tmp_path / "e.xlsx"
    export(db, "--format", "xlsx", "-o", str(out))
    sheet = openpyxl.load_workbook(out)["events"]
    header = [cell.value for cell in sheet[1]]
    site = header.index("site")
    for row, text in zip(list(sheet.iter_rows(min_row=2)), FORMULAS):
        cell = row[site]
        assert (cell.value, cell.data_type) == (text, "s")
        assert cell.quotePrefix  # Excel keeps it text when the cell is edited, as after a '
    plain = list(sheet.iter_rows(min_row=2))[-1][site]
    assert plain.value == "Tầng 2 = lối vào" and not plain.quotePrefix
    with zipfile.ZipFile(out) as book:
        assert b"<f>" not in book.read("xl/worksheets/sheet1.xml")

