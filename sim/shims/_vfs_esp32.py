# The vfs module as bzgate's ESP32 image has it: the port's, with rom_ioctl (sim/shims/_romfs.py).
# A built-in module cannot take new names, so this one stands in for it in sys.modules.
from vfs import *  # noqa: F401,F403

from _romfs import rom_ioctl  # noqa: F401
