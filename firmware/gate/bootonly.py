"""The bzcore modules the gate needs at boot and for the host link's rare CONFIG requests only:
config and its checks (validation, board profiles) and uplinkconfig (secrets hidden from CONFIG
GET). Forgotten once used, their heap is the gate's; the next import loads them again, in place
from a ROMFS (docs/esp32-notes.md, note 40).
"""

import gc
import sys

import bzcore

MODULES = ("config", "checks", "uplinkconfig")


def forget():
    """Drop MODULES from sys.modules and from the package (an import stores each there too),
    then collect."""
    for name in MODULES:
        sys.modules.pop("bzcore." + name, None)
        if hasattr(bzcore, name):
            delattr(bzcore, name)
    gc.collect()
