"""bzcore: the Bluezone contracts shared by the gate firmware and the host tools.

Runs unchanged on MicroPython and CPython; the host imports it from firmware/, never a copy.
"""

FIRMWARE_VERSION = "0.1.0"  # the gate's HELLO gives it; `bzgate --version` names the one it deploys
