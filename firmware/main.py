# The gate program (gate/app.py). BLE goes on first, before the Python heap fills (field
# note 10). Never sys.exit() here: it would soft-reboot (field note 23).
import gc

import bluetooth

bluetooth.BLE().active(True)
# Each module's load leaves garbage behind; collected before the next loads, the code packs
# into one end of the heap and the free memory stays in large pieces (field note 12).
for name in ("bzcore.record", "gate.journal", "bzcore.wire", "gate.hostlink", "gate.reader",
             "gate.radio", "gate.presence", "gate.policy", "gate.app"):
    gc.collect()
    __import__(name)
gc.collect()

import gate.app  # noqa: E402

gate.app.main()
