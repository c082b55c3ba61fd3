"""What the Wi-Fi uplink costs in heap, this checkout's firmware against an earlier commit's in
the same run (by default the one before gate.mqtt, whose uplink used mqtt_async from PyPI).

    .venv/bin/python bench/uplink_heap.py [--base COMMIT] [--seconds 15] [--json FILE]

For each firmware, deployed into the ROMFS of a virtual WROVER (bzgate's image; the Wi-Fi
station's memory is then outside the Python heap, so what is counted is the uplink's own), at
its REPL without the gate (ESP32 bytes, gc.mem_alloc after a collection):
- "modules": importing gate.uplink and what it brings (the MQTT client, bzcore.uplink), after
  what the gate has loaded before it (gate.hostlink, the asyncio parts the gate uses);
- "construction": Uplink(app) for a stand-in app;
- "running": the most in use, above that, while it runs against a private Mosquitto and sends
  a journal of RECORDS records in batches, sampled every 100 ms.
"""

import argparse
import json
import shutil
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO / "bench"), str(REPO / "tests" / "firmware"), str(REPO / "tests")]

from boardkit import VirtualBoard  # noqa: E402
from footprint import esp32_bytes, extract  # noqa: E402
from services import PrivateBroker  # noqa: E402
from uplinkkit import PASSWORD, SSID, uplink_config  # noqa: E402

from bzprov.build import FIRMWARE  # noqa: E402
from bzprov.virtual import install  # noqa: E402
from bzsim.shims import boardmemory  # noqa: E402

DEFAULT_BASE = "4103788^"  # the uplink through mqtt_async
RECORDS = 400
# At the board's REPL: the stand-in app hands out RECORDS 48-byte records (seq first) and no ack.
MEASURE = """
import gc, time, asyncio, json, errno, select, socket, network, machine
import gate.hostlink
asyncio.StreamReader, asyncio.Event  # loaded by the gate's host link and queues before the uplink
def used():
    gc.collect()
    return gc.mem_alloc()
class Journal:
    def read_from(self, seq, n):
        return [s.to_bytes(4, "big") + bytes(44) for s in range(seq, min(seq + n, %(records)d))]
    def ack(self, seq):
        pass
    def stats(self):
        return {"acked": -1}
class Events:
    async def get(self):
        await asyncio.sleep(3600)
class App:
    journal = Journal()
    config = %(config)r
    def subscribe_events(self):
        return Events()
    def status(self):
        return {}
app = App()
start = used()
from gate import uplink
imported = used()
link = uplink.Uplink(app)
built = used()
async def main():
    task = asyncio.create_task(link.run())
    peak, end = built, time.ticks_add(time.ticks_ms(), %(seconds)d)
    while time.ticks_diff(end, time.ticks_ms()) > 0:
        await asyncio.sleep_ms(100)
        peak = max(peak, used())
    task.cancel()
    await asyncio.sleep_ms(100)
    return peak
peak = asyncio.run(main())
print("RESULT", json.dumps({"modules": imported - start, "construction": built - imported,
                            "running": peak - built, "records": link.counters()["records"]}))
"""


def measure(firmware: Path, where: Path, seconds: float) -> dict:
    flash = where / "flash"
    with PrivateBroker() as broker:
        config = {"gate_id": "bench-gate", **uplink_config(broker.port, username=None, password=None)}
        install(flash, {}, firmware, romfs=True)
        for script in ("boot.py", "main.py"):  # the gate must not start: the REPL measures
            (flash / script).unlink()
        board = VirtualBoard(flash, "--module", boardmemory.WROVER, "--wifi", f"{SSID}:{PASSWORD}")
        try:
            script = MEASURE % {"records": RECORDS, "config": config, "seconds": seconds * 1000}
            out = board.mpremote("exec", script, timeout=seconds + 60).stdout
        finally:
            board.stop()
    found = json.loads(out.split("RESULT", 1)[1])
    return {key: value if key == "records" else esp32_bytes(value) for key, value in found.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--base", default=DEFAULT_BASE, help="the earlier commit")
    parser.add_argument("--seconds", type=float, default=15)
    parser.add_argument("--json", type=Path, default=REPO / "bench" / "results" / "uplink_heap.json")
    args = parser.parse_args()
    where = Path(tempfile.mkdtemp(prefix="uplink-heap-"))
    try:
        (where / "base-tree").mkdir()
        results = {"now": measure(FIRMWARE, where / "now", args.seconds),
                   "base": measure(extract(args.base, where / "base-tree"), where / "base", args.seconds)}
    finally:
        shutil.rmtree(where, ignore_errors=True)
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps({"base": args.base, **results}, indent=1))
    print(f"\n| uplink, ESP32 bytes | now | {args.base} |\n|---|---:|---:|")
    for key in ("modules", "construction", "running"):
        print(f"| {key} | {results['now'][key]:,} | {results['base'][key]:,} |")
    print(f"| records sent in {args.seconds:g} s | {results['now']['records']} | "
          f"{results['base']['records']} |")


if __name__ == "__main__":
    main()
