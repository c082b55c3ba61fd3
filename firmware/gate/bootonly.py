"""The bzcore modules the gate needs at boot and for the host link's rare CONFIG requests only:
config and its checks (validation, board profiles) and uplinkconfig (secrets hidden from CONFIG
GET). Forgotten once used, their heap is the gate's; the next import loads them again, in place
from a ROMFS (docs/esp32-notes.md, note 40). gate.app forgets the host link's modules the same
way when the host goes quiet.
"""

import gc
import sys

MODULES = ("bzcore.config", "bzcore.checks", "bzcore.uplinkconfig")


def forget(modules=MODULES):
    """Drop modules ("package.name") from sys.modules and from their package (an import stores
    each there too), then collect."""
    for name in modules:
        sys.modules.pop(name, None)
        package, _, leaf = name.partition(".")
        parent = sys.modules.get(package)
        if parent is not None and hasattr(parent, leaf):
            delattr(parent, leaf)
    gc.collect()
