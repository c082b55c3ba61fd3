# Drives the gate's scan path (IRQ handler -> ring -> classify -> presence) on MicroPython with
# the memoryviews a BLE IRQ hands over, as bench/scan_path.py and the scan-path tests run it:
#   micropython bench/scan_loop.py HEX[*TIMES][,HEX[*TIMES]...] N [DEVICES [DRAIN_EVERY]]
# The adverts take turns (HEX*8: eight turns in a row; the unix port dies on an argument of
# some 200 characters, so a mix is written that way); DEVICES addresses (and, in Android adverts, IDs) take turns too. The
# consumer drains the ring every DRAIN_EVERY adverts. Prints one JSON line: adverts, bluezone,
# drops, irq_errors, devices in the table, heap bytes in use after 1% and at the end (after a
# collection), and the time taken.
import gc
import json
import sys
import time

from gate.presence import Presence
from gate.radio import Radio

ID_LAST = 18  # offset of an Android advert's last ID byte


def _nothing(*_args):
    pass


def _is_android(adv):
    return len(adv) > ID_LAST + 1 and adv[5] == 0xB5 and adv[6] == 0x22


def main(hexes, n, devices, drain_every):
    presence = Presence(-60, _nothing)
    radio = Radio(None, 30000, 30000, _nothing, _nothing)
    addr = bytearray(b"\x40\x00\x00\x00\x00\x00")
    adverts = []
    for item in hexes.split(","):
        hex_advert, _, times = item.partition("*")
        adverts += [bytearray(bytes.fromhex(hex_advert))] * int(times or 1)
    calls = [(1, memoryview(addr), 0, -50, memoryview(a)) for a in adverts]
    android = [_is_android(a) for a in adverts]
    kinds = len(adverts)
    irq = radio._irq
    drain = radio.drain
    warm = n // 100
    heap_warm = 0
    started = time.ticks_us()
    for k in range(n):
        d = k % devices
        addr[4] = d >> 8
        addr[5] = d & 0xFF
        j = k % kinds
        if android[j]:
            adverts[j][ID_LAST - 1] = d >> 8
            adverts[j][ID_LAST] = d & 0xFF
        irq(5, calls[j])
        if k % drain_every == 0:
            drain(presence, None, k, 1600416300)
        if k == warm:
            gc.collect()
            heap_warm = gc.mem_alloc()
    drain(presence, None, n, 1600416300)
    elapsed = time.ticks_diff(time.ticks_us(), started)
    gc.collect()
    print(json.dumps({"adverts": radio.adverts, "bluezone": radio.bluezone,
                      "drops": radio.ring.drops, "irq_errors": radio.irq_errors,
                      "heap_warm": heap_warm, "heap_end": gc.mem_alloc(),
                      "devices": presence.used, "elapsed_us": elapsed}))


main(sys.argv[1], int(sys.argv[2]), int(sys.argv[3]) if len(sys.argv) > 3 else 1,
     int(sys.argv[4]) if len(sys.argv) > 4 else 8)
