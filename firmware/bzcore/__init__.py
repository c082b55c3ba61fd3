"""bzcore: the Bluezone contracts shared by the gate firmware and the host tools.

Runs unchanged on MicroPython and CPython; the host imports it from firmware/, never a copy.
"""
