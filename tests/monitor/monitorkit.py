"""Kits for the monitor's tests: gates with a known key, the monitor as its own process (as a
guard's PC runs it), and Debian's chromium driven by Playwright.

    board = start_keyed_gate(where, keys, "gate-a", phones=[...])
    monitor = Monitor([board.serial], db, keys.path); monitor.start(); monitor.stop()
    with browser(profile_dir) as context: page = context.new_page()
    guards_file(where, {"lan": "a password"})   # for --guards
"""

import json
import subprocess
import sys
import time
import urllib.request
from contextlib import contextmanager
from pathlib import Path

from gatekit import start_gate, stop_gate
from services import free_port

from bzgate.keys import KeyStore
from bzgate.monitor.guards import Guards

HERE = Path(__file__).resolve().parent
BIN = Path(sys.executable).parent
ARTIFACTS = HERE.parents[1] / "test-artifacts" / "monitor"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
KEY = bytes(range(7, 39))


def start_keyed_gate(where: Path, keys: KeyStore, gate_id: str, **args):
    """A gate whose journal key (in its NVS, as provisioning leaves it) is in the key store."""
    nvs = where / "flash" / ".bzsim"
    nvs.mkdir(parents=True, exist_ok=True)
    (nvs / "nvs-bzgate.json").write_text(json.dumps({"key": ["b", KEY.hex()]}))
    board = start_gate(where, config={"gate_id": gate_id, **args.pop("config", {})}, **args)
    try:
        with board.link() as link:
            keys.put(link.hello()["board_id"], KEY, gate_id=gate_id)
            link.time_set()
    except BaseException:
        stop_gate(board)
        raise
    return board


def guards_file(where: Path, passwords: dict[str, str]) -> Path:
    """A guards file (as `bzgate guards add` writes it) of these names and passwords."""
    guards = Guards(where / "guards.json")
    for name, password in passwords.items():
        guards.add(name, password)
    return guards.path


class Monitor:
    """`bzgate monitor` on the given ports (and more options, e.g. --mqtt), its page on a fixed
    local port across restarts."""

    def __init__(self, ports: list[str], db: Path, keys: Path, log: Path, options: tuple = ()):
        self.url = f"http://127.0.0.1:{free_port()}/"
        self.args = [str(BIN / "bzgate"), "monitor", "--db", str(db), "--keys", str(keys),
                     "--listen", self.url[7:-1], *options]
        for port in ports:
            self.args += ["--port", port]
        self.log, self.process = log, None

    def start(self, timeout: float = 15) -> None:
        with open(self.log, "a") as log:
            self.process = subprocess.Popen(self.args, stdout=log, stderr=log)
        deadline = time.monotonic() + timeout
        while True:
            try:
                self.state()
                return
            except OSError:
                if self.process.poll() is not None or time.monotonic() > deadline:
                    log = self.log.read_text()
                    raise RuntimeError(f"the monitor did not start: {log}") from None
                time.sleep(0.2)

    def state(self) -> dict:
        with urllib.request.urlopen(self.url + "api/state", timeout=5) as reply:
            return json.load(reply)

    def stop(self) -> int:
        self.process.terminate()
        return self.process.wait(15)


@contextmanager
def browser(profile: Path, width: int = 1024, height: int = 640):
    """A chromium context with a fresh profile (never a downloaded browser)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            str(profile), executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True,
            viewport={"width": width, "height": height}, timezone_id="Asia/Ho_Chi_Minh")
        try:
            yield context
        finally:
            context.close()


def seconds_to_verdict(tile, verdict: str, act, what: str, timeout: float = 5) -> float:
    """Seconds from act() (a press, a publish) to the verdict on a tile (a Playwright locator);
    verdict "checking" for a press still waiting for a phone."""
    from playwright.sync_api import TimeoutError as PageTimeout

    start = time.monotonic()
    act()
    try:
        tile.locator(f".verdict.v-{verdict}").wait_for(timeout=timeout * 1000)
    except PageTimeout:
        shown = tile.locator(".verdict")
        raise AssertionError(f"no {verdict} after {what} within {timeout} s: the tile shows "
                             f"{shown.get_attribute('data-verdict')!r}, {shown.inner_text()!r}") from None
    elapsed = time.monotonic() - start
    print(f"{verdict} on the page {elapsed:.2f} s after {what}")
    return elapsed


def screenshot(page, name: str) -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path))
    return path
