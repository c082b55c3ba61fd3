# The gate program (gate/app.py). BLE goes on first, before the Python heap fills
# (docs/esp32-notes.md, note 10). Never sys.exit() here: it would soft-reboot
# (docs/esp32-notes.md, note 23).
import gc

import bluetooth

bluetooth.BLE().active(True)
try:
    # Each module's load leaves garbage behind; collected before the next loads, the code packs
    # into one end of the heap and the free memory stays in large pieces
    # (docs/esp32-notes.md, note 12).
    for name in ("bzcore.record", "gate.journal", "gate.reader", "gate.radio", "gate.presence",
                 "gate.policy", "gate.app"):
        gc.collect()
        __import__(name)
    gc.collect()
except Exception as e:  # noqa: BLE001 - a damaged or missing file, no memory: the gate cannot run
    import sys
    import time

    import machine

    sys.print_exception(e)
    from gate import crashes

    if len(crashes.note()) < crashes.FOR_SAFE_MODE:
        time.sleep_ms(500)
        machine.reset()  # perhaps a passing fault: a fresh start, counted as a crash
    # The third failure in ten minutes: stay at the REPL, relay safe (boot.py), for IT staff.
    print("gate: the firmware does not load (%r); deploy it again (bzgate provision deploy)" % e)
else:
    import gate.app

    gate.app.main()
