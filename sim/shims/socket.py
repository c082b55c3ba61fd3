# ESP32 `socket` for the virtual board (never deployed): sockets of the Wi-Fi station, made on
# the host's loopback. As on the port, addresses are (host, port) tuples. Without an IP (the
# station not connected) name lookups fail as on the port (OSError -202), and the `network`
# shim aborts the open sockets when the station loses its IP. An open socket's RAM is taken from
# the module's memory (_idfheap).
import errno
import io

import usocket as _host
from usocket import AF_INET, SOCK_STREAM, SOCK_DGRAM, SOL_SOCKET, SO_REUSEADDR  # noqa: F401

import _idfheap
import network

_GET_FILENO = const(10)  # MP_STREAM_GET_FILENO: select.poll polls the host socket's fd
_EAI_FAIL = const(-202)  # lwIP's lookup failure, as the port raises it
_open = []


def _connected():
    return network.WLAN(network.STA_IF).isconnected()


def getaddrinfo(host, port, af=0, type=0, proto=0, flags=0):
    if not _connected():
        raise OSError(_EAI_FAIL)
    found = _host.getaddrinfo(host, port, af, type or SOCK_STREAM)[0]
    return [(found[0], found[1], found[2], "", (host, port))]


def abort_all():
    """The station lost its IP: every open socket is reset (RST to the peer)."""
    while _open:
        _open.pop().abort()


class socket(io.IOBase):
    def __init__(self, af=AF_INET, type=SOCK_STREAM, proto=0):
        self._ram = _idfheap.take("socket")
        self._s = _host.socket(af, type, proto)
        self._aborted = False
        _open.append(self)

    def _live(self):
        if self._aborted:
            raise OSError(errno.ECONNABORTED)
        return self._s

    def abort(self):
        self._aborted = True
        self._free()
        try:
            self._s.setsockopt(SOL_SOCKET, _host.SO_LINGER, b"\x01\0\0\0\0\0\0\0")  # linger 0: reset
        except OSError:
            pass
        self._s.close()

    def connect(self, address):
        if not _connected():
            raise OSError(errno.EHOSTUNREACH)
        self._live().connect(_host.getaddrinfo(address[0], address[1])[0][-1])

    def close(self):
        if self in _open:
            _open.remove(self)
        self._free()
        self._s.close()

    def _free(self):
        _idfheap.release(self._ram)
        self._ram = None

    def ioctl(self, request, arg):
        if request == _GET_FILENO:
            return self._s.fileno()
        return -1

    def fileno(self):
        return self._s.fileno()

    def setblocking(self, flag):
        self._s.setblocking(flag)

    def settimeout(self, seconds):
        self._s.settimeout(seconds)

    def setsockopt(self, level, option, value):
        self._live().setsockopt(level, option, value)

    def read(self, n=-1):
        return self._live().read(n) if n >= 0 else self._live().read()

    def readinto(self, buf, n=-1):
        return self._live().readinto(buf) if n < 0 else self._live().readinto(memoryview(buf)[:n])

    def readline(self):
        return self._live().readline()

    def recv(self, n):
        return self._live().recv(n)

    def write(self, data):
        return self._live().write(data)

    def send(self, data):
        return self._live().send(data)

    def sendall(self, data):
        return self._live().sendall(data)
