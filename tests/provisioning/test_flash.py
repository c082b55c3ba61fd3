"""`bzgate provision flash` with a stand-in esptool on PATH: the chip found, the offset for it,
erase, dry run, and a failing esptool."""

import json
import os
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from bzgate.cli import main

STANDIN = Path(__file__).with_name("standin_esptool.py")


@pytest.fixture
def esptool(tmp_path, monkeypatch):
    """The stand-in as `esptool` first on PATH; returns a reader of the argv lists it got."""
    folder = tmp_path / "bin"
    folder.mkdir()
    shutil.copy(STANDIN, folder / "esptool")
    (folder / "esptool").chmod(stat.S_IRWXU)
    log = tmp_path / "esptool.log"
    monkeypatch.setenv("PATH", f"{folder}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.setenv("ESPTOOL_LOG", str(log))
    return lambda: [json.loads(line) for line in log.read_text().splitlines()] if log.exists() else []


@pytest.fixture
def image(tmp_path):
    path = tmp_path / "micropython.bin"
    path.write_bytes(b"\xe9" + bytes(4095))
    return path


def flash(*args):
    return CliRunner().invoke(main, ["provision", "flash", "--port", "/dev/ttyUSB7", *args])


@pytest.mark.parametrize("chip, shown, offset", [("esp32", "ESP32", "0x1000"), ("esp32s3", "ESP32-S3", "0x0"),
                                                 ("esp32c3", "ESP32-C3", "0x0")])
def test_auto_detects_the_chip_and_writes_at_its_offset(esptool, image, monkeypatch, chip, shown, offset):
    monkeypatch.setenv("ESPTOOL_CHIP", shown)
    result = flash("--image", str(image))
    assert result.exit_code == 0, result.output
    assert esptool() == [["--port", "/dev/ttyUSB7", "chip-id"],
                         ["--chip", chip, "--port", "/dev/ttyUSB7", "--baud", "460800", "write-flash",
                          offset, str(image)]]
    assert f"flashed {chip} at {offset}" in result.output


@pytest.mark.parametrize("chip, offset", [("esp32", "0x1000"), ("esp32s3", "0x0"), ("esp32c3", "0x0")])
def test_a_named_chip_is_not_asked_for_and_erase_comes_first(esptool, image, chip, offset):
    result = flash("--image", str(image), "--chip", chip, "--erase")
    assert result.exit_code == 0, result.output
    assert esptool() == [["--chip", chip, "--port", "/dev/ttyUSB7", "--baud", "460800", "write-flash",
                          "--erase-all", offset, str(image)]]


def test_a_dry_run_runs_nothing(esptool, image):
    result = flash("--image", str(image), "--chip", "esp32s3", "--dry-run")
    assert result.exit_code == 0, result.output
    assert esptool() == []
    assert f"write-flash 0x0 {image}" in result.output and "would flash esp32s3 at 0x0" in result.output


def test_an_unknown_chip_is_refused_before_writing(esptool, image, monkeypatch):
    monkeypatch.setenv("ESPTOOL_CHIP", "ESP32-S2")
    result = flash("--image", str(image))
    assert result.exit_code == 1
    assert "ESP32-S2" in result.output and len(esptool()) == 1  # chip-id only


def test_a_board_that_does_not_answer_fails_with_esptools_reason(esptool, image, monkeypatch):
    monkeypatch.setenv("ESPTOOL_FAIL", "1")
    result = flash("--image", str(image), "--chip", "esp32")
    assert result.exit_code == 1
    assert "No serial data received" in result.output


def test_a_missing_image_touches_no_board(esptool, tmp_path):
    result = flash("--image", str(tmp_path / "none.bin"), "--chip", "esp32")
    assert result.exit_code == 2 and "no such image file" in result.output
    assert esptool() == []


def test_without_esptool_on_path_the_installed_module_runs(image, monkeypatch, tmp_path):
    """A pip --user or pipx install puts no esptool script on PATH: the module bzgate
    installed with it runs instead, and answers."""
    monkeypatch.setenv("PATH", str(tmp_path))  # no esptool anywhere on it
    result = flash("--image", str(image), "--chip", "esp32", "--dry-run")
    assert result.exit_code == 0, result.output
    assert f"{sys.executable} -m esptool --chip esp32 --port /dev/ttyUSB7" in result.output
    done = subprocess.run([sys.executable, "-m", "esptool", "version"], capture_output=True, text=True)
    assert done.returncode == 0 and "esptool" in done.stdout.lower(), done.stderr
