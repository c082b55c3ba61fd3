"""The host link on a virtual board (96K heap), through its real pty with pyserial and the
host's GateLink: every command, bad input, Ctrl-C, mpremote's break-in.

The board runs the real gate.hostlink, gate.journal and gate.clock under a stand-in app
(STANDIN_MAIN): a heartbeat task that stands for scanning, so a test can see the loop keep
running through every command, and that journals an event and raises a live alarm every
tenth beat into the gate's own event queue (gate.app.EventQueue).
"""

import json
import os
import pty
import random
import re
import time

import pytest
from click.testing import CliRunner
from gatekit import deploy

from boardkit import VirtualBoard
from bzcore import config, record, wire, wirehost
from bzgate import cli
from bzgate.link.serial import GateLink, LinkError

STANDIN_MAIN = """
import asyncio, gc, machine
for name in ("bzcore.record", "gate.journal", "gate.presence", "gate.app"):
    gc.collect()  # one module at a time, as main.py loads them: the heap stays in large pieces
    __import__(name)
from bzcore import config, record
from gate import clock
from gate.app import EventQueue, serve_host
from gate.journal import Journal
from gate.presence import Presence

class StandIn:
    def __init__(self):
        with open("/config.json") as f:
            self.config, self.config_errors = config.load(f.read())
        self.journal = Journal("/journal", b"k" * 32, 1, clock)
        self.presence = Presence(-60, print, size=4)
        self.beats = 0
        self.running = True
        self.alarms = EventQueue()
        self.link_sessions = 0
    def status(self):  # gate.app.App.status()'s common fields
        t, valid = clock.now()
        return {"uptime_ms": clock.uptime_ms(), "time": t, "clock_valid": valid,
                "heap_free": gc.mem_free(), "storage": self.journal.stats(),
                "counters": {"beats": self.beats}, "alarms": [], "last_decision": None}
    def apply_config(self, new):
        self.config = new
        print("APPLIED", new["mode"])
    def subscribe_events(self):
        return self.alarms
    def unsubscribe(self, q):
        pass
    def restart(self):
        machine.reset()
    def maintenance(self):
        self.running = False

async def heartbeat(app):
    while app.running:
        app.beats += 1
        if app.beats % 10 == 0:
            kind, payload = record.event(record.SCAN_RESTART, app.beats)
            app.journal.append(kind, None, payload)
            app.alarms.put({"alarm": "scan-restart", "beat": app.beats})
        await asyncio.sleep_ms(20)

async def main():
    app = StandIn()
    tasks = [asyncio.create_task(heartbeat(app)), asyncio.create_task(app.journal.run())]
    print("STANDIN READY")
    await serve_host(app)
    app.journal.flush()
    for task in tasks:
        task.cancel()
    print("STANDIN STOPPED")

asyncio.run(main())
"""

BASE_CONFIG = {"gate_id": "front-door", "mode": "enforce"}
EVENT_QUEUE_MAX = 16  # gate.app's: live events one subscriber's queue holds


@pytest.fixture(scope="module")
def board(tmp_path_factory):
    """One stand-in gate for the module's tests (each leaves it running as it found it)."""
    flash = tmp_path_factory.mktemp("hostlink") / "flash"
    deploy(flash, config.checked(BASE_CONFIG)[0])
    (flash / "main.py").write_text(STANDIN_MAIN)
    b = VirtualBoard(flash, "--heap", "96K")
    b.control.wait_console("STANDIN READY", timeout=15)
    yield b
    b.stop()


@pytest.fixture
def link(board):
    with GateLink(board.serial, timeout=3) as gate:
        yield gate


# The same stand-in with a short idle time and a watcher that says on the console when the host
# link's modules come and go.
LINK_WATCH = """
import sys
async def link_watch():
    loaded = None
    while True:
        now = [name for name in ("gate.hostlink", "bzcore.wire") if name in sys.modules]
        if now != loaded:
            gc.collect()
            print("LINK MODULES", now, "FREE", gc.mem_free())
            loaded = now
        await asyncio.sleep_ms(20)
"""
QUIET_MS = 2000  # long enough that a busy machine between two requests does not end the session


@pytest.fixture(scope="module")
def quiet_board(tmp_path_factory):
    flash = tmp_path_factory.mktemp("hostlink-idle") / "flash"
    deploy(flash, config.checked(BASE_CONFIG)[0])
    main = (STANDIN_MAIN.replace("serve_host(app)", f"serve_host(app, idle_ms={QUIET_MS})")
            .replace('print("STANDIN READY")', 'asyncio.create_task(link_watch())\n    print("STANDIN READY")')
            .replace("async def main():", LINK_WATCH + "\nasync def main():"))
    (flash / "main.py").write_text(main)
    b = VirtualBoard(flash, "--heap", "96K")
    b.control.wait_console("STANDIN READY", timeout=15)
    yield b
    b.stop()


def test_the_link_loads_when_the_host_writes_and_is_forgotten_when_it_goes_quiet(quiet_board):
    control = quiet_board.control
    control.wait_console("LINK MODULES []", timeout=5)  # nothing loaded until the host writes
    since = len(control.console())
    with GateLink(quiet_board.serial, timeout=3) as link:
        first = link.status()
        control.wait_console("LINK MODULES ['gate.hostlink', 'bzcore.wire']", since=since)
        streamed = list(link.events(QUIET_MS * 2.5 / 1000))  # a stream holds the link past its idle time
        held = link.status()
    beats_streamed = [e["beat"] for e in streamed if e.get("alarm") == "scan-restart"]
    assert len(beats_streamed) >= 12 and beats_streamed == sorted(set(beats_streamed)), streamed
    assert first["link"]["sessions"] == held["link"]["sessions"]
    forgotten = control.wait_console("LINK MODULES []", since=since, timeout=10)
    assert "LINK MODULES ['gate.hostlink', 'bzcore.wire']" in forgotten
    loaded_free, forgotten_free = (int(n) for n in re.findall(r"FREE (\d+)", forgotten)[:2])
    assert forgotten_free - loaded_free > 4096, forgotten  # the link's heap came back (host bytes)
    with GateLink(quiet_board.serial, timeout=3) as link:  # the host comes back: a new session
        again = link.status()
    assert again["link"]["sessions"] == first["link"]["sessions"] + 1
    assert again["link"]["requests"] <= 2  # this session's: HELLO and STATUS
    assert again["counters"]["beats"] > held["counters"]["beats"]  # the gate ran on throughout


def beats(link):
    return link.status()["counters"]["beats"]


def test_hello_names_the_gate_and_board(board, link):
    hello = link.hello()
    assert hello["gate_id"] == "front-door"
    assert hello["firmware"]
    assert isinstance(hello["mpy"], int) and hello["mpy"] > 0
    uid = board.control.status().get("uid") or (board.flash / ".bzsim" / "uid").read_bytes().hex()
    assert hello["board_id"] == uid


def test_status_reports_and_the_loop_keeps_running(link):
    first = link.status()
    time.sleep(0.3)
    second = link.status()
    assert second["counters"]["beats"] > first["counters"]["beats"]  # the heartbeat went on
    assert second["uptime_ms"] > first["uptime_ms"] >= 0
    assert 0 < second["heap_free"] < 200_000
    assert {"next_seq", "acked", "free_bytes"} <= set(second["storage"])
    assert isinstance(second["clock_valid"], bool)


def test_time_set_makes_the_clock_valid(link):
    t = 1_790_000_000
    reply = link.time_set(t)
    assert reply["time"] == t
    status = link.status()
    assert status["clock_valid"] is True
    assert t <= status["time"] <= t + 5
    with pytest.raises(LinkError) as refused:
        link.time_set(1_000)  # 1970: no host's clock says that
    assert refused.value.code == wire.ERR_ARGS


def test_config_get_and_set(board, link):
    assert link.config_get() == config.checked(BASE_CONFIG)[0]
    reply = link.config_set({"mode": "monitor", "site": "Tòa nhà A, tầng 1"})
    assert reply["applied"] == ["mode", "site"]
    on_flash = json.loads((board.flash / "config.json").read_text())
    assert on_flash["mode"] == "monitor" and on_flash["site"] == "Tòa nhà A, tầng 1"
    assert config.validate(on_flash) == []
    assert link.config_get()["mode"] == "monitor"
    link.config_set({"mode": "enforce", "site": ""})


def test_config_set_too_long_for_one_line_is_staged_and_applied_whole(board, link):
    pins = {"relay": {"pin": 4, "active": "low"}, "green": {"pin": 16, "active": "high"},
            "red": {"pin": 17, "active": "high"}, "buzzer": {"pin": 18, "active": "low"},
            "button": {"pin": 13, "active": "low"}, "beam": None,
            "guard": {"pin": 19, "active": "low"}, "exit_button": None}
    change = {"board": pins, "site": "x" * 60, "near_rssi": -70, "present_s": 5}
    link.config_set(change)
    got = link.config_get()
    assert {k: got[k] for k in change} == change
    link.config_set({k: BASE_CONFIG.get(k, config.DEFAULTS[k]) for k in change})
    assert link.config_get() == config.checked(BASE_CONFIG)[0]


def test_config_set_with_bad_fields_is_refused_field_by_field_and_the_file_is_unchanged(board, link):
    before = (board.flash / "config.json").read_bytes()
    with pytest.raises(LinkError) as refused:
        link.config_set({"mode": "party", "near_rssi": 5, "gate_id": "x" * 33, "present_s": 10})
    assert refused.value.code == wire.ERR_REFUSED
    errors = refused.value.data["errors"]
    assert len(errors) == 3
    assert [e.split(":")[0] for e in errors] == ["gate_id", "mode", "near_rssi"]
    assert (board.flash / "config.json").read_bytes() == before
    assert link.config_get()["present_s"] == config.DEFAULTS["present_s"]  # nothing applied


def test_log_pull_is_chunked_and_resumable_and_ack_is_kept(link):
    deadline = time.monotonic() + 15
    while link.status()["storage"]["records"] < 14 and time.monotonic() < deadline:
        time.sleep(0.5)
    records = []
    for raw in link.pull(0):
        records.append(raw)
        if len(records) >= 14:
            break
    assert len(records) >= 14  # more than one reply's worth
    decoded = [record.decode(r) for r in records]
    assert [r.seq for r in decoded] == list(range(len(records)))
    assert all(r.kind == record.EVENT for r in decoded)
    resumed = next(link.pull(5))
    assert resumed == records[5]
    assert link.ack(3) == {"acked": 3}
    assert link.status()["storage"]["acked"] == 3
    with pytest.raises(LinkError) as bad:
        link.request("LOG PULL", "minus-one")
    assert bad.value.code == wire.ERR_ARGS


def test_events_stream_until_the_next_request(link):
    got = list(link.events(seconds=1.2))
    assert len(got) >= 2
    assert all(e["alarm"] == "scan-restart" for e in got)
    assert [e["beat"] for e in got] == sorted(e["beat"] for e in got)
    assert link.hello()["gate_id"] == "front-door"  # the link answers as before


def beats_queued_by(link, beats: int) -> int:
    """Wait (no stream running) until the stand-in's heartbeat passed `beats`; its count then."""
    deadline = time.monotonic() + 10
    while (now := link.status()["counters"]["beats"]) < beats:
        assert time.monotonic() < deadline, "the stand-in's heartbeat stopped"
        time.sleep(0.1)
    return now


def test_what_happened_between_two_streams_comes_first_in_the_next(link):
    link.hello()
    first = [e["beat"] for e in link.events(seconds=0.5)]
    beats_queued_by(link, first[-1] + 30)  # two alarms or more while no stream ran
    second = [e["beat"] for e in link.events(seconds=0.3)]
    assert first + second == list(range(first[0], second[-1] + 1, 10))  # none missed


def test_a_long_wait_between_streams_keeps_the_newest_alarms(link):
    link.hello()
    first = [e["beat"] for e in link.events(seconds=0.5)]
    beats_queued_by(link, first[-1] + 10 * (EVENT_QUEUE_MAX + 4))  # more alarms than it holds
    second = [e["beat"] for e in link.events(seconds=0.3)]
    # Those sent as the first stream ended come first in the second (a loaded machine ends it
    # late); then the queue's newest: one gap, where the oldest went to make room.
    beats = first + second
    steps = [b - a for a, b in zip(beats, beats[1:])]
    assert len([s for s in steps if s != 10]) == 1 and max(steps) > 10, beats


def test_hello_starts_a_session_afresh_without_what_waited(link):
    link.hello()
    before = [e["beat"] for e in link.events(seconds=0.5)]
    waited = beats_queued_by(link, before[-1] + 30)
    link.hello()
    after = [e["beat"] for e in link.events(seconds=0.5)]
    assert after and after[0] > waited - waited % 10  # the alarms queued up to HELLO are gone


def raw_exchange(port, data: bytes, errors: int, timeout: float = 20.0) -> list[tuple]:
    """Send raw bytes; the parsed reply lines up to the `errors`-th ERR reply (a busy machine
    may take its time: what is waited for is the replies, not a fixed while)."""
    port.write(data)
    port.flush()
    replies, pending = [], b""
    deadline = time.monotonic() + timeout
    while sum(r[1] == wire.ERR for r in replies) < errors and time.monotonic() < deadline:
        *lines, pending = (pending + bytes(port.read(max(1, port.in_waiting)))).split(b"\n")
        replies += [wirehost.parse_reply(line) for line in lines if b"*" in line]
    return replies


def test_garbage_overlong_unknown_and_bad_checksum_get_error_replies(board, link):
    port = link.port
    replies = raw_exchange(port, b"hello there\n" + b"A" * 500 + b"\n" + wire.frame("12 DANCE")
                           + b"13 HELLO*00000000\n", errors=4)
    codes = [(r[0], r[2]["error"]) for r in replies if r[1] == wire.ERR]
    assert codes == [(0, wire.ERR_FORMAT), (0, wire.ERR_TOO_LONG), (12, wire.ERR_UNKNOWN),
                     (13, wire.ERR_CRC)]
    assert link.hello()["gate_id"] == "front-door"


def test_a_stray_ctrl_c_is_refused_and_the_gate_runs_on(board, link):
    before = beats(link)
    replies = raw_exchange(link.port, b"\r\x03\r", errors=1)
    assert [r[2]["error"] for r in replies if r[1] == wire.ERR] == [wire.ERR_FORMAT]
    raw_exchange(link.port, b"\x03\x03 HELLO\n", errors=1)
    assert beats(link) > before
    assert board.control.status()["boot_id"] == 1  # no reset, no crash


def test_random_bytes_while_running_get_errors_and_never_stop_the_gate(board, link):
    rng = random.Random(4)
    port = link.port
    before = beats(link)
    for _ in range(40):
        chunk = bytes(rng.randrange(256) for _ in range(rng.randrange(1, 300)))
        if b"\r\x03\r" in chunk:  # mpremote's break-in is not random garbage
            continue
        port.write(chunk + (b"\n" if rng.random() < 0.5 else b""))
        port.flush()
        time.sleep(0.03)
    port.write(b"\n")
    time.sleep(0.5)
    port.reset_input_buffer()
    assert link.hello()["gate_id"] == "front-door"
    assert beats(link) > before
    assert board.control.status()["boot_id"] == 1
    assert "Traceback" not in board.control.console()


def test_restart_resets_the_board_and_the_link_comes_back(board, link):
    boot = board.control.status()["boot_id"]
    assert link.request("RESTART") is None
    deadline = time.monotonic() + 15
    while board.control.status()["boot_id"] == boot and time.monotonic() < deadline:
        time.sleep(0.1)
    board.control.wait_console("STANDIN READY", timeout=15, since=0)
    assert link.hello()["gate_id"] == "front-door"


def test_maint_returns_to_the_repl_for_mpremote(board, link):
    assert link.request("MAINT") is None
    board.control.wait_console("STANDIN STOPPED", timeout=10)
    assert board.resume_exec("print(6 * 7)").strip() == "42"
    board.mpremote("reset")  # a hard reset: main.py and the link again
    board.control.wait_console("STANDIN READY", timeout=15)
    assert link.hello()["gate_id"] == "front-door"


def test_mpremote_breaks_in_while_the_link_runs(board):
    with GateLink(board.serial) as link:
        link.hello()
    since = board.control.request("console")["end"]
    result = board.mpremote("exec", "print('provisioning')", timeout=30)
    assert result.stdout.strip() == "provisioning"
    seen = board.control.console(since)
    assert "STANDIN STOPPED" in seen and "KeyboardInterrupt" not in seen  # stopped cleanly
    board.mpremote("reset")
    board.control.wait_console("STANDIN READY", timeout=15)
    with GateLink(board.serial) as link:
        assert link.hello()["gate_id"] == "front-door"


def test_opening_the_port_leaves_dtr_and_rts_low(board):
    with GateLink(board.serial) as link:
        assert link.port.dtr is False and link.port.rts is False
        assert link.hello()["gate_id"] == "front-door"


def test_a_port_that_does_not_answer_is_reported():
    master, slave = pty.openpty()
    try:
        with GateLink(os.ttyname(slave), timeout=0.3, retries=1) as link:
            with pytest.raises(LinkError) as silent:
                link.hello()
        assert silent.value.code == "no-reply"
        assert b"\x03" not in os.read(master, 4096)  # never a Ctrl-C
    finally:
        os.close(master)
        os.close(slave)


def test_gate_commands_for_it_staff(board):
    runner = CliRunner()
    hello = runner.invoke(cli.main, ["gate", "hello", "--port", board.serial, "--json"])
    assert hello.exit_code == 0, hello.output
    assert json.loads(hello.output)["gate_id"] == "front-door"
    status = runner.invoke(cli.main, ["gate", "status", "--port", board.serial])
    assert status.exit_code == 0 and "clock_valid:" in status.output and "uptime_ms:" in status.output
    set_time = runner.invoke(cli.main, ["gate", "time-set", "--port", board.serial, "--time",
                                        "1790000100", "--json"])
    assert json.loads(set_time.output)["time"] == 1_790_000_100
    got = runner.invoke(cli.main, ["gate", "config-get", "--port", board.serial, "--json"])
    assert json.loads(got.output) == config.checked(BASE_CONFIG)[0]
    refused = runner.invoke(cli.main, ["gate", "time-set", "--port", board.serial, "--time", "5"])
    assert refused.exit_code == 1 and "bad-args" in refused.output


def test_power_loss_makes_the_clock_invalid_until_set(board):
    with GateLink(board.serial) as link:
        link.time_set(1_790_000_000)
        assert link.status()["clock_valid"] is True
    since = board.control.request("console")["end"]
    board.control.power_off()
    board.control.power_on()
    board.control.wait_console("STANDIN READY", timeout=15, since=since)
    with GateLink(board.serial) as link:
        status = link.status()
        assert status["clock_valid"] is False and status["time"] < 1_577_836_800
        link.time_set(1_790_000_000)
        assert link.status()["clock_valid"] is True
