# The ROMFS partition of bzgate's ESP32 image (virtual board only; docs/esp32-notes.md, note 40).
# On the ESP32 the partition is flash that the MMU maps into the address space: .mpy files in it
# run in place, their bytecode, strings and names never copied into the Python heap
# (py/persistentcode.c, MP_READER_IS_ROM). Here the partition is a file in the board's private
# directory, held in one bytearray loaded before the board's heap is carved out (outside it, as
# the mapped flash is), and the port's vfs.rom_ioctl is added to the vfs module, as
# ports/esp32/esp32_partition.c gives it: segment 0 is a partition object with ioctl (block
# count, size, erase), writeblocks and the buffer protocol, which is what `mpremote romfs
# deploy` and vfs.VfsRom use. Writes reach the file and the mapped bytes at once; the mount
# sees them at the next reset, as on the board.
import sys
import vfs

BLOCK = const(4096)
_MAGIC = b"\xd2\xcd\x31"  # a ROMFS image's header (mpremote's VfsRomWriter.ROMFS_HEADER)
_GET_NUMBER_OF_SEGMENTS = const(1)
_GET_SEGMENT = const(2)
_BLOCK_COUNT = const(4)
_BLOCK_SIZE = const(5)
_BLOCK_ERASE = const(6)
_EINVAL = const(22)
_host = vfs.VfsPosix()  # host paths, past the flash mounted at /
_partition = None


class RomPartition(bytearray):
    """The partition's bytes (the buffer VfsRom reads in place) and its block device methods."""

    def bind(self, host_path):
        self.host_path = host_path
        return self

    def ioctl(self, op, arg):
        if op == _BLOCK_COUNT:
            return len(self) // BLOCK
        if op == _BLOCK_SIZE:
            return BLOCK
        if op == _BLOCK_ERASE:
            self.writeblocks(arg, b"\xff" * BLOCK, 0)
            return 0
        return None

    def writeblocks(self, block, buf, offset=0):
        start = block * BLOCK + offset
        if start < 0 or start + len(buf) > len(self):
            raise OSError(_EINVAL)
        self[start : start + len(buf)] = buf
        with _host.open(self.host_path, "r+b") as f:
            f.seek(start)
            f.write(buf)


def rom_ioctl(op, *args):
    if op == _GET_NUMBER_OF_SEGMENTS:
        return 1 if _partition is not None else 0
    if op == _GET_SEGMENT and _partition is not None:
        return _partition
    return -_EINVAL


def load(host_path, size):
    """Map the partition, and give the board this port's vfs. A partition file shorter than the
    partition (new, or an image written by bzprov.virtual) is erased flash past its end."""
    global _partition
    try:
        held = _host.stat(host_path)[6]
    except OSError:
        held = 0
    with _host.open(host_path, "ab") as f:
        for _ in range((size - held + BLOCK - 1) // BLOCK):
            f.write(b"\xff" * BLOCK)
    _partition = RomPartition(size).bind(host_path)
    with _host.open(host_path, "rb") as f:
        f.readinto(_partition)
    import _vfs_esp32

    sys.modules["vfs"] = _vfs_esp32


def mount_rom():
    """What mp_init does on a port with ROMFS: /rom mounted when it holds an image, and /rom and
    /rom/lib appended to sys.path (extmod/vfs.c, mp_vfs_mount_romfs_protected)."""
    if _partition is None or _partition[:3] != _MAGIC:
        return
    try:
        vfs.mount(vfs.VfsRom(_partition), "/rom")
    except OSError:  # a damaged image: the board runs on without it, as the port does
        return
    sys.path.append("/rom")
    sys.path.append("/rom/lib")

