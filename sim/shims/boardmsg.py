# Message numbers between the virtual board's shims and its bridge process (types 0x40-0x7F):
# the one definition, imported by the shims (MicroPython) as `boardmsg` and by the bridge
# (CPython) as bzsim.shims.boardmsg.
# Board -> bridge: HELLO(boot id u32), PIN_MODE(pin, mode, pull), PIN_OUT(pin, level),
# WDT_START(timeout ms u32), WDT_FEED, RTC_OFFSET(ns from host clock, i64), RTC_MEMORY(bytes),
# RESET, SOFT_RESET, DEEPSLEEP(ms u32).
# Bridge -> board: INPUTS((pin, level) pairs; level 2 = released), first as HELLO's answer;
# WIFI(1 byte: 1 = the access point is up, 0 = gone).

HELLO = 0x40
PIN_MODE = 0x41
PIN_OUT = 0x42
WDT_START = 0x43
WDT_FEED = 0x44
RTC_OFFSET = 0x45
RTC_MEMORY = 0x46
RESET = 0x47
SOFT_RESET = 0x48
DEEPSLEEP = 0x49
INPUTS = 0x60
WIFI = 0x61
