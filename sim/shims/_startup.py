# What the ESP32 port does between reset and the REPL (virtual board only): mount the
# flash at '/', run boot.py, then main.py when the board boots into the friendly REPL.
# As on the port, SystemExit from either script soft-reboots the board.
import gc
import os
import sys
import vfs

import _board
import _flashfs


def _run(name, scope):
    """False when the script failed, as pyexec_file_if_exists reports it."""
    try:
        with open(name) as f:
            source = f.read()
    except OSError:
        return True
    try:
        exec(compile(source, name, "exec"), scope)
        return True
    except SystemExit:
        _board.soft_reset()
    except BaseException as e:  # noqa: B036 - the port prints any error and goes on to the REPL
        sys.print_exception(e)
    return False


def _reserve_shim_memory(interpreter_used):
    """Hold back what the interpreter has beyond the board's heap: the share of the shims
    loaded so far (the board's startup code, C on the port, as bluetooth and machine are)."""
    gc.collect()
    surplus = gc.mem_free() - (int(os.getenv("BZSIM_HEAP_BYTES")) - interpreter_used)
    _board.reserved = held = []
    piece = surplus
    while surplus > 64 and piece >= 64:  # in pieces if it must: the free memory may be split
        try:
            held.append(bytearray(piece))
            surplus -= piece + 16
        except MemoryError:
            piece //= 2
        piece = min(piece, surplus)


def start(scope, interpreter_used):
    shims = __file__.rsplit("/", 1)[0]
    flash = _flashfs.FlashFS(os.getenv("BZSIM_FLASH"), int(os.getenv("BZSIM_FLASH_BYTES")), shims)
    vfs.umount("/")
    vfs.mount(flash, "/")
    _board.before_soft_reset(flash.close_all)  # open files are closed (committed) on a soft reset
    sys.atexit(_board.finalise)  # Ctrl-D at the REPL ends this interpreter: a soft reset too
    os.chdir("/")
    sys.path[:] = ["", ".frozen", "/lib", "/" + _flashfs.SHIMS]
    sys.argv[:] = []
    _board.ready()
    import network, socket  # noqa: F401, E401  (C on the port: compiled here, outside the board's heap)
    _reserve_shim_memory(interpreter_used)
    if _run("boot.py", scope) and os.getenv("BZSIM_RUN_MAIN") == "1":
        _run("main.py", scope)
