"""`bzgate provision deploy`: the firmware onto a board over mpremote.

1. Ask the board its .mpy version and architecture, the SHA-256 of every file deploy owns
   (boot.py, main.py, everything under bzcore/, gate/ and lib/), hashed on the board, and
   whether its MicroPython has a ROMFS partition (bzgate's image) and the SHA-256 of the image
   in it.
2. Compile firmware/ for that architecture. With a ROMFS partition, the modules go there as
   one image (bzprov.build.romfs_image, written by `mpremote romfs deploy`) and only boot.py
   and main.py stay on the filesystem; without one, every module goes to the filesystem as a
   file. If anything differs: remove main.py first (a board that resets mid-deploy then comes
   up at its REPL, never running half a firmware) and the stale files (modules left on the
   filesystem would be found before the ROMFS's), write the image or copy the files whose
   hash differs, and hash again on the board.
3. When every other part matches, copy main.py and check it too.
A deploy cut off anywhere is finished by running it again (step 1 sees what is missing or
truncated). The gate starts again (a reset: a new image is mounted at boot) on a board that
has a config.json; a new board waits at its REPL for `provision configure`, which resets it.
"""

import hashlib
import tempfile
import threading
from dataclasses import dataclass, field
from pathlib import Path

from bzprov import mpremote
from bzprov.build import PACKAGES, build, is_entry_point, mpy_cross_version, romfs_image
from bzprov.mpremote import BoardError

MAIN = "/main.py"
# Native-code architectures by the number in sys.implementation._mpy bits 10-13 (py/persistentcode.h).
ARCHES = {0: None, 1: "x86", 2: "x64", 3: "armv6", 4: "armv6m", 5: "armv7m", 6: "armv7em",
          7: "armv7emsp", 8: "armv7emdp", 9: "xtensa", 10: "xtensawin", 11: "rv32imc", 12: "rv64imc"}

# Runs on the board: its .mpy word, whether it is configured, "ROM size sha256|-" when it has a
# ROMFS partition (the image's length follows its 3-byte header as a 7-bit varint), then
# "H path sha256" per file.
SURVEY = """
import os, sys, hashlib, binascii, vfs
def files(d):
    try:
        entries = list(os.ilistdir(d))
    except OSError:
        return
    for e in entries:
        p = d + '/' + e[0]
        if e[1] & 0x4000:
            yield from files(p)
        else:
            yield p
def sha(p):
    h = hashlib.sha256()
    buf = bytearray(512)
    with open(p, 'rb') as f:
        while True:
            n = f.readinto(buf)
            if not n:
                break
            h.update(memoryview(buf)[:n])
    return binascii.hexlify(h.digest()).decode()
def rom():
    if not hasattr(vfs, 'rom_ioctl') or vfs.rom_ioctl(1) <= 0:
        return
    m = memoryview(vfs.rom_ioctl(2, 0))
    if bytes(m[:3]) != b'\\xd2\\xcd1':
        print('ROM', len(m), '-')
        return
    n, i = 0, 3
    while i < len(m):
        b = m[i]
        i += 1
        n = (n << 7) | (b & 0x7f)
        if not b & 0x80:
            break
    h = hashlib.sha256()
    for k in range(0, min(i + n, len(m)), 512):
        h.update(m[k:min(k + 512, i + n)])
    print('ROM', len(m), binascii.hexlify(h.digest()).decode())
print('MPY', getattr(sys.implementation, '_mpy', 0))
print('CONFIGURED', int('config.json' in os.listdir('/')))
rom()
for p in %r + [p for top in %r for p in files('/' + top)]:
    try:
        print('H', p, sha(p))
    except OSError:
        pass
""" % (["/boot.py", MAIN], list(PACKAGES))


@dataclass
class Survey:
    mpy: int = 0
    configured: bool = False
    hashes: dict[str, str] = field(default_factory=dict)
    rom_size: int = 0  # the ROMFS partition's bytes; 0: MicroPython without one
    rom_hash: str | None = None  # of the image in it; None: no valid image

    @property
    def arch(self) -> str | None:
        return ARCHES.get((self.mpy >> 10) & 0xF)


@dataclass
class DeployReport:
    copied: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    arch: str | None = None
    restarted: bool = False
    romfs: str | None = None  # what became of the ROMFS image; None: the board has no ROMFS

    def lines(self) -> list[str]:
        out = [f"copied     {p}" for p in self.copied] + [f"removed    {p}" for p in self.removed]
        out += [f"unchanged  {p}" for p in self.unchanged]
        out.append(f"romfs      {self.romfs}" if self.romfs else NO_ROMFS)
        summary = (f"{len(self.copied)} copied, {len(self.unchanged)} unchanged, {len(self.removed)} removed "
                   f"(.mpy for {self.arch or 'any architecture'})")
        return out + [summary, "gate restarted" if self.restarted
                      else "the board waits at its REPL: run `bzgate provision configure`"]


NO_ROMFS = ("romfs      none on this board: the modules run from files, which keeps about 29 KB "
            "more of the heap (a WROOM-32 then has no room for the Wi-Fi uplink; flash bzgate's "
            "image, provisioning/esp32-image/README.md)")


def survey(port: str) -> Survey:
    result = Survey()
    for line in mpremote.exec_lines(port, SURVEY):
        kind, _, rest = line.strip().partition(" ")
        if kind == "MPY":
            result.mpy = int(rest)
        elif kind == "CONFIGURED":
            result.configured = rest == "1"
        elif kind == "ROM":
            size, _, digest = rest.partition(" ")
            result.rom_size, result.rom_hash = int(size), None if digest == "-" else digest
        elif kind == "H":
            path, _, digest = rest.rpartition(" ")
            result.hashes[path] = digest
    return result


_builds: dict[str | None, dict[str, Path]] = {}
_build_lock = threading.Lock()
_build_dir = None


def firmware_for(arch: str | None) -> dict[str, Path]:
    """The compiled firmware for an architecture, built once per process (a fleet shares it)."""
    global _build_dir
    with _build_lock:
        if arch not in _builds:
            if _build_dir is None:
                _build_dir = tempfile.TemporaryDirectory(prefix="bzgate-build-")
            _builds[arch] = build(Path(_build_dir.name) / (arch or "any"), arch)
        return _builds[arch]


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _check_mpy(port: str, board: Survey) -> None:
    if not board.mpy:
        raise BoardError(f"{port}: the board does not say which .mpy files it loads: "
                        f"is MicroPython 1.19 or later on it? (`bzgate provision flash`)")
    version, sub = mpy_cross_version()
    if (board.mpy & 0xFF, (board.mpy >> 8) & 3) != (version, sub):
        raise BoardError(f"{port}: the board loads .mpy v{board.mpy & 0xFF}.{(board.mpy >> 8) & 3}, "
                        f"this mpy-cross makes v{version}.{sub}: flash the MicroPython release that matches "
                        f"mpy-cross (`bzgate provision flash`)")


def _mkdirs_code(paths) -> str:
    folders = sorted({p.rsplit("/", 1)[0] for p in paths if p.count("/") > 1})
    return ("import os\nfor d in %r:\n    try:\n        os.mkdir(d)\n    except OSError:\n        pass\n"
            % folders)


def _remove_code(paths) -> str:
    """Remove files, then the folders they leave empty (deepest first): an empty /gate would be
    found as a package before the ROMFS's."""
    folders = sorted({p.rsplit("/", 1)[0] for p in paths if p.count("/") > 1}, key=len, reverse=True)
    return ("import os\nfor p in %r:\n    try:\n        os.remove(p)\n    except OSError:\n        pass\n"
            "for d in %r:\n    try:\n        os.rmdir(d)\n    except OSError:\n        pass\n"
            % (list(paths), folders))


def deploy(port: str, report=lambda line: None) -> DeployReport:
    """Bring the board's firmware to this checkout's; `report` gets progress lines."""
    board = survey(port)
    _check_mpy(port, board)
    files = firmware_for(board.arch)
    image = _image_for(port, board, files)
    if image is not None:  # the modules go to the ROMFS: only the entry points stay as files
        files = {path: local for path, local in files.items() if is_entry_point(path)}
    wanted = {path: _sha256(local) for path, local in files.items()}
    result = DeployReport(arch=board.arch)
    changed = [p for p in wanted if p != MAIN and board.hashes.get(p) != wanted[p]]
    stale = sorted(p for p in board.hashes if p not in wanted)
    image_hash = hashlib.sha256(image.read_bytes()).hexdigest() if image is not None else None
    rom_changed = image is not None and board.rom_hash != image_hash
    if changed or stale or rom_changed or board.hashes.get(MAIN) != wanted[MAIN]:
        report(f"copying {len(changed)} file(s), removing {len(stale)}"
               + (", writing the ROMFS image" if rom_changed else ""))
        chain = ["exec", _remove_code([MAIN] + stale) + _mkdirs_code(changed)]
        if rom_changed:
            chain += ["+", "romfs", "deploy", str(image)]
        for path in changed:
            chain += ["+", "fs", "cp", str(files[path]), ":" + path]
        mpremote.run(port, *chain)
        after = survey(port)
        wrong = [p for p in changed if after.hashes.get(p) != wanted[p]]
        if image is not None and after.rom_hash != image_hash:
            wrong.append("the ROMFS image")
        if wrong:
            raise BoardError(f"{port}: after copying, {', '.join(wrong)} differ on the board; run deploy again")
        mpremote.run(port, "fs", "cp", str(files[MAIN]), ":" + MAIN)
        if survey(port).hashes.get(MAIN) != wanted[MAIN]:
            raise BoardError(f"{port}: main.py differs on the board after copying; run deploy again")
        result.copied = changed + ([MAIN] if board.hashes.get(MAIN) != wanted[MAIN] else [])
        result.removed = stale
    result.unchanged = [p for p in wanted if p not in result.copied]
    if image is not None:
        result.romfs = (f"{'written' if rom_changed else 'unchanged'}: {image.stat().st_size:,} bytes "
                        f"of the partition's {board.rom_size:,}")
    if board.configured:
        mpremote.run(port, "reset")
        result.restarted = True
    return result


def _image_for(port: str, board: Survey, files: dict[str, Path]) -> Path | None:
    """The ROMFS image file for a board with a ROMFS partition (None without one), built once
    per architecture beside its build; refused when it does not fit the partition."""
    if not board.rom_size:
        return None
    image = Path(_build_dir.name) / f"{board.arch or 'any'}.romfs.img"  # firmware_for made the folder
    with _build_lock:
        if not image.exists():
            image.write_bytes(romfs_image(files))
    if image.stat().st_size > board.rom_size:
        raise BoardError(f"{port}: the firmware's ROMFS image is {image.stat().st_size:,} bytes, the "
                         f"board's ROMFS partition {board.rom_size:,}: flash bzgate's image, whose "
                         "partition is 128 KiB (provisioning/esp32-image/README.md)")
    return image
