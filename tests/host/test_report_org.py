"""The organisation file of `bzgate report --org`: what it holds, and each mistake reported at
once, one line each, by row and column."""

import pytest
from click.testing import CliRunner

from bzgate.cli import main
from bzgate.errors import UserError
from bzgate.report import org

HEAD = "organisation,Sở Nội vụ\nrecipient,Sở Thông tin và Truyền thông\nplace,Hà Nội\n"
TABLE = "unit,headcount,smartphones,gates\n"


def errors(text):
    with pytest.raises(UserError) as raised:
        org.parse(text)
    return raised.value.message.splitlines()


def test_the_header_block_and_the_units_in_their_order():
    found = org.parse(HEAD + "code,SNV\n\n" + TABLE + "Văn phòng,40,36,front side\n"
                      "Phòng Tổ chức,12,10,back\n")
    assert (found.organisation, found.recipient, found.place, found.code) == (
        "Sở Nội vụ", "Sở Thông tin và Truyền thông", "Hà Nội", "SNV")
    assert [(unit.name, unit.headcount, unit.smartphones, unit.gates) for unit in found.units] == [
        ("Văn phòng", 40, 36, ("front", "side")), ("Phòng Tổ chức", 12, 10, ("back",))]
    assert found.has_smartphones
    assert (found.unit_of("side"), found.unit_of("back"), found.unit_of("lobby")) == (
        "Văn phòng", "Phòng Tổ chức", None)


def test_smartphones_may_be_left_out(tmp_path):
    path = tmp_path / "org.csv"
    path.write_bytes(("\ufeff" + HEAD + "unit,headcount,gates\nVăn phòng,40,front\n")
                     .encode("utf-8"))  # with the BOM Excel writes
    found = org.load(path)
    assert found.organisation == "Sở Nội vụ" and not found.has_smartphones
    assert found.units[0].smartphones is None


def test_every_mistake_is_named_by_row_and_column_all_at_once():
    assert errors("organisation,Sở Nội vụ\ncolour,blue\nplace,\n" + TABLE
                  + ",0,x,\nPhòng A,10,11,back\nPhòng A,5,5,back\n") == [
        "row 2, column 1: 'colour' is not a key: use organisation, recipient, place, parent, "
        "code, signer_title, signer, then the table from unit,headcount,smartphones,gates",
        "row 3, column 2: place needs a value",
        "row 4, column 1: recipient is missing: a row recipient,<value> before the table",
        "row 5, column unit: the unit needs a name",
        "row 5, column headcount: a whole number above 0 is needed, got '0'",
        "row 5, column smartphones: a whole number above 0 is needed, got 'x'",
        "row 5, column gates: at least one gate id is needed (separated by spaces)",
        "row 6, column smartphones: 11 is more than the headcount (10)",
        "row 7, column unit: 'Phòng A' is listed twice",
        "row 7, column gates: gate 'back' is already in 'Phòng A' (a gate belongs to one unit)"]


def test_a_key_given_twice():
    assert errors(HEAD + "place,Huế\n" + TABLE + "A,1,1,g\n") == [
        "row 4, column 1: place is given twice"]


def test_a_gate_in_two_units():
    assert errors(HEAD + TABLE + "A,10,9,front\nB,5,5,lobby front\n") == [
        "row 6, column gates: gate 'front' is already in 'A' (a gate belongs to one unit)"]


def test_the_table_header_names_its_columns():
    assert errors(HEAD + "unit,staff,gates\nA,10,front\n") == [
        "row 4, column 2: 'staff' is not a column: use unit,headcount,smartphones,gates",
        "row 4, column headcount: this column is missing from the table's header"]


def test_no_table_or_an_empty_one():
    assert errors(HEAD) == ["row 3, column 1: no table: a header row unit,headcount,"
                            "smartphones,gates and a row per unit"]
    assert errors(HEAD + TABLE) == ["row 4, column unit: the table has no units under its header"]


def test_a_file_not_in_utf8_names_the_file(tmp_path):
    path = tmp_path / "org.csv"
    path.write_bytes((HEAD + TABLE + "Phòng A,1,1,g\n").encode("utf-16"))
    with pytest.raises(UserError, match=r"org.csv: not UTF-8 \(byte \d+\): save it as CSV UTF-8"):
        org.load(path)


def test_the_command_names_the_file_on_each_line(tmp_path):
    path = tmp_path / "org.csv"
    path.write_text(HEAD + TABLE + "A,x,1,g\nB,2,y,h\n", encoding="utf-8")
    result = CliRunner().invoke(main, ["report", "--org", str(path), "--db", str(path)])
    assert result.exit_code == 2
    assert result.output.splitlines() == [
        f"bzgate: {path}: 2 mistakes, fix and run again:",
        "  row 5, column headcount: a whole number above 0 is needed, got 'x'",
        "  row 6, column smartphones: a whole number above 0 is needed, got 'y'"]


def test_the_template_prints_and_parses():
    result = CliRunner().invoke(main, ["report", "--org-template"])
    assert result.exit_code == 0, result.output
    found = org.parse(result.output)
    assert found.recipient == "Sở Thông tin và Truyền thông" and len(found.units) >= 2
