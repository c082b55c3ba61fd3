"""`bzgate export` on a real SQLite store: CSV for Excel, local times, xlsx types, ID policies,
filters, the audit table and clear errors."""

import csv
import datetime as dt
import hmac
import io
import json
import os
import random
import stat
import subprocess
import sys
from pathlib import Path

import openpyxl
import pytest
from click.testing import CliRunner
from services import DB_KINDS, new_database
from exportkit import Builder, ident, utc

from bzgate.export import tables as export

from bzgate.export import xlsx as xlsxstream
from bzgate.cli import main
from bzgate.localtime import LocalSeconds, local_text_maker, local_time, utc_text_maker, utc_time

BIN = Path(sys.executable).parent  # the venv that `make` built

SITE = "Sở Y tế Thành phố Hồ Chí Minh"
ID_A, ID_B = ident(0xA1), ident(0xB2)


@pytest.fixture(scope="module", params=DB_KINDS)
def db(request, tmp_path_factory, service):
    """Decisions on both sides of local midnight (17:00 UTC), at two sites and gates; in an
    SQLite file and in a PostgreSQL database."""
    with new_database(request.param, tmp_path_factory.mktemp("export"), service) as target:
        yield _filled(target)


def _filled(path):
    rows = Builder(path)
    rows.add("decisions", utc("2020-09-18 16:59"), site=SITE, id=ID_A)
    rows.add("decisions", utc("2020-09-18 17:30"), site=SITE, verdict="deny", platform=None,
             rssi=None, latency_ms=5012, presses=3)  # no phone: no RSSI; three presses answered
    rows.add("decisions", utc("2020-09-19 02:00"), gate="back", site="Nhà máy", id=ID_B,
             platform="ios")
    rows.add("decisions", 86_400, clock_valid=False, id=ID_A)  # before the clock was set
    rows.add("sightings", utc("2020-09-18 17:10"), site=SITE, id=ID_A)
    rows.add("sightings", utc("2020-09-18 17:12"), site=SITE, id=ID_B, platform="ios",
             source="gatt")
    rows.add("events", utc("2020-09-18 17:00"), site=SITE, code=2, name="config-error",
             text="near_rssi")
    rows.add("counts", utc("2020-09-18 17:01"), near=3, present=5, adverts=1200, drops=2)
    rows.conn.close()
    return path


@pytest.fixture(autouse=True)
def site_secret(monkeypatch, tmp_path):
    """IDs are hashed by default: the site secret, which a PostgreSQL database has no folder for."""
    monkeypatch.setenv("BZGATE_SECRET", str(tmp_path / "site.secret"))


FULL_IDS = ("--ids", "full", "--purpose", "test of the export")


def run(db, *args, ok=True):
    result = CliRunner().invoke(main, ["export", "--db", str(db), *args])
    if ok:
        assert result.exit_code == 0, result.output
    return result


def read_csv(path):
    raw = path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    return list(csv.DictReader(io.StringIO(raw.decode("utf-8-sig"), newline="")))


def audit_details(db, action="export"):
    return [json.loads(detail) for detail in Builder(db).audit(action)]


def test_csv_has_a_bom_and_keeps_vietnamese_site_names(db, tmp_path):
    out = tmp_path / "d.csv"
    run(db, "--what", "decisions", *FULL_IDS, "-o", str(out))
    rows = read_csv(out)
    assert len(rows) == 4
    assert [row["site"] for row in rows[1:3]] == [SITE, SITE]
    assert rows[1]["id"] == ID_A.hex().upper()
    assert b"\r\n" in out.read_bytes()  # as Excel writes CSV


def test_local_time_column_crosses_midnight_seven_hours_ahead_of_utc(db, tmp_path):
    out = tmp_path / "d.csv"
    run(db, "--what", "decisions", "-o", str(out))
    times = [(row["time_utc"], row["time_local"]) for row in read_csv(out)[1:3]]
    assert times == [("2020-09-18T16:59:00Z", "2020-09-18 23:59:00"),
                     ("2020-09-18T17:30:00Z", "2020-09-19 00:30:00")]


def test_a_date_range_means_whole_local_days(db, tmp_path):
    out = tmp_path / "d.csv"
    run(db, "--what", "decisions", "--from", "2020-09-19", "--to", "2020-09-19", "-o", str(out))
    assert [row["time_local"] for row in read_csv(out)] == ["2020-09-19 00:30:00",
                                                            "2020-09-19 09:00:00"]
    run(db, "--what", "decisions", "--to", "2020-09-18", "-o", str(out))
    assert [row["time_utc"] for row in read_csv(out)] == ["1970-01-02T00:00:00Z",
                                                          "2020-09-18T16:59:00Z"]


def test_iso_times_select_exactly_and_sites_and_gates_filter(db, tmp_path):
    out = tmp_path / "d.csv"
    run(db, "--what", "decisions", "--from", "2020-09-18T17:00Z", "--to", "2020-09-19T09:00",
        "-o", str(out))  # --to without an offset is local: 02:00 UTC, excluded
    assert [row["time_utc"] for row in read_csv(out)] == ["2020-09-18T17:30:00Z"]
    run(db, "--what", "decisions", "--site", "Nhà máy", "-o", str(out))
    assert [row["gate_id"] for row in read_csv(out)] == ["back"]
    run(db, "--what", "decisions", "--gate", "front", "--site", SITE, "-o", str(out))
    assert len(read_csv(out)) == 2


def test_a_deny_without_a_phone_has_no_rssi_and_a_decision_its_presses_in_every_format(db, tmp_path):
    out = tmp_path / "d.csv"
    run(db, "--what", "decisions", "-o", str(out))
    rows = read_csv(out)
    assert [(row["verdict"], row["rssi"], row["presses"]) for row in rows[1:3]] == [
        ("allow", "-50", "1"), ("deny", "", "3")]
    assert rows[2]["latency_ms"] == "5012"
    lines = run(db, "--what", "decisions", "--format", "jsonl").output.splitlines()
    deny = json.loads(lines[2])
    assert deny["rssi"] is None and deny["presses"] == 3 and json.loads(lines[1])["presses"] == 1
    out = tmp_path / "d.xlsx"
    run(db, "--what", "decisions", "--format", "xlsx", "-o", str(out))
    header, *cells = ([cell.value for cell in row] for row in openpyxl.load_workbook(out).active.rows)
    deny = dict(zip(header, cells[2]))
    assert deny["rssi"] is None and deny["presses"] == 3


def test_rows_without_a_valid_clock_are_flagged(db, tmp_path):
    out = tmp_path / "d.csv"
    run(db, "--what", "decisions", "-o", str(out))
    assert [row["clock_valid"] for row in read_csv(out)] == ["false", "true", "true", "true"]


def test_xlsx_cells_are_typed(db, tmp_path):
    out = tmp_path / "s.xlsx"
    run(db, "--what", "sightings", "--format", "xlsx", *FULL_IDS, "-o", str(out))
    sheet = openpyxl.load_workbook(out)["sightings"]
    header, first, second = ([cell.value for cell in row] for row in sheet.iter_rows())
    row = dict(zip(header, first))
    assert row["first_seen_utc"] == dt.datetime(2020, 9, 18, 17, 10)
    assert row["first_seen_local"] == dt.datetime(2020, 9, 19, 0, 10)
    assert sheet.cell(2, header.index("first_seen_local") + 1).is_date
    assert row["max_rssi"] == -55 and row["count"] == 3 and row["seq"] == 4
    assert row["clock_valid"] is True
    assert row["site"] == SITE and row["id"] == ID_A.hex().upper()
    assert dict(zip(header, second))["source"] == "gatt"


def test_a_long_xlsx_export_goes_on_in_a_new_sheet(db, tmp_path, monkeypatch):
    monkeypatch.setattr(xlsxstream, "SHEET_ROWS", 3)  # the header and two rows a sheet
    out = tmp_path / "d.xlsx"
    run(db, "--what", "decisions", "--format", "xlsx", "-o", str(out))
    book = openpyxl.load_workbook(out)
    assert book.sheetnames == ["decisions", "decisions 2"]
    sheets = [[[cell.value for cell in row] for row in book[name].rows] for name in book.sheetnames]
    assert sheets[0][0] == sheets[1][0] and sheets[0][0][:2] == ["board_id", "seq"]
    assert [row[1] for sheet in sheets for row in sheet[1:]] == [3, 0, 1, 2]  # seq, by time


def test_control_characters_in_names_do_not_break_an_xlsx(tmp_path):
    rows = Builder(tmp_path / "odd.db")
    rows.add("events", utc("2020-09-18 01:00"), site="Tầng\x01 2", text="a\x1bb")
    rows.add("events", utc("2020-09-18 01:01"), site="<A & B>", text=" spaced ")
    out = tmp_path / "e.xlsx"
    run(tmp_path / "odd.db", "--what", "events", "--format", "xlsx", "-o", str(out))
    header, *rows = ([cell.value for cell in r] for r in openpyxl.load_workbook(out)["events"].rows)
    first, second = (dict(zip(header, row)) for row in rows)
    assert (first["site"], first["text"]) == ("Tầng\ufffd 2", "a\ufffdb")
    assert (second["site"], second["text"]) == ("<A & B>", " spaced ")


def test_hashed_ids_are_stable_across_exports_and_are_not_the_ids(db, tmp_path):
    secret = tmp_path / "site.secret"
    first, second = tmp_path / "1.csv", tmp_path / "2.csv"
    run(db, "--what", "sightings", "--ids", "hashed", "--secret", str(secret), "-o", str(first))
    run(db, "--what", "decisions", "--ids", "hashed", "--secret", str(secret), "-o", str(second))
    sighted = [row["id"] for row in read_csv(first)]
    decided = [row["id"] for row in read_csv(second)]
    assert len(set(sighted)) == 2 and sighted[0] == decided[0] == decided[1]  # ID_A each time
    assert decided[2] == ""  # no ID stays no ID
    assert not {ID_A.hex(), ID_B.hex()} & {h.lower() for h in sighted}
    assert stat.S_IMODE(os.stat(secret).st_mode) == 0o600
    key = bytes.fromhex(secret.read_text())  # a partner holding the secret can check a hash
    assert sighted[0] == hmac.digest(key, ID_A, "sha256").hex()[:32]
    other = tmp_path / "3.csv"
    run(db, "--what", "sightings", "--ids", "hashed", "--secret", str(tmp_path / "b.secret"),
        "-o", str(other))
    assert not set(sighted) & {row["id"] for row in read_csv(other)}


def test_ids_none_leaves_the_id_column_out(db, tmp_path):
    out = tmp_path / "n.jsonl"
    run(db, "--what", "sightings", "--ids", "none", "--format", "jsonl", "-o", str(out))
    rows = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert len(rows) == 2 and all("id" not in row for row in rows)
    assert ID_A.hex() not in out.read_text().lower()


def test_jsonl_to_standard_output_is_utf8_with_native_types(db):
    run_ = subprocess.run([str(BIN / "bzgate"), "export", "--db", str(db), "--what", "events",
                           "--format", "jsonl"], capture_output=True, timeout=60,
                          env=dict(os.environ, LC_ALL="C"))
    assert run_.returncode == 0, run_.stderr
    (row,) = [json.loads(line) for line in run_.stdout.decode("utf-8").splitlines()]
    assert row["site"] == SITE and row["clock_valid"] is True and row["code"] == 2
    assert row["time_local"] == "2020-09-19 00:00:00" and row["text"] == "near_rssi"
    assert b"1 events exported" in run_.stderr


def test_every_export_is_audited_with_what_it_gave(db, tmp_path):
    before = len(audit_details(db))
    out = tmp_path / "c.csv"
    run(db, "--what", "counts", "--from", "2020-09-19", "-o", str(out))
    (entry,) = audit_details(db)[before:]
    assert entry["what"] == "counts" and entry["rows"] == 1 and entry["output"] == str(out)
    assert entry["result"] == "complete"
    assert entry["from"] == utc("2020-09-18 17:00") and entry["format"] == "csv"
    assert entry["user"]
    assert read_csv(out)[0]["adverts"] == "1200"


def test_an_empty_range_gives_the_header_and_says_so(db, tmp_path):
    out = tmp_path / "e.csv"
    result = run(db, "--what", "decisions", "--from", "2021-01-01", "-o", str(out))
    assert "0 decisions exported to" in result.output
    assert "none from 2021-01-01 00:00 to … (Asia/Ho_Chi_Minh)" in result.output
    assert out.read_text(encoding="utf-8-sig").startswith("board_id,seq,gate_id,site,time_utc,")
    assert read_csv(out) == []


def test_an_export_stopped_midway_is_audited_with_the_rows_that_went_out(db, monkeypatch):
    def reader_goes_away(out, columns, rows):
        for n, row in enumerate(rows):
            out.write(repr(columns.cells(row)))
            if n == 1:
                raise BrokenPipeError
    monkeypatch.setattr(export, "write_jsonl", reader_goes_away)
    result = run(db, "--what", "decisions", "--format", "jsonl", ok=False)
    assert result.exit_code != 0
    entry = audit_details(db)[-1]
    assert (entry["rows"], entry["result"]) == (2, "stopped (BrokenPipeError)")


def test_bad_options_give_one_line_errors_and_write_nothing(db, tmp_path):
    out = tmp_path / "x.csv"
    for args, message in (
            (["--from", "18/09/2020"], "--from must be a date like 2020-09-18"),
            (["--from", "2020-09-20", "--to", "2020-09-19"], "--from must come before --to"),
            (["--format", "xlsx"], "xlsx needs a file"),
            (["-o", str(tmp_path / "no" / "such.csv")], "cannot write"),
            (["--db", str(tmp_path / "typo.db")], "no database at")):
        result = run(db, "--what", "decisions", *args, ok=False)
        assert result.exit_code == 2 and message in result.output, result.output
    bad = tmp_path / "bad.secret"
    bad.write_text("not hex")
    result = run(db, "--what", "sightings", "--ids", "hashed", "--secret", str(bad), "-o",
                 str(out), ok=False)
    assert result.exit_code == 2 and "cannot be read" in result.output
    assert not out.exists() and bad.read_text() == "not hex"
    assert not (tmp_path / "typo.db").exists()


def test_fast_local_times_match_datetime_for_any_time():
    utc_text, local_text, local_seconds = utc_text_maker(), local_text_maker(), LocalSeconds()
    rng = random.Random(3)
    times = [0, 1_600_447_800, 2**32 - 1, -2_208_988_800] + [rng.randrange(-2**32, 2**32)
                                                               for _ in range(20_000)]
    for t in times:  # before 1906 Saigon's local mean time was +07:06:30
        assert utc_text(t) == utc_time(t).isoformat() + "Z"
        assert local_text(t) == local_time(t).isoformat(" ")
        assert utc_time(local_seconds(t)) == local_time(t)
