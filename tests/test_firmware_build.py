"""Every firmware file compiles for the ESP32 and type-checks against the ESP32's own API; what
goes onto a board leaves bzcore's host-only parts out."""

import json
import subprocess

import pytest

from bzprov import build
from test_import_graph import imported  # the project modules a file imports
from toolchain import BIN, FIRMWARE, MPY_CROSS

FIRMWARE_FILES = sorted(p for p in FIRMWARE.rglob("*.py") if "__pycache__" not in p.parts)
PYRIGHT_CONFIG = FIRMWARE / "pyrightconfig.json"


@pytest.mark.parametrize("source", FIRMWARE_FILES, ids=lambda p: str(p.relative_to(FIRMWARE)))
def test_compiles_for_esp32(source, tmp_path):
    out = tmp_path / "out.mpy"
    run = subprocess.run([str(MPY_CROSS), "-march=xtensawin", "-o", str(out), str(source)],
                         capture_output=True, text=True, timeout=60)
    assert run.returncode == 0, run.stderr
    assert out.read_bytes()[:1] == b"M"  # an .mpy file


def pyright(*files):
    run = subprocess.run([str(BIN / "basedpyright"), "-p", str(PYRIGHT_CONFIG), "--outputjson",
                          *map(str, files)], capture_output=True, text=True, timeout=300)
    report = json.loads(run.stdout)
    return report["summary"], [d["message"] for d in report["generalDiagnostics"]
                               if d["severity"] == "error"]


def test_type_checks_against_esp32_stubs():
    summary, errors = pyright()
    assert summary["filesAnalyzed"] >= len(FIRMWARE_FILES)
    assert errors == []


def test_type_check_catches_calls_the_board_lacks(tmp_path):
    bad = tmp_path / "bad.py"
    bad.write_text("import machine\nimport time\nmachine.Pin(5).toggle_twice()\ntime.time_ns_x()\n")
    _, errors = pyright(bad)
    assert len(errors) == 2


def test_the_host_only_modules_stay_off_the_board():
    """bzcore's host-side parts are not deployed, and nothing of the gate's imports one."""
    host_only = {rel.removesuffix(".py").replace("/", ".") for rel in build.HOST_ONLY}
    shipped = {rel.as_posix() for rel in build.sources()}
    assert all((FIRMWARE / rel).is_file() for rel in build.HOST_ONLY)  # the list names real files
    assert shipped & build.HOST_ONLY == set()
    assert {"gate/app.py", "bzcore/adv.py", "bzcore/record.py", "main.py"} <= shipped
    gate_side = [FIRMWARE / rel for rel in shipped if not rel.startswith("bzcore/")]
    assert {name for source in gate_side for name in imported(source, "bzcore")} & host_only == set()
