"""Where the gate's heap goes, against the firmware of a baseline commit in the same run.

    .venv/bin/python bench/footprint.py [--base COMMIT] [--now COMMIT] [--seconds 40] [--json FILE]

For this checkout's firmware/ (or --now's) deployed into the board's ROMFS (bzgate's image) and as
files (MicroPython's own image), and the baseline's as files (extracted with `git archive` into a
temporary folder; by default the commit before the memory model came in), it measures on virtual
boards:
1. the heap each firmware module keeps once imported (gc.mem_alloc after a collection, before
   and after its import; each after the modules it imports, so it is charged for itself), and
   the name table the firmware adds: MicroPython's qstr pools (micropython.qstr_info(): names
   beyond those of the board's startup, which are in ROM on the ESP32), on the heap too, each
   new pool twice the last (docs/esp32-notes.md, note 36); and the newest pool's room and the
   names in it (a probe interns names until the next pool is made): that many names fewer
   would leave the newest pool out; and the pools an ESP32 would make for the same names
   (esp32_name_pools): there the board's own names are in ROM, so the firmware's start in a
   pool of 20, where on the virtual board they follow the shims' and the REPL's;
2. the names a gate has interned once it has run a while with no host (boot-only modules
   included: their names stay when the modules go), with the uplink off and on, and how many
   fewer would spare an ESP32 its newest pool;
3. the gate's free heap and largest free block, at rest (a quiet office, after its first heap
   check) and at the least seen in a busy scenario (20 iPhones in the background, 500 random
   Bluezone IDs a second, a press every 10 s), with Wi-Fi and the MQTT uplink off and on, on a
   WROOM-32 and on a WROVER (docs/esp32-notes.md, note 38).

Bytes are ESP32 bytes: the unix port here is 64-bit, and the virtual board's heap holds as many
objects as the board's by counting 8-byte words where the ESP32 has 4-byte ones, so host bytes
are halved (bzsim.board.process.heap_bytes). That is exact for what is made of words (objects,
dicts, code) and under-states raw data (a bytearray's bytes are as many on both), so a firmware
of big byte buffers has less room on a real board than these figures say.
"""

import argparse
import ast
import contextlib
import json
import re
import shutil
import struct
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO / "tests" / "firmware"), str(REPO / "tests")]

from airpace import PaceWatch, mark  # noqa: E402
from boardkit import VirtualBoard  # noqa: E402
from gatekit import scenario, start_gate, stop_gate  # noqa: E402
from services import PrivateBroker  # noqa: E402
from uplinkkit import Host, uplink_config, wifi_args  # noqa: E402

from bzcore import config as gate_config  # noqa: E402
from bzgate.link.serial import LinkError  # noqa: E402
from bzprov.build import FIRMWARE, HOST_ONLY  # noqa: E402
from bzprov.virtual import install  # noqa: E402
from bzsim.shims import boardmemory  # noqa: E402

DEFAULT_BASE = "7d24a02^"  # the firmware before the memory model (issue 16)
# mqtt_async (PyPI micropython-mqtt), the MQTT client of firmware before gate.mqtt: `make bench`
# fetches it here for the comparisons against such commits
EARLIER_MQTT_CLIENT = REPO / "bench" / "results" / "lib" / "mqtt_async.py"
HOST_TO_ESP32 = 4 / struct.calcsize("P")
BUTTON = gate_config.board_pins(gate_config.defaults())["button"][0]  # the default board profile's
PRESS_EVERY_S = 10
REST_S = 14  # boot, then the gate's first heap check (HEAP_CHECK_MS, 10 s)
QSTR_INFO = re.compile(r"qstr pool: n_pool=(\d+), n_qstr=(\d+), n_str_data_bytes=(\d+), n_total_bytes=(\d+)")
# Each module: collect, note the heap, import, collect, note again; then the name table.
MEASURE = """
import gc, micropython
def used():
    gc.collect()
    return gc.mem_alloc()
micropython.qstr_info()
pending, retried, carried = %r, set(), 0
while pending:
    name = pending.pop(0)
    before = used()
    try:
        __import__(name)
    except ImportError:  # one side of an import cycle first: tried again after the other
        if name in retried:
            raise
        retried.add(name)
        pending.append(name)
        carried += used() - before  # what the failed try loaded: charged to the next one
        continue
    print("module", name, used() - before + carried)
    carried = 0
micropython.qstr_info()
# The room left in the newest pool: each getattr interns its name, and the name that finds the
# pool full makes the next one, a jump in the heap far beyond a name's own bytes.
left, last = 0, gc.mem_alloc()
while True:
    getattr(used, "zq%%d" %% left, None)
    now = gc.mem_alloc()
    if now - last > 4096:
        break
    left, last = left + 1, now
print("room left", left)
"""
LEFT = re.compile(r"room left (\d+)")
# A gate as main.py builds it, run for a while with nobody on its USB port (the host link is
# then never loaded), between two counts of the name table; the port's and the board's own
# modules are imported before the first, as their names are in an ESP32's ROM.
RUNNING = """
import micropython, sys
for name in %r:
    try:
        __import__(name)
    except ImportError:
        pass
micropython.qstr_info()
import bluetooth
bluetooth.BLE().active(True)
for name in %r:
    __import__(name)
import asyncio, gate.app
app = gate.app.App()
async def stop_later():
    await asyncio.sleep(%d)
    app._stop.set()
async def run():
    asyncio.create_task(stop_later())
    await app.run()
asyncio.run(run())
micropython.qstr_info()
print("uplink ran", "uplink" in app.status())
"""
RUNNING_S = 12
MAIN_IMPORTS = re.compile(r"for name in (\(.*?\)):", re.S)


def image_args(romfs: bool) -> tuple[str, ...]:
    """The virtual board's arguments for bzgate's image (a ROMFS) or MicroPython's own."""
    return () if romfs else ("--no-romfs",)


def esp32_bytes(host: int | None) -> int | None:
    return None if host is None else round(host * HOST_TO_ESP32)


def extract(commit: str, into: Path) -> Path:
    """The firmware/ folder of a commit, as files; with the MQTT client of PyPI in its lib/ when
    its uplink used that one (before gate.mqtt), so that a deploy puts it in /lib as it did."""
    archive = subprocess.run(["git", "-C", str(REPO), "archive", commit, "firmware"],
                             capture_output=True, check=True).stdout
    subprocess.run(["tar", "-x", "-C", str(into)], input=archive, check=True)
    firmware = into / "firmware"
    if "import mqtt_async" in (firmware / "gate" / "uplink.py").read_text():
        if not EARLIER_MQTT_CLIENT.is_file():
            raise SystemExit(f"{commit}'s firmware needs {EARLIER_MQTT_CLIENT}: `make bench` fetches it")
        (firmware / "lib").mkdir(exist_ok=True)
        shutil.copy(EARLIER_MQTT_CLIENT, firmware / "lib")
    return firmware


def _imported(source: Path) -> list[str]:
    """Every module a source file imports, and each name it takes from one as "module.name"
    (which may be a module too)."""
    found = []
    for node in ast.walk(ast.parse(source.read_text())):
        if isinstance(node, ast.Import):
            found += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module:
            found += [node.module] + [f"{node.module}.{alias.name}" for alias in node.names]
    return found


def _imports(source: Path, names: set[str]) -> list[str]:
    """The modules of `names` that a source file imports."""
    return [name for name in _imported(source) if name in names]


def module_names(firmware: Path) -> list[str]:
    """Every package module that goes onto a board (not bzcore's host-only parts) and those of
    lib/ (an earlier firmware's MQTT client: /lib is on the board's path), each after what it
    imports, so that each is charged for itself alone."""
    sources = {p.stem if p.parent.name == "lib" else
               ".".join(p.relative_to(firmware).with_suffix("").parts): p
               for p in sorted(firmware.glob("*/*.py"))
               if p.name != "__init__.py" and p.relative_to(firmware).as_posix() not in HOST_ONLY}
    names = set(sources)
    order, seen = [], set()

    def visit(name):
        if name in seen:  # done, or under way: a cycle is cut here (MEASURE tries again)
            return
        seen.add(name)
        for dependency in _imports(sources[name], names) if name in sources else ():
            visit(dependency)
        order.append(name)

    for name in sorted(names):
        visit(name)
    return order


def port_modules(firmware: Path) -> list[str]:
    """The modules the firmware imports that are not its own: the port's and the board's."""
    found = {name.split(".")[0] for source in firmware.rglob("*.py") for name in _imported(source)}
    return sorted(found - {"gate", "bzcore"})


def running_names(firmware: Path, where: Path, romfs: bool, uplink: bool) -> dict:
    """The names a running gate has interned with no host talking, and the pools an ESP32 would
    make for them. With the uplink: a virtual WROVER (a WROOM-32 refuses it) and a broker and
    host of its own. Names the board's stand-ins intern while running are counted too."""
    flash = where / "flash"
    boot_order = ast.literal_eval(MAIN_IMPORTS.search((firmware / "main.py").read_text()).group(1))
    with contextlib.ExitStack() as stack:
        config = {"trigger": "button"}
        args = ("--module", boardmemory.WROOM_32)
        if uplink:
            config.update(uplink_config(private_uplink(stack)))
            args = wifi_args(boardmemory.WROVER)
        install(flash, config, firmware, romfs)
        for script in ("boot.py", "main.py"):  # the script below does what they do
            (flash / script).unlink()
        board = VirtualBoard(flash, *args, *image_args(romfs))
        try:
            out = board.mpremote("exec", RUNNING % (port_modules(firmware), boot_order, RUNNING_S),
                                 timeout=120).stdout
        finally:
            board.stop()
    before, after = ([int(v) for v in m.groups()] for m in QSTR_INFO.finditer(out))
    names = after[1] - before[1]
    return {"names": names, "uplink_ran": "uplink ran True" in out, **esp32_name_pools(names)}


def module_costs(firmware: Path, where: Path, romfs: bool) -> dict:
    """{"modules": {name: ESP32 bytes}, "qstr": {...}} on a WROVER board (room for every
    module) at its REPL: the firmware deployed without boot.py and main.py, so nothing is
    loaded before the count and the gate does not start.
    The name table's bytes are counted in the modules' too."""
    flash = where / "flash"
    install(flash, {}, firmware, romfs)
    for script in ("boot.py", "main.py"):  # boot.py would load gate.outputs before the count
        (flash / script).unlink()
    board = VirtualBoard(flash, "--module", boardmemory.WROVER, *image_args(romfs))
    try:
        out = board.mpremote("exec", MEASURE % (module_names(firmware),), timeout=120).stdout
    finally:
        board.stop()
    modules = {}
    for line in out.splitlines():
        if line.startswith("module "):
            _, name, used = line.split()
            modules[name] = esp32_bytes(int(used))
    before, after = ([int(v) for v in m.groups()] for m in QSTR_INFO.finditer(out))
    pools, names, data, total = (a - b for a, b in zip(after, before))
    left = int(LEFT.search(out).group(1))
    return {"modules": modules, "qstr": {"pools": pools, "names": names, "data_bytes": data,
                                         "bytes": esp32_bytes(total),
                                         "pool_bytes": esp32_bytes(total - data),
                                         **newest_pool(after[0], after[1], left),
                                         **esp32_name_pools(names)}}


def newest_pool(n_pool: int, n_qstr: int, left: int) -> dict:
    """The newest qstr pool's room and the names in it, from the pools' count, the names in all
    of them and the room left: each pool has twice the room of the one before (py/qstr.c,
    qstr_add), so all n_pool of them hold first * (2**n_pool - 1). Names fewer by
    "newest_pool_names" would leave that pool out."""
    first, rest = divmod(n_qstr + left, 2 ** n_pool - 1)
    if rest:  # not a doubling series: nothing to say
        return {"newest_pool_room": None, "newest_pool_names": None}
    room = first * 2 ** (n_pool - 1)
    return {"newest_pool_room": room, "newest_pool_names": room - left}


# An ESP32's qstr pool (py/qstr.h, qstr_pool_t): six 4-byte words, then for each entry a 4-byte
# pointer, a 2-byte hash (the port's ROM level, MICROPY_QSTR_BYTES_IN_HASH) and a 1-byte length;
# its heap hands out 16-byte blocks. The ROM pools have room for MICROPY_ALLOC_QSTR_ENTRIES_INIT
# (10), so the first pool made at run time has room for 20 (py/qstr.c, qstr_add).
ESP32_POOL_HEADER, ESP32_POOL_ENTRY, ESP32_BLOCK, ESP32_FIRST_POOL = 24, 7, 16, 20


def esp32_name_pools(names: int) -> dict:
    """The pools an ESP32 makes for `names` names interned at run time, their heap bytes, and
    how many names fewer would leave the newest pool (and its bytes) out."""
    pools = room = used = newest = 0
    size = ESP32_FIRST_POOL
    while room < names:
        newest = -(-(ESP32_POOL_HEADER + ESP32_POOL_ENTRY * size) // ESP32_BLOCK) * ESP32_BLOCK
        pools, room, used = pools + 1, room + size, used + newest
        size *= 2
    return {"esp32_pools": pools, "esp32_pool_room": room, "esp32_pool_bytes": used,
            "esp32_newest_pool_bytes": newest, "esp32_names_over": names - (room - size // 2)
            if pools else 0}


def busy_scenario() -> dict:
    phones = [{"name": f"bg{i}", "platform": "ios-background", "gate": "front", "arrive_s": 0,
               "dwell_s": 3600, "path": "linger", "daily_key": "00" * 32} for i in range(20)]
    return scenario(phones, noise={"random_bluezone_ids_per_s": 500, "other_adverts_per_s": 20})


def _status(board) -> dict | None:
    try:
        return board.status()
    except (LinkError, OSError):  # a reply lost to a full heap: counted as a missed sample
        return None


def gate_heap(firmware: Path, where: Path, module: str, uplink: bool, seconds: float,
              busy: bool, romfs: bool) -> dict:
    """The least free heap and largest block over STATUS, every second for `seconds`. With the
    uplink, a broker and a host of this gate's own: no ack retained for another board."""
    with contextlib.ExitStack() as stack:
        port = private_uplink(stack) if uplink else None
        return _sample(firmware, where, module, port, seconds, busy, romfs)


def private_uplink(stack: contextlib.ExitStack) -> int:
    """A broker and a host of one gate's own, kept for the stack's life: no ack retained for
    another board. Its port."""
    port = stack.enter_context(PrivateBroker()).port
    stack.callback(Host(port, "bzgate", "test-gate").close)
    return port


def _sample(firmware: Path, where: Path, module: str, uplink_port: int | None, seconds: float,
            busy: bool, romfs: bool) -> dict:
    config = {"trigger": "button", "wait_s": 0, "antipassback_s": 0,
              **(uplink_config(uplink_port) if uplink_port else {})}
    args = (*(wifi_args(module) if uplink_port else ("--module", module)), *image_args(romfs))
    board = start_gate(where, config=config, board_args=args, firmware=firmware,
                       scenario_dict=busy_scenario() if busy else scenario())
    try:
        samples, missed, started, next_press = [], 0, time.monotonic(), PRESS_EVERY_S
        pace = PaceWatch(board.air)
        while time.monotonic() - started < seconds:
            time.sleep(1)
            elapsed = time.monotonic() - started
            if busy and elapsed >= next_press:
                board.control.press(BUTTON, 0.1)
                next_press += PRESS_EVERY_S
            status = _status(board)
            if status is None:
                missed += 1
            elif elapsed >= REST_S or busy:
                samples.append(status)
                pace.sample()
        last = samples[-1] if samples else {}
        counted = last["adverts"] - samples[0]["adverts"] if samples else 0
        # STATUS about every second: the adverts the board heard, per second
        heard = counted / (len(samples) - 1) if len(samples) > 1 else None
        return {"free": esp32_bytes(min((s["heap_free"] for s in samples), default=None)),
                "adverts_per_s": None if heard is None else round(heard),
                "air": pace.verdict(counted) if busy else None,
                "largest": esp32_bytes(min((s["heap_largest"] for s in samples
                                            if s["heap_largest"]), default=None)),
                "idf_largest": min((s["idf_largest"] for s in samples if "idf_largest" in s),
                                   default=None),  # None: a firmware that does not report it
                "alarms": last.get("alarms"), "decisions": last.get("decisions"),
                "uplink": "uplink" in last,
                "records_sent": last.get("uplink", {}).get("records"), "missed_replies": missed}
    finally:
        stop_gate(board)


def gate_runs(firmware: Path, where: Path, seconds: float, romfs: bool) -> dict:
    runs = {}
    for module in (boardmemory.WROOM_32, boardmemory.WROVER):
        for uplink in (False, True):
            key = f"{module} uplink {'on' if uplink else 'off'}"
            folder = where / key.replace(" ", "-")
            runs[key] = {"rest": gate_heap(firmware, folder / "rest", module, uplink, REST_S + 2,
                                           False, romfs),
                         "busy": gate_heap(firmware, folder / "busy", module, uplink, seconds,
                                           True, romfs)}
            print(json.dumps({key: runs[key]}), flush=True)
    return runs


def _cell(value) -> str:
    return "-" if value is None else f"{value:,}" if isinstance(value, int) else str(value)


def heard_cell(busy: dict) -> str:
    """Adverts the board heard a second, of those the air played, flagged when the run does
    not count (bench/airpace.py)."""
    air = busy.get("air") or {}
    return (f"{_cell(busy.get('adverts_per_s'))} of {_cell(air.get('played_per_s'))}"
            f"{mark(air)}")


# What is measured: (results' key, firmware tree, deployed into the ROMFS).
VARIANTS = (("now", "now", True), ("now, files", "now", False), ("base", "base", False))


def print_tables(results: dict) -> None:
    keys = [key for key, _, _ in VARIANTS]
    names = sorted(set().union(*(results[k]["modules"] for k in keys)),
                   key=lambda n: (not n.startswith("bzcore"), n))
    print("\n| module (ESP32 bytes kept once imported) | " + " | ".join(keys) + " |\n|---|"
          + "---:|" * len(keys))
    rows = [(name, [results[k]["modules"].get(name) for k in keys]) for name in names]
    rows.append(("total", [sum(results[k]["modules"].values()) for k in keys]))
    for name, cells in rows:
        print(f"| {name} | " + " | ".join(_cell(c) for c in cells) + " |")
    for key in keys:
        q = results[key]["qstr"]
        print(f"\nname table ({key}): {q['names']:,} names in {q['pools']} pools, "
              f"{q['data_bytes']:,} bytes of text, {q['bytes']:,} bytes in all; the newest pool "
              f"has room for {_cell(q['newest_pool_room'])} names and holds "
              f"{_cell(q['newest_pool_names'])}: that many fewer would leave it out; the pools "
              f"take {_cell(q.get('pool_bytes'))} bytes here, where an ESP32 would make "
              f"{q['esp32_pools']} pools with room for {q['esp32_pool_room']:,} names, "
              f"{q['esp32_pool_bytes']:,} bytes")
    print("\n| names a gate has interned after running with no host | " + " | ".join(keys)
          + " |\n|---|" + "---:|" * len(keys))
    for run in results["now"]["running_names"]:
        cells = [results[k]["running_names"][run] for k in keys]
        print(f"| {run} | " + " | ".join(
            f"{c['names']:,}: an ESP32's {c['esp32_pools']} pools, {c['esp32_pool_bytes']:,} bytes; "
            f"{c['esp32_names_over']:,} fewer would save {c['esp32_newest_pool_bytes']:,}"
            + ("" if c["uplink_ran"] or run.endswith("off") else " (the uplink did not run)")
            for c in cells) + " |")
    print("\n| gate | firmware | at rest: free / largest | busy, least: free / largest "
          "| adverts heard/s of those played, busy | IDF largest | alarms | records sent |\n"
          "|---|---|---:|---:|---:|---:|---|---:|")
    for gate in results["now"]["gate"]:
        for key in keys:
            run = results[key]["gate"][gate]
            print(f"| {gate} | {key} | {_cell(run['rest']['free'])} / {_cell(run['rest']['largest'])} "
                  f"| {_cell(run['busy']['free'])} / {_cell(run['busy']['largest'])} "
                  f"| {heard_cell(run['busy'])} | {_cell(run['busy']['idf_largest'])} "
                  f"| {', '.join(run['busy']['alarms'] or []) or '-'} "
                  f"| {_cell(run['busy']['records_sent'])} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--base", default=DEFAULT_BASE, help="the baseline commit")
    parser.add_argument("--now", help="a commit to measure instead of the checkout's firmware/")
    parser.add_argument("--seconds", type=float, default=40, help="each busy run")
    parser.add_argument("--json", type=Path, default=REPO / "bench" / "results" / "footprint.json")
    args = parser.parse_args()
    where = Path(tempfile.mkdtemp(prefix="footprint-"))
    try:
        (where / "now-tree").mkdir()
        (where / "base-tree").mkdir()
        trees = {"now": extract(args.now, where / "now-tree") if args.now else FIRMWARE,
                 "base": extract(args.base, where / "base-tree")}
        results = {}
        for key, tree, romfs in VARIANTS:
            folder = where / key.replace(", ", "-")
            results[key] = module_costs(trees[tree], folder / "modules", romfs)
            print(json.dumps({key: results[key]}), flush=True)
            results[key]["running_names"] = {
                f"uplink {'on' if uplink else 'off'}": running_names(
                    trees[tree], folder / f"names-{uplink}", romfs, uplink)
                for uplink in (False, True)}
            print(json.dumps({key: results[key]["running_names"]}), flush=True)
            results[key]["gate"] = gate_runs(trees[tree], folder, args.seconds, romfs)
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps({"base": args.base, "now": args.now, **results}, indent=1))
        print_tables(results)
    finally:
        shutil.rmtree(where, ignore_errors=True)


if __name__ == "__main__":
    main()
