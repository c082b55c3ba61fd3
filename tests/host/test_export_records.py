"""Records as a gate signs them, stored as collect stores them (store.store_records), come out of
export and report with their names and values: the schema is the contract between the two."""

import json

import openpyxl
from click.testing import CliRunner
from exportkit import utc

from bzcore import record
from bzgate import store
from bzgate.cli import main

KEY = bytes(range(32))
AN = bytes.fromhex("130CEA6472130C185D8643DF")


def journal(*built):
    """(time, clock_valid, (kind, payload)) -> signed 48-byte records, chained."""
    raws, mac = [], record.GENESIS
    for seq, (t, clock_valid, (kind, payload)) in enumerate(built):
        raw = record.encode(KEY, mac, seq, kind, t, clock_valid, 1, payload)
        raws.append(raw)
        mac = record.mac_of(raw)
    return raws


def test_stored_records_export_and_report_with_their_names(tmp_path):
    path = tmp_path / "bzgate.db"
    t = utc("2020-09-18 01:05")
    raws = journal(
        (t, True, record.sighting(AN, t - 10, t, -48, 4, record.ANDROID, record.ADV)),
        (t + 1, True, record.decision(record.ALLOW, record.BUTTON, record.ENFORCE, AN, -48,
                                      record.ANDROID, 6)),
        (t + 30, True, record.decision(record.NO_APP, record.BEAM, record.MONITOR, None, -90,
                                       record.PLATFORM_UNKNOWN, 3)),
        (t + 35, True, record.decision(record.DENY, record.BUTTON, record.ENFORCE, None, None,
                                       record.PLATFORM_UNKNOWN, 5004, presses=2)),
        (t + 40, True, record.event(record.CONFIG_ERROR, 0, b"near_rssi")))
    conn = store.open_store(path)
    with store.transaction(conn):
        store.begin_journal(conn, "board-1", "cổng-chính", "Bệnh viện Chợ Rẫy", "1.0", t)
        store.store_records(conn, "board-1", "cổng-chính", "Bệnh viện Chợ Rẫy", raws, t + 60)
    conn.close()

    runner = CliRunner()
    out = runner.invoke(main, ["export", "--db", str(path), "--what", "decisions",
                               "--format", "jsonl", "--ids", "full", "--purpose", "test"])
    allow, no_app, deny = (json.loads(line) for line in out.output.splitlines()[:3])
    assert (allow["verdict"], allow["trigger"], allow["mode"], allow["platform"]) == (
        "allow", "button", "enforce", "android")
    assert allow["id"] == AN.hex().upper() and allow["time_local"] == "2020-09-18 08:05:01"
    assert (no_app["verdict"], no_app["trigger"], no_app["id"], no_app["platform"]) == (
        "no-app", "beam", None, None)
    assert (allow["rssi"], allow["presses"], no_app["rssi"], no_app["presses"]) == (-48, 1, -90, 1)
    assert (deny["verdict"], deny["rssi"], deny["latency_ms"], deny["presses"]) == (
        "deny", None, 5004, 2)
    out = runner.invoke(main, ["export", "--db", str(path), "--what", "events",
                               "--format", "jsonl"])
    event = json.loads(out.output.splitlines()[0])
    assert (event["name"], event["text"], event["site"]) == (
        "config-error", "near_rssi", "Bệnh viện Chợ Rẫy")

    report = runner.invoke(main, ["report", "--db", str(path), "--format", "md", "--lang", "en"])
    assert report.exit_code == 0, report.output
    total = next(line for line in report.output.splitlines() if "**Total**" in line)
    assert [cell.strip(" *") for cell in total.strip("|").split("|")][2:] == [
        "3", "1", "2", "0", "33.3 %", "0", "1", "1", "0", "08:00–09:00"]  # no app: deny, no-app


def test_exempts_and_exits_export_with_their_reason_in_every_format(tmp_path):
    path = tmp_path / "bzgate.db"
    t = utc("2020-09-18 01:05")
    raws = journal(
        (t, True, record.decision(record.EXEMPT, record.GUARD, record.ENFORCE, None, None,
                                  record.PLATFORM_UNKNOWN, 0, reason=record.PAPER_DECLARATION)),
        (t + 5, True, record.decision(record.EXIT, record.EXIT_BUTTON, record.ENFORCE, None, None,
                                      record.PLATFORM_UNKNOWN, 0)))
    conn = store.open_store(path)
    with store.transaction(conn):
        store.begin_journal(conn, "board-1", "front", "HQ", "1.0", t)
        store.store_records(conn, "board-1", "front", "HQ", raws, t + 60)
    conn.close()

    def export(*args):
        result = CliRunner().invoke(main, ["export", "--db", str(path), "--what", "decisions",
                                           *args])
        assert result.exit_code == 0, result.output
        return result.stdout
    exempt, exit_ = (json.loads(line) for line in export("--format", "jsonl").splitlines())
    assert (exempt["verdict"], exempt["trigger"], exempt["reason"]) == (
        "exempt", "guard", "paper-declaration")
    assert (exit_["verdict"], exit_["trigger"], exit_["reason"]) == ("exit", "exit-button", None)
    header, first, second = export().lstrip("\ufeff").splitlines()
    assert header.endswith(",presses,reason") and first.endswith(",1,paper-declaration")
    assert second.endswith(",1,")
    out = tmp_path / "d.xlsx"
    export("--format", "xlsx", "-o", str(out))
    names, *rows = ([c.value for c in row] for row in openpyxl.load_workbook(out).active.rows)
    assert [dict(zip(names, row))["reason"] for row in rows] == ["paper-declaration", None]
