"""The `bzgate` command as a user runs it: decode, ids, --help and --version."""

import json
import subprocess

import pytest

from bzgate.cli import command_contexts
from toolchain import BIN

SPEC_KEY = "000102030405060708090A0B0C0D0E0F101112131415161718191A1B1C1D1E1F"


def bzgate(*args):
    return subprocess.run([str(BIN / "bzgate"), *args], capture_output=True, text=True, timeout=60)


def test_decode_json_android():
    run = bzgate("decode", "--json",
                 "02 01 02 0F FF B5 22 13 0C EA 64 72 13 0C 18 5D 86 43 DF 03 03 56 4E")
    assert run.returncode == 0
    assert json.loads(run.stdout) == {
        "kind": "android", "platform": "android", "id": "130CEA6472130C185D8643DF",
        "needs_gatt": False,
        "ads": [{"type": 1, "data": "02", "packet": "adv"},
                {"type": 255, "data": "B522130CEA6472130C185D8643DF", "packet": "adv"},
                {"type": 3, "data": "564E", "packet": "adv"}]}


def test_decode_json_ios_v1_with_scan_response():
    run = bzgate("decode", "--json", "02011A110767A607ADD1172FA1C44BF573F4390AE2",
                 "--scan-response", "0B:09:34:61:42:78:33:78:42:59:39:32")
    report = json.loads(run.stdout)
    assert (report["kind"], report["platform"], report["id"], report["needs_gatt"]) == (
        "ios-v1", "ios", "aB3xY9", False)
    assert report["ads"][-1] == {"type": 9, "data": "34614278337842593932", "packet": "scan_rsp"}


def test_decode_shows_a_broken_structure():
    run = bzgate("decode", "--json", "02 01 02 05 FF B5")
    report = json.loads(run.stdout)
    assert report["kind"] == "none"
    assert report["ads"][-1] == {"type": None, "data": "05FFB5", "packet": "adv"}
    assert "runs past the end" in bzgate("decode", "02 01 02 05 FF B5").stdout


def test_decode_human_output():
    run = bzgate("decode", "02011A1107" "67A607ADD1172FA1C44BF573564E0000")
    assert run.returncode == 0
    assert "kind:       ios" in run.stdout and "needs GATT: yes" in run.stdout


@pytest.mark.parametrize("args", [["decode", "0x02 01 0G"], ["decode", "020"],
                                  ["decode", "0201", "--scan-response", "xyz"]])
def test_decode_bad_hex_is_one_line_and_status_2(args):
    run = bzgate(*args)
    assert run.returncode == 2
    assert run.stdout == ""
    assert len(run.stderr.splitlines()) == 1 and run.stderr.startswith("bzgate: ")


def test_ids_json_matches_the_spec_vectors():
    run = bzgate("ids", "--daily-key", SPEC_KEY, "--day", "2020-09-18", "--json")
    report = json.loads(run.stdout)
    assert (report["daily_key"], report["time_start"], report["max"]) == (SPEC_KEY, 1600387200, 96)
    assert len(report["ids"]) == 96
    assert report["ids"][2] == {"slot": 2, "id": "648C30B3A8352FEAC3721277",
                                "valid_from": 1600389000, "valid_to": 1600389900}
    assert report["ids"][95]["id"] == "0AE9AB99C50104E835045ABF"


def test_ids_144_by_time_start():
    run = bzgate("ids", "--daily-key", SPEC_KEY, "--time-start", "1600387200", "--max", "144",
                 "--json")
    last = json.loads(run.stdout)["ids"][-1]
    assert last == {"slot": 143, "id": "3853D23D5202D320DB78307A", "valid_from": 1600473000,
                    "valid_to": 1600473600}


def test_ids_table():
    run = bzgate("ids", "--daily-key", SPEC_KEY, "--day", "2020-09-18")
    assert "   2  648C30B3A8352FEAC3721277  2020-09-18 00:30  2020-09-18 00:45  2020-09-18 07:30" \
        in run.stdout


@pytest.mark.parametrize("args, message", [
    (["--daily-key", SPEC_KEY[:-2], "--day", "2020-09-18"], "must be 32 bytes"),
    (["--daily-key", SPEC_KEY], "exactly one of --day and --time-start"),
    (["--daily-key", SPEC_KEY, "--day", "18/09/2020"], "--day must be a date"),
    (["--daily-key", SPEC_KEY, "--time-start", "1600387201"], "must be 00:00 UTC"),
    (["--daily-key", SPEC_KEY, "--day", "2020-09-18", "--max", "7"], "max must divide 86400"),
])
def test_ids_bad_input(args, message):
    run = bzgate("ids", *args)
    assert run.returncode == 2
    assert message in run.stderr and len(run.stderr.splitlines()) == 1


def test_version():
    run = bzgate("--version")
    assert run.returncode == 0 and run.stdout.startswith("bzgate, version ")


@pytest.mark.parametrize("path", [tuple(ctx.command_path.split()[1:]) for ctx in command_contexts()],
                         ids=lambda p: " ".join(p) or "bzgate")
def test_help_on_every_command(path):
    run = bzgate(*path, "--help")
    assert run.returncode == 0 and "Usage: bzgate" in run.stdout
    description = run.stdout.split("\n\n")[1]  # click puts it between the usage and the options
    assert description.startswith("  ") and description.strip(), f"no description:\n{run.stdout}"
