"""`bzgate report --by unit --org FILE --week W`: each unit's figures against its headcount, in
Markdown, xlsx and the Word file on the administrative form (read back with python-docx)."""

import datetime as dt
import re

import docx
import openpyxl
import pytest
from click.testing import CliRunner
from exportkit import Builder, utc
from services import DB_KINDS, new_database
from test_report import md_table

from bzgate.cli import main
from bzgate.localtime import LOCAL, local_time
from bzgate.report.labels import date_line
from bzgate.store.selection import iso_week, week_bounds

ORG = """organisation,Sở Nội vụ
recipient,Sở Thông tin và Truyền thông
place,Hà Nội
parent,UBND thành phố Hà Nội
code,SNV
signer_title,Giám đốc
signer,Trần Thị Bình

unit,headcount,smartphones,gates
Văn phòng,40,36,front
Phòng Tổng hợp,12,10,back side
Thanh tra,8,8,garage
"""
HEADERS = ["STT", "Đơn vị", "Tổng số CCVCNLĐ", "Số người có điện thoại thông minh",
           "Lượt người qua cổng", "Cho phép", "Không có ứng dụng", "Miễn trừ", "Tỷ lệ tuân thủ",
           "Số người sử dụng Bluezone (ước tính)", "Tỷ lệ cài đặt trên tổng số",
           "Tỷ lệ cài đặt trên số điện thoại thông minh", "Lượt ra"]
ROWS = [["1", "Văn phòng", "40", "36", "10", "6", "2", "2", "75,0 %", "30", "75,0 %", "83,3 %",
         "3"],
        ["2", "Phòng Tổng hợp", "12", "10", "5", "4", "1", "0", "80,0 %", "10", "83,3 %",
         "100,0 %", "0"],
        ["3", "Thanh tra", "8", "8", "0", "0", "0", "0", "–", "–", "–", "–", "0"],
        ["4", "Khác", "–", "–", "3", "2", "1", "0", "66,7 %", "–", "–", "–", "0"],
        ["", "Tổng cộng", "60", "54", "18", "12", "4", "2", "75,0 %", "40", "66,7 %", "74,1 %",
         "3"]]
SUBJECT = "Kết quả sử dụng ứng dụng Bluezone tuần 48 năm 2026 (từ 23/11 đến 29/11/2026)"


@pytest.fixture(scope="module", params=DB_KINDS)
def db(request, tmp_path_factory, service):
    with new_database(request.param, tmp_path_factory.mktemp("units"), service) as target:
        yield _filled(target)


def _filled(path):
    """Week 48 of 2026 (Monday 23/11 to Sunday 29/11, Vietnam time):
    Văn phòng (gate front), Monday 08:0x: 6 allowed, 1 denied, 1 no app, 2 exempt, 3 exits:
      compliance 6/8 = 75 %, 0.75 x 40 = 30 staff running Bluezone, 30/36 smartphones;
    Phòng Tổng hợp (back, side), Friday: 4 allowed, 1 no app: 80 %, 0.8 x 12 = 9.6 -> 10;
    Thanh tra (garage): nobody; gate visitor, in no unit: 2 allowed, 1 denied.
    Outside the week: one just before Monday 00:00 and one at Monday 00:30 after it."""
    rows = Builder(path)
    verdicts = ["allow"] * 6 + ["deny", "no-app", "exempt", "exempt", "exit", "exit", "exit"]
    for minute, verdict in enumerate(verdicts):
        rows.add("decisions", utc(f"2026-11-23 01:{minute:02d}"), site="Trụ sở", verdict=verdict)
    for minute, verdict in enumerate(("allow", "allow", "allow", "no-app")):
        rows.add("decisions", utc(f"2026-11-27 02:{minute:02d}"), gate="back", verdict=verdict)
    rows.add("decisions", utc("2026-11-27 03:00"), gate="side")
    for minute, verdict in enumerate(("allow", "allow", "deny")):
        rows.add("decisions", utc(f"2026-11-28 04:{minute:02d}"), gate="visitor", verdict=verdict)
    rows.add("decisions", utc("2026-11-22 16:59"), verdict="deny")  # Sunday 23:59 local
    rows.add("decisions", utc("2026-11-29 17:30"), verdict="deny")  # Monday 30/11 00:30 local
    rows.add("decisions", 3600, clock_valid=False)
    rows.conn.close()
    return path


@pytest.fixture(scope="module")
def org_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("org") / "org.csv"
    path.write_text(ORG, encoding="utf-8")
    return path


def run(db, *args, code=0):
    result = CliRunner().invoke(main, ["report", "--db", str(db), *args])
    assert result.exit_code == code, result.output
    return result


def test_markdown_by_unit_in_the_week(db, org_file):
    text = run(db, "--org", str(org_file), "--week", "2026-W48", "--format", "md").output
    assert md_table(text) == [HEADERS] + ROWS
    assert "tỷ lệ tuân thủ × tổng số CCVCNLĐ của đơn vị (làm tròn), coi những người qua cổng " \
           "là mẫu đại diện" in text
    assert "Khác: các cổng không thuộc đơn vị nào" in text
    assert "chưa đặt đồng hồ, không được tính: 1." in text


def test_the_week_is_monday_to_sunday_in_vietnam_time(db, org_file):
    """The two decisions just outside the week are in the days around it."""
    text = run(db, "--org", str(org_file), "--from", "2026-11-22", "--to", "2026-11-30",
               "--format", "md", "--lang", "en").output
    assert md_table(text)[1][4] == "12"  # front: 10 in the week, 2 more on 22/11 and 30/11


def test_docx_on_the_administrative_form(db, org_file, tmp_path):
    out = tmp_path / "bao-cao.docx"
    run(db, "--org", str(org_file), "--week", "2026-W48", "--format", "docx", "-o", str(out))
    document = docx.Document(out)
    section = document.sections[0]
    assert (round(section.page_width.mm), round(section.page_height.mm)) == (210, 297)  # A4
    assert [round(margin.mm) for margin in (section.top_margin, section.bottom_margin,
                                            section.left_margin, section.right_margin)] == [
        20, 20, 30, 15]
    assert document.styles["Normal"].font.name == "Times New Roman"

    head, data, signature = document.tables
    office, nation = (cell.text.splitlines() for cell in head.rows[0].cells)
    assert office[:2] == ["UBND THÀNH PHỐ HÀ NỘI", "SỞ NỘI VỤ"]
    assert nation[:2] == ["CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", "Độc lập - Tự do - Hạnh phúc"]
    number, when = head.rows[1].cells
    assert re.fullmatch(r"Số: +/BC-SNV", number.text)
    today = local_time(int(dt.datetime.now(dt.timezone.utc).timestamp())).date()
    assert when.text == date_line("Hà Nội", today, "vi")
    assert re.fullmatch(r"Hà Nội, ngày \d\d tháng \d\d? năm \d{4}", when.text)
    assert all(run.italic for run in when.paragraphs[0].runs)

    texts = [paragraph.text for paragraph in document.paragraphs]
    assert texts[:2] == ["BÁO CÁO", SUBJECT]
    assert [[cell.text for cell in row.cells] for row in data.rows] == [HEADERS] + ROWS
    assert all(run.bold for cell in data.rows[-1].cells for run in cell.paragraphs[0].runs)
    notes = texts.index("Ghi chú:")
    assert any("mẫu đại diện" in text for text in texts[notes:])
    assert "- Bản ghi lúc cổng chưa đặt đồng hồ, không được tính: 1." in texts[notes:]

    recipients, signer = (cell.text.splitlines() for cell in signature.rows[0].cells)
    assert recipients == ["Nơi nhận:", "- Sở Thông tin và Truyền thông;", "- Lưu: VT."]
    assert [line for line in signer if line] == ["GIÁM ĐỐC", "(Ký, ghi rõ họ tên)",
                                                 "Trần Thị Bình"]
    assert len(document.inline_shapes) == 1  # the chart of compliance by unit


def test_docx_in_english(db, org_file, tmp_path):
    out = tmp_path / "report.docx"
    run(db, "--org", str(org_file), "--week", "2026-W48", "--format", "docx", "--lang", "en",
        "-o", str(out))
    document = docx.Document(out)
    texts = [paragraph.text for paragraph in document.paragraphs]
    assert texts[:2] == ["REPORT", "Bluezone use in week 48 of 2026 (2026-11-23 to 2026-11-29)"]
    assert document.tables[1].rows[4].cells[1].text == "Other"
    assert [cell.text for cell in document.tables[1].rows[5].cells[1:5]] == [
        "Total", "60", "54", "18"]


def test_xlsx_by_unit_is_typed_with_the_chart(db, org_file, tmp_path):
    out = tmp_path / "units.xlsx"
    run(db, "--org", str(org_file), "--week", "2026-W48", "--format", "xlsx", "-o", str(out))
    sheet = openpyxl.load_workbook(out)["Báo cáo"]
    values = [[cell.value for cell in row] for row in sheet.iter_rows()]
    start = next(i for i, row in enumerate(values) if row[0] == "STT")
    assert values[start] == HEADERS
    office, total = values[start + 1], values[start + 5]
    assert office[:8] == [1, "Văn phòng", 40, 36, 10, 6, 2, 2]
    assert office[8] == pytest.approx(0.75) and office[9] == 30
    assert office[10] == pytest.approx(0.75) and office[11] == pytest.approx(30 / 36)
    assert total[1:8] == ["Tổng cộng", 60, 54, 18, 12, 4, 2] and total[9] == 40
    assert values[start + 3][8:12] == ["–", "–", "–", "–"]
    for column in (9, 11, 12):
        assert sheet.cell(start + 2, column).number_format == "0.0%"
    assert len(sheet._images) == 1


@pytest.mark.parametrize("args, message", [
    (["--by", "unit"], "--by unit needs the organisation file: add --org FILE"),
    (["--format", "docx", "-o", "r.docx"], "docx needs the organisation file: add --org FILE"),
    (["--format", "docx"], "docx needs a file: add -o FILE"),
    (["--week", "2026-W48", "--from", "2026-11-23"], "--week is a range of its own"),
    (["--week", "48"], "--week must be an ISO week like 2026-W48, or last, got '48'"),
    (["--week", "2026-W54"], "--week must be an ISO week like 2026-W48"),
])
def test_options_that_do_not_go_together(db, args, message):
    assert message in run(db, *args, code=2).output


def _local(text):
    return int(dt.datetime.fromisoformat(text).replace(tzinfo=LOCAL).timestamp())


@pytest.mark.parametrize("now, monday", [
    ("2026-12-01 10:00", "2026-11-23"),  # a Tuesday: the week before
    ("2026-11-30 00:00", "2026-11-23"),  # Monday midnight: the week that has just ended
    ("2026-11-29 23:59", "2026-11-16"),  # Sunday night: this week is not over yet
    ("2027-01-03 12:00", "2026-12-21"),  # Sunday of 2026-W53: its Monday's week before
])
def test_last_week_is_the_last_full_iso_week_in_vietnam_time(now, monday):
    start, end = week_bounds("last", _local(now))
    assert (start, end - start) == (_local(f"{monday} 00:00"), 7 * 86400)


def test_an_iso_week_from_monday_to_monday():
    start, end = week_bounds("2026-W53", 0)
    assert (local_time(start), local_time(end)) == (dt.datetime(2026, 12, 28),
                                                    dt.datetime(2027, 1, 4))
    assert iso_week(start, end) == (2026, 53) and iso_week(start, end - 1) is None
