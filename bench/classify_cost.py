"""`make bench`: instructions per advert for bzcore.adv.classify on the MicroPython interpreter.

Each figure is (instructions of a run over N adverts - instructions of a run over 0) / N,
counted by valgrind's callgrind, for classify and for the naive baseline in the same run.
Figures are printed and saved to bench/results/classify.json.
"""

import json
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
MICROPYTHON = Path(sys.executable).parent / "micropython"
N = 2000
HEAP = "96K"  # a board's Python heap with BLE on: garbage collection is part of the cost

# name -> (advert hex, bar in instructions per advert or None)
ADVERTS = {
    "android (Bluezone ID in the advert)":
        ("0201020FFFB522130CEA6472130C185D8643DF0303564E", 30000),
    "not Bluezone (Apple Nearby)": ("02011A0AFF4C00100501183A5B6C", 8000),
    "iPhone in the background (overflow area)":
        ("02011A14FF4C000108000000000000000000000000000000", None),
    "not Bluezone (31 bytes: name, 128-bit UUID)":
        ("0201060809536D6172745457" "110700112233445566778899AABBCCDDEEFF", None),
}


def callgrind(script: Path, *args: str, heap: str = HEAP) -> int:
    """Instructions of one MicroPython run of a bench script, counted by callgrind."""
    env = dict(os.environ, MICROPYPATH=f"{REPO / 'firmware'}:{BENCH}:.frozen", PYTHONHASHSEED="0")
    with tempfile.TemporaryDirectory() as tmp:
        run = subprocess.run(
            ["valgrind", "--tool=callgrind", f"--callgrind-out-file={tmp}/out",
             str(MICROPYTHON), "-X", f"heapsize={heap}", str(script), *args],
            env=env, capture_output=True, text=True, check=True)
    return int(re.search(r"Collected : (\d+)", run.stderr).group(1))


def instructions(which: str, hex_advert: str, n: int) -> int:
    return callgrind(BENCH / "classify_loop.py", which, hex_advert, str(n))


def per_advert(which: str, hex_advert: str) -> int:
    return round((instructions(which, hex_advert, N) - instructions(which, hex_advert, 0)) / N)


def main() -> int:
    rows = []
    missed = []
    print(f"bzcore.adv.classify on MicroPython, instructions per advert (callgrind, N={N})")
    print(f"{'advert':<46}{'classify':>10}{'baseline':>10}{'ratio':>8}{'bar':>8}")
    for name, (hex_advert, bar) in ADVERTS.items():
        fast = per_advert("fast", hex_advert)
        naive = per_advert("naive", hex_advert)
        ratio = naive / fast
        rows.append({"advert": name, "hex": hex_advert, "classify": fast, "baseline": naive,
                     "ratio": round(ratio, 2), "bar": bar,
                     "esp32_us_at_240mhz": round(fast / 240, 1)})
        print(f"{name:<46}{fast:>10}{naive:>10}{ratio:>7.1f}x{bar or '-':>8}")
        if bar is not None and (fast > bar or ratio < 2):
            missed.append(name)
    out = BENCH / "results"
    out.mkdir(exist_ok=True)
    (out / "classify.json").write_text(json.dumps({"n": N, "heap": HEAP, "rows": rows}, indent=1))
    print(f"saved {out / 'classify.json'}")
    print("At about one instruction per cycle, an ESP32 at 240 MHz spends instructions/240 us"
          " per advert.")
    for name in missed:
        print(f"MISSED the bar (<= bar and >= 2x cheaper than the baseline): {name}")
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
