# The virtual board's flash (never deployed): a directory of the host mounted as '/',
# behaving like the ESP32 port's LittleFS where it matters to firmware:
# - data written to a file reaches the directory only on flush()/close() (a power cut
#   loses exactly the unflushed part; the file's entry exists from open());
# - a fixed capacity in 4 KiB blocks: os.statvfs reports it, writes beyond it raise
#   OSError(ENOSPC);
# - os.ilistdir gives (name, type, inode, size).
# Uncommitted writes go to a shadow file in the board's private directory /.bzsim, which
# the board cannot see. /.shims serves the shim modules (not listed either).
# All host access goes through a root-less VfsPosix with full host paths: VfsPosix(root)
# renames to the wrong place (both of its paths share one buffer).
import errno
import io
import vfs

BLOCK = const(4096)
INLINE_MAX = const(128)  # small files live in LittleFS metadata and take no block
DIR_BLOCKS = const(2)  # a directory is a metadata pair
PRIVATE = ".bzsim"
SHIMS = ".shims"
_S_IFDIR = const(0x4000)


def _blocks(size):
    return 0 if size <= INLINE_MAX else (size + BLOCK - 1) // BLOCK


def _enoent():
    return OSError(errno.ENOENT)


class FlashFS:
    def __init__(self, root, capacity, shims_dir):
        self._host = vfs.VfsPosix()
        self._root = root.rstrip("/")
        self._shims = shims_dir.rstrip("/")
        self._cwd = "/"
        self.total_blocks = capacity // BLOCK
        self.used_blocks = 0
        self._shadow_seq = 0
        self.open_files = []  # _FlashFile objects not yet closed

    def __repr__(self):
        return "<VfsLfs2>"  # what the port's vfs.mount() and `mpremote df` show

    # --- paths ---------------------------------------------------------------------
    def _abs(self, path):
        parts = [] if path.startswith("/") else [p for p in self._cwd.split("/") if p]
        for p in path.split("/"):
            if p == "..":
                if parts:
                    parts.pop()
            elif p and p != ".":
                parts.append(p)
        return "/" + "/".join(parts)

    def _route(self, path):
        """The host path for a path given by code on the board."""
        path = self._abs(path)
        top = path[1:].split("/", 1)[0]
        if top == SHIMS:
            return self._shims + path[len(SHIMS) + 1 :]
        if top == PRIVATE:
            raise _enoent()
        return self._root + path

    def _private(self, name=""):
        return "%s/%s/%s" % (self._root, PRIVATE, name)

    def private_path(self, name):
        """The host path of a file in the board's private directory (its ROMFS partition)."""
        return self._private(name)

    def _size(self, host_path):
        try:
            st = self._host.stat(host_path)
        except OSError:
            return None
        return None if st[0] & _S_IFDIR else st[6]

    # --- VFS protocol --------------------------------------------------------------
    def mount(self, readonly, mkfs):
        pending = self._private("pending")
        for path in (self._private(), pending):
            try:
                self._host.mkdir(path)
            except OSError:  # already there
                pass
        for entry in list(self._host.ilistdir(pending)):  # the last life's unflushed writes
            self._host.remove(pending + "/" + entry[0])
        self.used_blocks = DIR_BLOCKS + self._count(self._root)

    def umount(self):
        pass

    def _count(self, host_dir):
        used = 0
        for name, kind, *_ in self._host.ilistdir(host_dir):
            if host_dir == self._root and name == PRIVATE:
                continue
            full = host_dir + "/" + name
            if kind & _S_IFDIR:
                used += DIR_BLOCKS + self._count(full)
            else:
                used += _blocks(self._host.stat(full)[6])
        return used

    def chdir(self, path):
        if not self._host.stat(self._route(path))[0] & _S_IFDIR:
            raise OSError(errno.ENOTDIR)
        self._cwd = self._abs(path)

    def getcwd(self):
        return self._cwd

    def ilistdir(self, path):
        host_dir = self._route(path).rstrip("/")
        for name, kind, *_ in self._host.ilistdir(host_dir or "/"):
            if host_dir == self._root and name == PRIVATE:
                continue
            size = 0 if kind & _S_IFDIR else self._host.stat(host_dir + "/" + name)[6]
            yield (name, kind, 0, size)

    def stat(self, path):
        st = self._host.stat(self._route(path))
        mtime = st[8] - 946684800  # the port's epoch
        return (st[0] & 0xF000, 0, 0, 0, 0, 0, st[6], mtime, mtime, mtime)

    def statvfs(self, path):
        free = max(0, self.total_blocks - self.used_blocks)
        return (BLOCK, BLOCK, self.total_blocks, free, free, 0, 0, 0, 0, 255)

    def mkdir(self, path):
        host_path = self._route(path)
        self.reserve(DIR_BLOCKS)
        self._host.mkdir(host_path)
        self.used_blocks += DIR_BLOCKS

    def rmdir(self, path):
        self._host.rmdir(self._route(path))
        self.used_blocks -= DIR_BLOCKS

    def remove(self, path):
        host_path = self._route(path)
        size = self._size(host_path)
        self._host.remove(host_path)
        self.used_blocks -= _blocks(size or 0)

    def rename(self, old, new):
        host_old, host_new = self._route(old), self._route(new)
        replaced = self._size(host_new)
        self._host.rename(host_old, host_new)  # atomic, replaces an existing file, as LittleFS
        self.used_blocks -= _blocks(replaced or 0)

    def open(self, path, mode):
        host_path = self._route(path)
        if not any(c in mode for c in "wax+"):
            return self._host.open(host_path, mode)
        if host_path.startswith(self._shims + "/"):
            raise OSError(errno.EROFS)
        f = _FlashFile(self, host_path, mode)
        self.open_files.append(f)
        return f

    def close_all(self):
        for f in list(self.open_files):
            f.close()

    # --- for _FlashFile and the private store (host paths) -----------------------------
    def reserve(self, blocks):
        if self.used_blocks + blocks > self.total_blocks:
            raise OSError(28)  # ENOSPC (the unix port's errno module lacks the name)

    def new_shadow(self):
        self._shadow_seq += 1
        return self._private("pending/%d" % self._shadow_seq)

    def copy(self, src, dst):
        buf = bytearray(512)
        with self._host.open(src, "rb") as fin, self._host.open(dst, "wb") as fout:
            while True:
                n = fin.readinto(buf)
                if not n:
                    return
                fout.write(memoryview(buf)[:n])

    def host_open(self, host_path, mode):
        return self._host.open(host_path, mode)

    def host_rename(self, old, new):
        self._host.rename(old, new)

    def host_remove(self, host_path):
        self._host.remove(host_path)

    def private_open(self, name, mode):
        return self._host.open(self._private(name), mode)

    def private_replace(self, tmp_name, name):
        self._host.rename(self._private(tmp_name), self._private(name))


class _FlashFile(io.IOBase):
    """A file open for writing: writes land in a shadow copy, flush() commits them."""

    def __init__(self, fs, host_path, mode):
        self._fs = fs
        self._path = host_path
        committed = fs._size(host_path)
        if "x" in mode and committed is not None:
            raise OSError(errno.EEXIST)
        if committed is None:  # LittleFS creates the (empty) entry at open
            fs.host_open(host_path, "wb").close()
            committed = 0
        self._committed = committed
        self._shadow = fs.new_shadow()
        if "w" in mode or "x" in mode:
            fs.host_open(self._shadow, "wb").close()
        else:
            fs.copy(host_path, self._shadow)
        kind = "b" if "b" in mode else ""
        self._append = "a" in mode
        self._f = fs.host_open(self._shadow, ("a+" if self._append else "r+") + kind)
        self._size = self._f.seek(0, 2)
        if not self._append:
            self._f.seek(0)
        self._dirty = False

    def write(self, data):
        pos = self._size if self._append else self._f.tell()
        size = max(self._size, pos + len(data))
        self._fs.reserve(_blocks(size) - _blocks(self._committed))
        n = self._f.write(data)
        self._size = size
        self._dirty = True
        return n

    def flush(self):
        if not self._dirty:
            return
        self._f.flush()
        staged = self._shadow + ".commit"
        self._fs.copy(self._shadow, staged)
        self._fs.host_rename(staged, self._path)
        self._fs.used_blocks += _blocks(self._size) - _blocks(self._committed)
        self._committed = self._size
        self._dirty = False

    def close(self):
        if self._f is None:
            return
        self.flush()
        self._f.close()
        self._f = None
        self._fs.host_remove(self._shadow)
        self._fs.open_files.remove(self)

    def ioctl(self, request, arg):
        if request == 1:  # MP_STREAM_FLUSH, from print(file=...) and friends
            self.flush()
        return 0

    def readinto(self, buf):
        return self._f.readinto(buf)

    def read(self, *n):
        return self._f.read(*n)

    def readline(self):
        return self._f.readline()

    def seek(self, offset, whence=0):
        return self._f.seek(offset, whence)

    def tell(self):
        return self._f.tell()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
