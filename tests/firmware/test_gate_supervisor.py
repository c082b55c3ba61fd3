"""The supervisor on the virtual board: the relay safe from the first instant, the BOOT event,
configuration errors (events, slow red blink, never a crash loop), safe mode after three
crashes within ten minutes, and a firmware that does not load tried three times, then left."""

import time

from decisionkit import BUTTON, RED, RELAY, press_and_watch
from gatekit import wait_until
from toolchain import REPO, micropython

from bzcore import record


def events(board, code, wait=True):
    """The EVENT payloads of a code; with wait, until there is one (the journal flushes every
    5 s)."""
    deadline = time.monotonic() + 12
    while True:
        found = [e for e in board.of_kind(record.EVENT) if e["code"] == code]
        if found or not wait or time.monotonic() > deadline:
            return found
        time.sleep(0.5)


def red_changes(board, seconds):
    since = time.time()
    time.sleep(seconds)
    return len(board.levels(RED, since))


def test_the_relay_is_driven_safe_first_and_boot_is_journaled_with_the_reset_cause(gate):
    board = gate()
    assert wait_until(lambda: board.status()["uptime_ms"] > 0)
    history = board.control.pins()["history"]
    assert history[0][1:] == [RELAY, 0], "boot.py drives the relay off before any other pin"
    boot, = events(board, record.BOOT)
    assert boot["detail"] == 1  # machine.PWRON_RESET
    assert events(board, record.KEY_CREATED), "no key was provisioned: the board made one"
    assert events(board, record.CONFIG_ERROR, wait=False) == []
    assert red_changes(board, 2.5) == 0


def test_bad_config_fields_fall_back_to_defaults_with_an_event_each_and_a_slow_red_blink(gate):
    board = gate(config={"near_rssi": "near", "relay_pulse_ms": 10**9, "colour": "red"})
    assert wait_until(lambda: "config-error" in board.status()["alarms"])
    texts = sorted(e["text"] for e in events(board, record.CONFIG_ERROR))
    assert texts == [b'"colour"', b"near_rssi", b"relay_pulse_ms"]
    assert 2 <= red_changes(board, 4.5) <= 6, "1 s on, 1 s off"
    seen = press_and_watch(board, lambda: board.control.press(BUTTON))
    assert 1 not in seen[RELAY]  # defaults: nobody near, DENY


def test_a_config_file_that_is_not_json_gives_defaults_and_no_crash_loop(gate):
    board = gate()
    assert board.status()["boot_id"] == 1
    (board.flash / "config.json").write_text("{mode: enforce")
    board.control.power_off()
    board.control.power_on()
    # the event is flushed once the gate has run on its defaults for a while
    assert any(e["text"] == b"config.json" for e in events(board, record.CONFIG_ERROR))
    status = board.status()
    assert status["boot_id"] == 2 and status["mode"] == "enforce" and not status["safe_mode"]
    assert board.control.status()["reset_cause"] == 1, "no reset since power-on"


def test_three_crashes_within_ten_minutes_boot_into_safe_mode(gate):
    board = gate()
    with board.link() as link:
        link.request("MAINT")
    # Three crashes as main() counts them (RTC memory survives the reset), then a reset.
    board.mpremote("exec", "from gate import crashes\nfor _ in range(3): crashes.note()",
                   "reset")
    assert wait_until(lambda: board.status()["safe_mode"], timeout=10)
    status = board.status()
    assert "safe-mode" in status["alarms"] and status["adverts"] == 0
    seen = press_and_watch(board, lambda: board.control.press(BUTTON))
    assert 1 not in seen[RELAY] and len(seen[RED]) >= 4, "relay safe, fast red blink"
    assert board.status()["decisions"] == 0
    safe, = events(board, record.SAFE_MODE)
    assert safe["detail"] == 3


def test_a_firmware_that_does_not_load_is_tried_three_times_then_left_at_the_repl(gate):
    board = gate(board_args=("--no-romfs",))  # its modules as files, one of which is damaged
    with board.link() as link:
        link.request("MAINT")
    (board.flash / "gate" / "policy.mpy").write_bytes(b"M\x06 not a module any more")
    since, started = board.control.status()["console_end"], time.time()
    board.control.power_off()
    board.control.power_on()  # RTC memory starts empty: no crash counted yet
    console = board.control.wait_console("the firmware does not load", timeout=40, since=since)
    board.control.wait_console(">>> ", timeout=10, since=since + console.rindex("does not load"))
    assert console.count("rst:") == 3, "power-on, then a reset after each of two failures"
    assert console.count("Traceback") == 3
    assert 1 not in board.levels(RELAY, started), "the relay stayed safe throughout"
    out = board.resume_exec("from gate import crashes\nprint(len(crashes.recent()))")
    assert out.strip() == "3"


# The supervisor's logic on the MicroPython interpreter, with the virtual board's shims for the
# modules gate.app imports (nothing is connected: no radio, no pins are touched).
SUPERVISOR = """
import asyncio, gc, time
for name in ("bzcore.record", "gate.journal", "gate.policy", "gate.app"):
    gc.collect()  # one module at a time, as main.py loads them: the heap stays in large pieces
    __import__(name)
import struct
from gate import app as gate_app

logged = []
class Journal:
    def flush(self):
        logged.append("flush")

app = object.__new__(gate_app.App)
app.journal = Journal()
app.alarms, app.subscribers, app.tasks, app.heap_least = [], [], [], None
def event_fields(rec):  # an event's code, detail and text (bzcore.recordread is not on a board)
    code, detail, size = struct.unpack_from(">BiB", rec[1])
    return {"code": code, "detail": detail, "text": rec[1][6:6 + size]}
app.log = lambda rec: logged.append(event_fields(rec))
app._stop = asyncio.Event()
"""


def supervise(tmp_path, packages, code):
    script = tmp_path / "supervisor.py"
    script.write_text(SUPERVISOR + code)
    return micropython(script, path=(packages, packages / "lib", REPO / "sim" / "shims"), timeout=60)


def test_a_failing_task_is_restarted_and_logged_and_one_that_keeps_failing_ends_the_program(tmp_path, board_packages):
    out = supervise(tmp_path, board_packages, """
runs = [0]
async def flaky(beat):
    runs[0] += 1
    if runs[0] <= 2:
        raise ValueError("boom")
    await asyncio.sleep_ms(10)

async def broken(beat):
    raise OSError(5)

async def main():
    await app._supervise(gate_app._Task("flaky", flaky))
    print("flaky", runs[0], [(e["code"], e["detail"], e["text"]) for e in logged], app.alarms)
    del logged[:]
    try:
        await app._supervise(gate_app._Task("broken", broken))
    except gate_app.Fatal as e:
        print("fatal", e, [e if e == "flush" else (e["code"], e["detail"]) for e in logged])

asyncio.run(main())
""")
    flaky, fatal = out.splitlines()
    restart = record.TASK_RESTART
    assert flaky == (f"flaky 3 [({restart}, 1, b'flaky'), ({restart}, 2, b'flaky')] "
                     "['task-restart']")
    assert fatal == (f"fatal broken [({restart}, 1), ({restart}, 2), ({restart}, 3), ({restart}, 4),"
                     f" ({record.TASK_FAILED}, 5), 'flush']")


def test_the_watchdog_is_fed_only_while_every_task_reports_healthy(tmp_path, board_packages):
    out = supervise(tmp_path, board_packages, """
class Wdt:
    feeds = 0
    def feed(self):
        Wdt.feeds += 1

quiet = gate_app._Task("quiet", None)
busy = gate_app._Task("busy", None)
app.tasks = [quiet, busy]
quiet.last_beat = time.ticks_add(time.ticks_ms(), -gate_app.HEALTHY_MS)

async def main():
    wdt = Wdt()
    watch = asyncio.create_task(app._watchdog(wdt))
    await asyncio.sleep_ms(2500)
    print(Wdt.feeds)
    quiet.beat()
    await asyncio.sleep_ms(2500)
    print(Wdt.feeds)
    watch.cancel()

asyncio.run(main())
""")
    unhealthy, healthy = map(int, out.split())
    assert unhealthy == 0 and healthy >= 2  # fed once a second once both tasks beat


def test_config_set_applies_policy_fields_at_once_and_restarts_for_the_mode(gate):
    board = gate(config={"present_s": 8, "relay_pulse_ms": 500, "wait_s": 1})
    with board.link() as link:
        link.config_set({"present_s": 5, "near_rssi": -70})
        status = link.status()
        assert status["boot_id"] == 1, "policy fields need no restart"
        link.config_set({"mode": "monitor"})
    assert wait_until(lambda: board.status()["boot_id"] == 2, timeout=15)
    with board.link() as link:
        assert link.status()["mode"] == "monitor"
        assert link.config_get()["present_s"] == 5
    seen = press_and_watch(board, lambda: board.control.press(BUTTON))
    assert seen[RELAY][:2] == [1, 0], "monitor opens for everyone"
