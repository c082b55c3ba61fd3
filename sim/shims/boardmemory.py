# The memory of the ESP32 modules the virtual board models, every figure with its source: the one
# place for them (docs/esp32-notes.md, note 38), imported by the shims (MicroPython) as
# `boardmemory` and by the bridge (CPython) as bzsim.shims.boardmemory. Bytes in ESP32 terms
# (32-bit words); the bridge doubles them for a 64-bit host (bzsim.board.process.heap_bytes).
#
# The model. A WROOM-32 has one pool of internal RAM for the Python heap and the ESP-IDF heap:
# the port's GC heap starts at 56 KiB and grows into the IDF heap on demand (split heap), and
# NimBLE, Wi-Fi and lwIP take their RAM from that IDF heap too, so each one switched on leaves
# Python less to grow into. The unix port's heap cannot grow, so the virtual board's heap is the
# Python heap's ceiling with nothing switched on, and a shim switching a part on (BLE active,
# the station connecting, a socket opened) holds that part's RAM in the Python heap as ballast
# (largest blocks first, where the IDF heap's memory would be), released when switched off or
# closed. What the ballast cannot find there the part takes from the IDF's spare (an IDF heap
# that Python had already grown into, docs/esp32-notes.md, note 10); with not enough spare
# either, the part fails to start (OSError ENOMEM). A WROVER's Python heap lives in its PSRAM,
# so the parts take internal RAM only: no ballast, and the IDF's spare shrinks instead.

WROOM_32 = "wroom-32"
WROVER = "wrover"
DEFAULT_MODULE = WROOM_32

_K = 1024

# The Python heap's ceiling with nothing switched on. WROOM-32: the port starts the heap at
# 56 KiB, sized so it "can grow the heap once (double it) and still have enough internal RAM to
# start WiFi and make a HTTPS request" (ports/esp32/mpconfigport.h, MICROPY_GC_INITIAL_HEAP_SIZE);
# a WROOM-32 without PSRAM reported a GC heap of 112,000 bytes once its application had loaded
# (micropython issue 14421). WROVER: heap areas over 8 KiB come from PSRAM
# (ports/esp32/boards/sdkconfig.spiram_esp32: CONFIG_SPIRAM_USE_MALLOC,
# CONFIG_SPIRAM_MALLOC_ALWAYSINTERNAL=8192; py/gc.c gc_try_add_heap), and the ESP32 maps 4 MiB
# of it; the model gives 1 MiB of that, which keeps the virtual board's collections quick and
# is still far more than the gate uses (estimate on the safe side).
PYTHON_HEAP = {WROOM_32: 112 * _K, WROVER: 1024 * _K}

# The two images a board may run: bzgate's (provisioning/esp32-image/BZGATE_ESP32: a ROMFS, and
# the Wi-Fi buffers below) and MicroPython's own, as micropython.org builds it. The virtual
# board runs bzgate's unless started with --no-romfs.
BZGATE_IMAGE = "bzgate"
MICROPYTHON_IMAGE = "micropython"

# What each part takes from the pool while on, in MicroPython's image (estimates, chosen so that
# a WROOM-32 gives Python about 96 KB with BLE active and about 64 KB with BLE and the Wi-Fi
# station connected):
# - NimBLE's host beyond its static memory: 16 KiB (perhaps kind: its buffers and task stack
#   come to about 25.7 KB by ESP-IDF 5.5's defaults, docs/esp32-notes.md, note 38);
# - the Wi-Fi driver and lwIP, station connected: 32 KiB, of which the static RX buffers below;
# - an open TCP socket, its control block and the segments in flight: 4 KiB.
PART_BYTES = {"ble": 16 * _K, "wifi": 32 * _K, "socket": 4 * _K}

# The Wi-Fi driver's static RX buffers, "approximately 1.6KB" each, allocated when the driver
# starts and kept until it stops (ESP-IDF's Kconfig, CONFIG_ESP_WIFI_STATIC_RX_BUFFER_NUM, range
# 2-25): ESP-IDF's default of ten, which MicroPython's image keeps (ports/esp32/boards/
# sdkconfig.base sets none), and four in bzgate's, which turns A-MPDU off so that fewer buffers
# than its block-ack window of six are not a loss (the Kconfig's advice); an uplink sending
# journal batches of a few KB needs no more.
WIFI_RX_BUFFER_BYTES = 1600
WIFI_STATIC_RX_BUFFERS = {MICROPYTHON_IMAGE: 10, BZGATE_IMAGE: 4}


def part_bytes(part, image):
    """ESP32 bytes a part ("ble", "wifi", "socket") takes while on, in an image."""
    if part != "wifi":
        return PART_BYTES[part]
    fewer = WIFI_STATIC_RX_BUFFERS[MICROPYTHON_IMAGE] - WIFI_STATIC_RX_BUFFERS[image]
    return PART_BYTES[part] - fewer * WIFI_RX_BUFFER_BYTES

# Internal RAM the IDF keeps beyond the Python heap's ceiling and the parts: the port's "enough
# internal RAM to make a HTTPS request" (mbedTLS takes 20-25 KB per connection,
# docs/esp32-notes.md, note 34): 24 KiB (estimate).
IDF_SPARE = 24 * _K

# The internal RAM the parts and the IDF share: on a WROOM-32 the Python heap's ceiling is in it
# too, on a WROVER the Python heap is not (PSRAM).
INTERNAL_POOL = PYTHON_HEAP[WROOM_32] + IDF_SPARE

# The ROMFS partition of bzgate's image for both modules: 128 KiB of flash, memory-mapped, where
# the firmware's .mpy files run in place (ports/esp32/partitions-4MiB-romfs.csv: "romfs, data,
# 0x8f, 0x1E0000, 0x20000"; docs/esp32-notes.md, note 40). MicroPython as micropython.org builds
# it for the ESP32 has no such partition.
ROMFS_BYTES = 128 * _K
ROMFS_FILE = "romfs.img"  # the partition, in the virtual board's private directory


def ballast_in_python_heap(module):
    """True where the parts' RAM comes out of what the Python heap can grow into."""
    return module == WROOM_32
