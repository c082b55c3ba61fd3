#!/usr/bin/env python3
"""A stand-in for esptool on PATH (tests have no board on USB): appends its argv as a JSON line
to $ESPTOOL_LOG and prints what esptool 5 prints. $ESPTOOL_CHIP names the chip it "finds";
$ESPTOOL_FAIL=1 makes it fail as esptool does when no board answers."""

import json
import os
import sys

with open(os.environ["ESPTOOL_LOG"], "a") as log:
    log.write(json.dumps(sys.argv[1:]) + "\n")
print("esptool v5.6.0")
print("Connecting....")
if os.environ.get("ESPTOOL_FAIL"):
    print("A fatal error occurred: Failed to connect to Espressif device: No serial data received.",
          file=sys.stderr)
    sys.exit(2)
chip = os.environ.get("ESPTOOL_CHIP", "ESP32")
print(f"Detecting chip type... {chip}")
print(f"{'Chip type:':<20}{chip} (revision v1.0)")
if "write-flash" in sys.argv:
    image = sys.argv[-1]
    size = os.path.getsize(image)
    print(f"Wrote {size} bytes at {sys.argv[-2]} in 0.1 seconds.")
    print("Verifying written data...")
    print("Hash of data verified.")
print("Hard resetting via RTS pin...")
