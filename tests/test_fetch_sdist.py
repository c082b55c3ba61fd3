"""tools/fetch_sdist.py against a simple index served from a temporary folder: the index comes
from pip's configuration, the sdist is picked by name and version among the page's files, and a
file whose SHA-256 is not the pinned one is refused."""

import functools
import hashlib
import http.server
import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parent.parent / "tools" / "fetch_sdist.py"
WANTED = b"the 0.7b4 sdist"
# files on the project's page besides the one wanted: another release, a wheel of the same one,
# another project whose name starts the same
OTHERS = {"micropython-mqtt-0.7b3.tar.gz": b"older", "micropython_mqtt-0.7b4-py3-none-any.whl":
          b"a wheel", "micropython-mqtt-extra-0.7b4.tar.gz": b"another project"}


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *_):
        pass


@pytest.fixture(scope="module")
def index(tmp_path_factory):
    """http://127.0.0.1:PORT/simple/ with micropython-mqtt's page linking files one level up,
    each with its #sha256 as PyPI gives it (the wanted file under its PEP 625 name)."""
    root = tmp_path_factory.mktemp("index")
    files = {**OTHERS, "micropython_mqtt-0.7b4.tar.gz": WANTED}
    (root / "files").mkdir()
    page = root / "simple" / "micropython-mqtt"
    page.mkdir(parents=True)
    links = "".join(f'<a href="../../files/{name}#sha256={sha(data)}">{name}</a><br>'
                    for name, data in files.items())
    (page / "index.html").write_text(f"<!DOCTYPE html><html><body>{links}</body></html>")
    for name, data in files.items():
        (root / "files" / name).write_bytes(data)
    handler = functools.partial(_QuietHandler, directory=str(root))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/simple"
    server.shutdown()
    server.server_close()


def fetch(tmp_path, pip_conf: str, *args: str) -> subprocess.CompletedProcess:
    """The script with pip reading only `pip_conf` (no environment settings of this machine)."""
    (tmp_path / "pip.conf").write_text(pip_conf)
    env = {k: v for k, v in os.environ.items() if not k.startswith("PIP_")}
    env["PIP_CONFIG_FILE"] = str(tmp_path / "pip.conf")
    return subprocess.run([sys.executable, str(SCRIPT), *args], capture_output=True, text=True,
                          env=env, cwd=tmp_path, timeout=60)


def conf(index_url: str, extra: str = "") -> str:
    return f"[global]\nindex-url = {index_url}\nextra-index-url = {extra}\n"


def test_the_pinned_sdist_comes_from_the_index_in_pips_configuration(index, tmp_path):
    out = tmp_path / "mqtt.tar.gz"
    run = fetch(tmp_path, conf(index), "micropython-mqtt==0.7b4", "--sha256", sha(WANTED),
                "-o", str(out))
    assert run.returncode == 0, run.stderr
    assert out.read_bytes() == WANTED
    assert run.stdout.strip().endswith("/files/micropython_mqtt-0.7b4.tar.gz")


def test_an_index_without_the_project_gives_way_to_the_extra_index(index, tmp_path):
    out = tmp_path / "mqtt.tar.gz"
    empty = tmp_path / "empty"
    empty.mkdir()
    run = fetch(tmp_path, conf(empty.as_uri(), index), "micropython-mqtt==0.7b4",
                "--sha256", sha(WANTED), "-o", str(out))
    assert run.returncode == 0, run.stderr
    assert out.read_bytes() == WANTED


def test_a_file_with_another_hash_is_refused_and_not_written(index, tmp_path):
    out = tmp_path / "mqtt.tar.gz"
    pinned = sha(b"what the Makefile pinned")
    run = fetch(tmp_path, conf(index), "micropython-mqtt==0.7b4", "--sha256", pinned,
                "-o", str(out))
    assert run.returncode == 1
    assert f"SHA-256 {sha(WANTED)}, expected {pinned}" in run.stderr
    assert list(tmp_path.iterdir()) == [tmp_path / "pip.conf"]


def test_a_version_no_index_has_says_where_it_looked(index, tmp_path):
    run = fetch(tmp_path, conf(index), "micropython-mqtt==0.7b5", "--sha256", sha(WANTED),
                "-o", str(tmp_path / "mqtt.tar.gz"))
    assert run.returncode == 1
    assert f"no micropython-mqtt-0.7b5.tar.gz on {index}/ (not listed)" in run.stderr
