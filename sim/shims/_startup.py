# What the ESP32 port does between reset and the REPL (virtual board only): mount the
# flash at '/', run boot.py, then main.py when the board boots into the friendly REPL.
# As on the port, SystemExit from either script soft-reboots the board.
import gc
import os
import sys
import vfs

import micropython

import _board
import _flashfs
import _romfs
from _heaphold import hold, let_go, take_largest


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
    loaded so far (the board's startup code, C on the port, as bluetooth and machine are).
    The port's heap starts in one piece; here compiling the shims left holes among them. The
    holes are held first, then the start of the top free run, so the firmware finds the
    board's heap in one piece at the top, as on the board."""
    gc.collect()
    board = int(os.getenv("BZSIM_HEAP_BYTES")) - interpreter_used
    _board.reserved = held = [None] * 4096
    lid = take_largest(board)  # covers the top run while the holes below are filled
    n = 0
    if lid is not None:
        n = hold(held, n, gc.mem_free(), 16)
        let_go([lid])
        gc.collect()
    hold(held, n, gc.mem_free() - board, 64)


def _load_c_modules(interpreter_used):
    """What is C on the port, compiled here outside the board's heap; collected after each, so
    that what they keep packs low and the board's heap fits above it in one piece.

    On the port a Ctrl-C before boot.py is an input byte (it is an interrupt only while a script
    runs), and so it is here with kbd_intr(-1) (interpreter.write). It must not interrupt this
    work anyway: the unix port raises it from its signal handler wherever the interpreter is,
    even inside a collection, which leaves the heap locked (or the interpreter crashed)."""
    micropython.kbd_intr(-1)
    try:
        for name in ("network", "socket", "machine", "esp32", "bluetooth"):
            __import__(name)
            gc.collect()
        _reserve_shim_memory(interpreter_used)
    finally:
        micropython.kbd_intr(3)


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
    rom = os.getenv("BZSIM_ROMFS")
    if rom:  # first, so the mapped partition packs low, outside the board's heap
        _romfs.load(flash.private_path(rom), int(os.getenv("BZSIM_ROMFS_BYTES")))
    _board.ready()
    _load_c_modules(interpreter_used)
    _romfs.mount_rom()
    if _run("boot.py", scope) and os.getenv("BZSIM_RUN_MAIN") == "1":
        _run("main.py", scope)
