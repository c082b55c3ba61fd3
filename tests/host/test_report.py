"""`bzgate report` on a known dataset: the numbers per day, site and gate and in total, in
Markdown, HTML and xlsx, Vietnamese and English, with the chart; an empty range is said plainly;
names from users stay text in every format."""

import base64
import json
import re
import zipfile

import docx
import openpyxl
import pytest
from click.testing import CliRunner
from services import DB_KINDS, new_database
from exportkit import Builder, ident, utc

from bzcore.record import VERDICT_NAMES
from bzgate.cli import main
from bzgate.report import figures

PNG = b"\x89PNG\r\n\x1a\n"
HEAD = "Sở Y tế"


@pytest.fixture(scope="module", params=DB_KINDS)
def db(request, tmp_path_factory, service):
    with new_database(request.param, tmp_path_factory.mktemp("report"), service) as target:
        yield _filled(target)


def _filled(path):
    """18/09 (local): 8 people at the front gate, 5 allowed, 1 denied, 1 no app, 1 exempt, and 2
    exits (nobody coming in); busiest 08-09.
    19/09 (local): 4 at the back gate, 3 of them just after local midnight (17:3x UTC), 3 allowed.
    Devices: 7 on the 18th (5 Android, 2 iOS; one of them at a second gate, "side", too), 2 on
    the 19th (1 of them seen on the 18th too)."""
    rows = Builder(path)
    for minute, verdict in enumerate(("allow", "allow", "deny", "allow", "allow")):
        rows.add("decisions", utc(f"2020-09-18 01:{minute:02d}"), site=HEAD, verdict=verdict)
    rows.add("decisions", utc("2020-09-18 07:10"), site=HEAD)
    rows.add("decisions", utc("2020-09-18 07:20"), site=HEAD, verdict="no-app", mode="monitor")
    rows.add("decisions", utc("2020-09-18 07:30"), site=HEAD, verdict="exempt")
    for minute in (40, 50):
        rows.add("decisions", utc(f"2020-09-18 07:{minute}"), site=HEAD, verdict="exit")
    for minute, verdict in zip((30, 31, 32), ("allow", "allow", "deny")):
        rows.add("decisions", utc(f"2020-09-18 17:{minute:02d}"), gate="back", site="Nhà máy",
                 verdict=verdict)
    rows.add("decisions", utc("2020-09-19 02:15"), gate="back", site="Nhà máy")
    rows.add("decisions", 3600, clock_valid=False, site=HEAD)  # cannot be placed in time
    for n in (1, 1, 2, 3, 4, 5):
        rows.add("sightings", utc("2020-09-18 01:00") + n, site=HEAD, id=ident(n))
    for n in (6, 7):
        rows.add("sightings", utc("2020-09-18 07:00") + n, site=HEAD, id=ident(n), platform="ios")
    rows.add("sightings", utc("2020-09-18 07:30"), site=HEAD, id=None, platform="ios")
    rows.add("sightings", utc("2020-09-18 07:40"), gate="side", site=HEAD, id=ident(2))
    rows.add("sightings", utc("2020-09-18 17:40"), gate="back", site="Nhà máy", id=ident(1))
    rows.add("sightings", utc("2020-09-18 17:41"), gate="back", site="Nhà máy", id=ident(8),
             platform="ios")
    rows.conn.close()
    return path


def run(db, *args, code=0):
    result = CliRunner().invoke(main, ["report", "--db", str(db), *args])
    assert result.exit_code == code, result.output
    return result


def md_table(text):
    """The Markdown table's rows as lists of cell texts (bold marks dropped), header first; an
    escaped pipe stays in its cell."""
    lines = [line for line in text.splitlines() if line.startswith("|")]
    return [[cell.strip().strip("*") for cell in re.split(r"(?<!\\)\|", line[1:-1])]
            for line in lines if not line.startswith("|:")]


def test_markdown_by_day_in_vietnamese(db, tmp_path):
    out = tmp_path / "r.md"
    run(db, "--format", "md", "-o", str(out))
    text = out.read_text(encoding="utf-8")
    header, day1, day2, total = md_table(text)
    assert header == ["STT", "Ngày", "Lượt người qua cổng", "Cho phép", "Không có ứng dụng",
                      "Miễn trừ", "Tỷ lệ tuân thủ", "Lượt ra", "Thiết bị Bluezone (không trùng)",
                      "Android", "iOS", "Giờ cao điểm"]
    assert day1 == ["1", "18/09/2020", "8", "5", "2", "1", "71,4 %", "2", "7", "5", "2",
                    "08:00–09:00"]
    assert day2 == ["2", "19/09/2020", "4", "3", "1", "0", "75,0 %", "0", "2", "1", "1",
                    "00:00–01:00"]
    assert total == ["", "Tổng cộng", "12", "8", "3", "1", "72,7 %", "2", "8", "5", "3",
                     "08:00–09:00"]
    assert "chưa đặt đồng hồ, không được tính: 1." in text
    assert "![Tỷ lệ tuân thủ theo ngày](r.png)" in text
    assert (tmp_path / "r.png").read_bytes().startswith(PNG)


def test_markdown_by_gate_in_english(db):
    result = run(db, "--format", "md", "--by", "gate", "--lang", "en")
    header, back, front, side, total = md_table(result.output)
    assert header[1] == "Gate" and header[6] == "Compliance"
    assert back == ["1", "Nhà máy · back", "4", "3", "1", "0", "75.0 %", "0", "2", "1", "1",
                    "00:00–01:00"]
    assert front[1:8] == ["Sở Y tế · front", "8", "5", "2", "1", "71.4 %", "2"]
    assert side == ["3", "Sở Y tế · side", "0", "0", "0", "0", "–", "0", "1", "1", "0", "–"]
    assert total[1] == "Total" and total[6] == "72.7 %" and total[7:9] == ["2", "8"]


def test_html_has_the_table_and_the_chart_inside(db, tmp_path):
    out = tmp_path / "r.html"
    run(db, "--by", "site", "--lang", "en", "-o", str(out))
    text = out.read_text(encoding="utf-8")
    rows = [re.findall(r"<td>(.*?)</td>", row) for row in re.findall(r"<tr[^>]*>(.*?)</tr>", text)]
    assert rows[1:] == [
        ["1", "Nhà máy", "4", "3", "1", "0", "75.0 %", "0", "2", "1", "1", "00:00–01:00"],
        ["2", "Sở Y tế", "8", "5", "2", "1", "71.4 %", "2", "7", "5", "2", "08:00–09:00"],
        ["", "Total", "12", "8", "3", "1", "72.7 %", "2", "8", "5", "3", "08:00–09:00"]]
    (chart,) = re.findall(r'src="data:image/png;base64,([^"]+)"', text)
    assert base64.b64decode(chart).startswith(PNG)
    assert '<html lang="en">' in text and '<meta charset="utf-8">' in text


def test_html_in_vietnamese_by_default_to_standard_output(db):
    text = run(db, "--from", "2020-09-19").output
    assert "BÁO CÁO KIỂM SOÁT BLUEZONE TẠI CỔNG" in text and "Tổng cộng" in text
    assert "<td>19/09/2020</td>" in text and "18/09/2020</td>" not in text


def test_xlsx_holds_typed_numbers_and_the_chart(db, tmp_path):
    out = tmp_path / "r.xlsx"
    run(db, "--format", "xlsx", "-o", str(out))
    sheet = openpyxl.load_workbook(out)["Báo cáo"]
    values = [[cell.value for cell in row] for row in sheet.iter_rows()]
    start = next(i for i, row in enumerate(values) if row[0] == "STT")
    day1, day2, total = values[start + 1:start + 4]
    assert day1[:6] == [1, "18/09/2020", 8, 5, 2, 1]
    assert day1[6] == pytest.approx(5 / 7) and day1[7:] == [2, 7, 5, 2, "08:00–09:00"]
    assert day2[2] == 4 and day2[6] == pytest.approx(0.75)
    assert total[1] == "Tổng cộng" and total[2:6] == [12, 8, 3, 1]
    assert sheet.cell(start + 2, 7).number_format == "0.0%"
    assert len(sheet._images) == 1


def test_a_range_with_nothing_in_it_says_so_and_writes_nothing(db, tmp_path):
    out = tmp_path / "none.html"
    result = run(db, "--from", "2021-01-01", "--to", "2021-01-31", "-o", str(out), code=1)
    assert "no decisions or sightings from 2021-01-01 00:00 to 2021-02-01 00:00" in result.output
    assert "nothing to report" in result.output and not out.exists()


def test_each_report_is_audited(db, tmp_path):
    run(db, "--by", "gate", "--gate", "back", "--format", "md", "--lang", "en")
    entry = json.loads(Builder(db).audit("report")[-1])
    assert (entry["by"], entry["format"], entry["lang"], entry["gates"]) == (
        "gate", "md", "en", ["back"])


FORMULA = '=HYPERLINK("http://example.com","x")'


@pytest.fixture
def odd_names(tmp_path):
    """Sites as people may type them (or an older board took them): a formula, a pipe, a line."""
    rows = Builder(tmp_path / "odd.db")
    rows.add("decisions", utc("2020-09-18 01:00"), site=FORMULA)
    rows.add("decisions", utc("2020-09-18 01:01"), site="Nhà|máy\nB", gate="back")
    rows.add("decisions", utc("2020-09-18 01:02"), site="@SUM(1)", gate="side")
    rows.conn.close()
    return tmp_path / "odd.db"


def test_xlsx_writes_a_site_that_looks_like_a_formula_as_text(odd_names, tmp_path):
    out = tmp_path / "r.xlsx"
    run(odd_names, "--by", "site", "--format", "xlsx", "-o", str(out))
    sheet = openpyxl.load_workbook(out)["Báo cáo"]
    cells = {cell.value: cell for row in sheet.iter_rows() for cell in row}
    for name in (FORMULA, "@SUM(1)"):
        assert cells[name].data_type == "s" and cells[name].quotePrefix
    with zipfile.ZipFile(out) as book:
        assert "<f>" not in book.read("xl/worksheets/sheet1.xml").decode()


def test_markdown_keeps_a_site_with_a_pipe_or_a_newline_in_its_cell(odd_names):
    text = run(odd_names, "--by", "site", "--format", "md").output
    assert "| 3 | Nhà\\|máy\\x0aB | 1 |" in text
    assert len(md_table(text)) == 5 and all(len(row) == 12 for row in md_table(text))


def test_every_verdict_of_the_firmware_is_counted_by_its_name():
    """The contract with the firmware: a verdict the report does not know would be left out."""
    counted = {name for names in figures.COUNTED.values() for name in names}
    assert set(VERDICT_NAMES.values()) <= counted


def test_docx_writes_names_from_users_as_plain_text(odd_names, tmp_path):
    org = tmp_path / "org.csv"
    org.write_text("organisation,Sở Y tế\nrecipient,Sở Thông tin và Truyền thông\nplace,Huế\n"
                   "unit,headcount,gates\nA,10,front\n", encoding="utf-8")
    rows = Builder(odd_names)
    rows.add("decisions", utc("2020-09-18 02:00"), site="Kho\x01", gate="store", board="b2")
    rows.conn.close()
    out = tmp_path / "r.docx"
    run(odd_names, "--by", "site", "--org", str(org), "--format", "docx", "-o", str(out))
    names = [row.cells[1].text for row in docx.Document(out).tables[1].rows]
    assert names[1:-1] == [FORMULA, "@SUM(1)", "Kho\ufffd", "Nhà|máy\nB"]
    with zipfile.ZipFile(out) as document:
        body = document.read("word/document.xml").decode()
    assert "instrText" not in body and "fldSimple" not in body
