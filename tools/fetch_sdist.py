"""Fetch one pinned source distribution by name through the package index pip is set up to use.

    python tools/fetch_sdist.py micropython-mqtt==0.7b4 --sha256 HEX -o micropython-mqtt.tar.gz

A build machine may reach PyPI only through a mirror or a proxying index named in pip's
configuration (pip.conf, PIP_INDEX_URL, ...), so the address comes from there, never from a
hard-coded files.pythonhosted.org link. `pip download --no-binary :all:` cannot do this for
every project: it refuses an sdist that has no setup.py or pyproject.toml (micropython-mqtt is
one). So this reads pip's settings with `pip config list`, looks the project up on each index's
simple API page (PEP 503: index-url first, then extra-index-url) and downloads the file named
PROJECT-VERSION.tar.gz. The file is written only when its SHA-256 is the one given.
"""

import argparse
import ast
import base64
import hashlib
import re
import ssl
import subprocess
import sys
import urllib.error
import urllib.request
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urldefrag, urljoin, urlsplit, urlunsplit

DEFAULT_INDEX = "https://pypi.org/simple"
SECTIONS = (":env:", "install", "download", "global")  # pip's precedence, highest first
TIMEOUT_S = 60


class FetchError(Exception):
    pass


def pip_settings() -> dict[str, str]:
    """{"global.index-url": value, ":env:.cert": value, ...} as this Python's pip sees them."""
    out = subprocess.run([sys.executable, "-m", "pip", "config", "list"], capture_output=True,
                         text=True, check=True).stdout
    settings = {}
    for line in out.splitlines():
        key, sep, value = line.partition("=")
        if sep:
            settings[key] = ast.literal_eval(value)
    return settings


def setting(settings: dict[str, str], name: str) -> str | None:
    for section in SECTIONS:
        if f"{section}.{name}" in settings:
            return settings[f"{section}.{name}"]
    return None


def indexes(settings: dict[str, str]) -> list[str]:
    return [setting(settings, "index-url") or DEFAULT_INDEX,
            *(setting(settings, "extra-index-url") or "").split()]


def normalized(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()  # PEP 503


class _Links(HTMLParser):
    def __init__(self):
        super().__init__()
        self.hrefs: list[str] = []

    def handle_starttag(self, tag, attrs):
        href = dict(attrs).get("href")
        if tag == "a" and href:
            self.hrefs.append(href)


class Index:
    """One index's simple API, reached with pip's CA bundle and any user:password in its URL."""

    def __init__(self, url: str, cert: str | None):
        parts = urlsplit(url.rstrip("/") + "/")
        self._headers = {}
        if parts.username is not None:
            login = f"{unquote(parts.username)}:{unquote(parts.password or '')}"
            self._headers["Authorization"] = "Basic " + base64.b64encode(login.encode()).decode()
            parts = parts._replace(netloc=parts.hostname + (f":{parts.port}" if parts.port else ""))
        self.url = urlunsplit(parts)
        self._context = ssl.create_default_context(cafile=cert)

    def read(self, url: str) -> bytes:
        if url.startswith("file:") and Path(urlsplit(url).path).is_dir():
            url = urljoin(url, "index.html")  # a file:// index, as pip reads one
        request = urllib.request.Request(url, headers={"Accept": "text/html", **self._headers})
        with urllib.request.urlopen(request, timeout=TIMEOUT_S, context=self._context) as reply:
            return reply.read()

    def sdist_link(self, project: str, version: str) -> str | None:
        """The address of PROJECT-VERSION.tar.gz on the project's page, or None."""
        page = urljoin(self.url, normalized(project) + "/")
        links = _Links()
        links.feed(self.read(page).decode("utf-8"))
        for href in links.hrefs:
            link = urljoin(page, href)
            filename = unquote(urlsplit(link).path.rsplit("/", 1)[-1])
            name, _, release = filename.removesuffix(".tar.gz").rpartition("-")
            if filename.endswith(".tar.gz") and normalized(name) == normalized(project) \
                    and release == version:
                return link
        return None


def fetch(project: str, version: str, sha256: str, out: Path) -> str:
    """Download the sdist into `out`; the address it came from."""
    settings = pip_settings()
    cert = setting(settings, "cert")
    tried = []
    for url in indexes(settings):
        index = Index(url, cert)
        try:
            link = index.sdist_link(project, version)
        except (urllib.error.URLError, OSError) as error:  # not on this index, or unreachable
            tried.append(f"{index.url} ({getattr(error, 'reason', error)})")
            continue
        if link is None:
            tried.append(f"{index.url} (not listed)")
            continue
        address = urldefrag(link).url
        data = index.read(address)
        got = hashlib.sha256(data).hexdigest()
        if got != sha256.lower():
            raise FetchError(f"{address}: SHA-256 {got}, expected {sha256}")
        partial = out.with_name(out.name + ".part")
        partial.write_bytes(data)
        partial.replace(out)
        return address
    raise FetchError(f"no {project}-{version}.tar.gz on {'; '.join(tried)}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("requirement", help="PROJECT==VERSION")
    parser.add_argument("--sha256", required=True, help="the file's expected SHA-256, hex")
    parser.add_argument("-o", "--output", required=True, type=Path)
    args = parser.parse_args()
    project, sep, version = args.requirement.partition("==")
    if not sep or not project or not version:
        parser.error("the requirement must pin one version: PROJECT==VERSION")
    try:
        address = fetch(project.strip(), version.strip(), args.sha256, args.output)
    except FetchError as error:
        sys.exit(f"fetch_sdist: {error}")
    print(f"{args.output}: {address}")


if __name__ == "__main__":
    main()
