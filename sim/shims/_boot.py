# Entry script of the virtual board's interpreter (run with -i so the REPL follows).
import gc

gc.collect()
_startup_used = gc.mem_alloc()  # what the interpreter itself holds, as the port's does
import _startup  # noqa: E402

_startup.start(globals(), _startup_used)
del _startup, _startup_used
