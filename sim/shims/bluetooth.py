# The `bluetooth` module of the virtual ESP32 (MicroPython, virtual board only; never deployed).
#
# The radio is the simulated air (bzsim.air.server), reached over a _simlink.Link at BZSIM_AIR. The
# module reproduces what ESP32's NimBLE binding does (docs/library/bluetooth.rst and
# extmod/nimble/modbluetooth_nimble.c), because the firmware must cope with exactly that:
# - IRQ memoryviews are valid only during the call (the frame buffer is overwritten after);
# - no duplicate filtering: every advert heard is one _IRQ_SCAN_RESULT;
# - gap_scan while scanning raises OSError(EALREADY); gap_connect stops a scan (_IRQ_SCAN_DONE);
# - a failed, timed-out or cancelled connect is _IRQ_PERIPHERAL_DISCONNECT with addr_type 0xFF
#   and a zero address; a connect left pending makes the next one raise OSError(EALREADY);
# - _IRQ_GATTC_READ_DONE always ends a read, _IRQ_GATTC_READ_RESULT only on success;
# - an exception escaping the handler disables all further events, with a console line;
# - while active, NimBLE's RAM is taken from the module's memory (_idfheap).
#
# Wire messages with the air: their numbers and payloads are in airmsg.py.
import errno
import hashlib
import os
import struct
import sys

from micropython import const

import _idfheap
import _simlink
import airmsg as _msg


_IRQ_SCAN_RESULT = const(5)
_IRQ_SCAN_DONE = const(6)
_IRQ_PERIPHERAL_CONNECT = const(7)
_IRQ_PERIPHERAL_DISCONNECT = const(8)
_IRQ_GATTC_SERVICE_RESULT = const(9)
_IRQ_GATTC_SERVICE_DONE = const(10)
_IRQ_GATTC_CHARACTERISTIC_RESULT = const(11)
_IRQ_GATTC_CHARACTERISTIC_DONE = const(12)
_IRQ_GATTC_READ_RESULT = const(15)
_IRQ_GATTC_READ_DONE = const(16)

FLAG_BROADCAST = const(0x0001)
FLAG_READ = const(0x0002)
FLAG_WRITE_NO_RESPONSE = const(0x0004)
FLAG_WRITE = const(0x0008)
FLAG_NOTIFY = const(0x0010)
FLAG_INDICATE = const(0x0020)

_EBUSY = const(16)  # MP_EBUSY: NimBLE's BLE_HS_EBUSY; the unix errno module lacks the name
_NO_ADDR = bytes(6)
_CONNECT_DEFAULT_MS = const(2000)  # MP_BLUETOOTH_CONNECT_DEFAULT_SCAN_DURATION_MS
_BASE_UUID_TAIL = b"\xfb\x34\x9b\x5f\x80\x00\x00\x80\x00\x10\x00\x00"  # SIG base, on-air order


class UUID:
    """A 16- or 128-bit UUID; bytes(uuid) is its on-air (little-endian) form."""

    def __init__(self, value):
        if isinstance(value, UUID):
            self._le = value._le
        elif isinstance(value, int):
            if not 0 <= value <= 0xFFFF:
                raise ValueError("invalid UUID")
            self._le = bytes((value & 0xFF, value >> 8))
        elif isinstance(value, str):
            hexdigits = value.replace("-", "")
            if len(hexdigits) != 32:
                raise ValueError("invalid UUID")
            self._le = bytes(reversed(bytes.fromhex(hexdigits)))
        else:
            raw = bytes(value)
            if len(raw) not in (2, 16):
                raise ValueError("invalid UUID")
            self._le = raw

    def __bytes__(self):
        return self._le

    def __iter__(self):  # MicroPython's bytes() iterates; it has no __bytes__ hook
        return iter(self._le)

    def __len__(self):
        return len(self._le)

    def __eq__(self, other):
        return isinstance(other, UUID) and other._le == self._le

    def __hash__(self):
        return hash(self._le)

    def __repr__(self):
        if len(self._le) == 2:
            return "UUID(0x%04x)" % (self._le[0] | self._le[1] << 8)
        h = "".join("%02x" % b for b in reversed(self._le))
        return "UUID('%s-%s-%s-%s-%s')" % (h[:8], h[8:12], h[12:16], h[16:20], h[20:])


def _board_mac(name):
    """The board's public address. An ESP32's Bluetooth MAC is its base MAC (machine.unique_id,
    BZSIM_UID on the virtual board) + 2; without one, Espressif's OUI and a hash of the name."""
    uid = os.getenv("BZSIM_UID")
    if uid:
        return ((int(uid, 16) + 2) & 0xFFFFFFFFFFFF).to_bytes(6, "big")
    return b"\x24\x0a\xc4" + hashlib.sha256(name.encode()).digest()[:3]


def _u16(view, off):
    return (view[off] << 8) | view[off + 1]


class BLE:
    _instance = None

    def __new__(cls):
        # BLE() is a singleton on MicroPython: every call returns the one radio.
        if BLE._instance is None:
            BLE._instance = object.__new__(cls)
            BLE._instance._setup()
        return BLE._instance

    def __init__(self):
        pass

    def _setup(self):
        self._name = os.getenv("BZSIM_NAME") or "esp32"
        self._mac = _board_mac(self._name)
        self._link = None
        self._active = False
        self._ram = None  # NimBLE's share of the board's RAM while active
        self._handler = None
        self._gap_name = "MPY NIMBLE"
        self._addr_mode = 0
        self._mtu = 23
        self._scan_gen = 0
        self._scanning = False
        self._connect_seq = 0
        self._connecting = False
        self._adv = b""
        self._resp = b""

    # ---- power and configuration -------------------------------------------------------

    def active(self, state=None):
        if state is None:
            return self._active
        if state and not self._active:
            if self._link is None:
                address = _simlink.env_address("BZSIM_AIR")
                if address is None:
                    raise OSError(errno.ENODEV)  # no simulated air: the radio cannot start
                self._link = _simlink.Link(address, self._on_message)
                self._link.send(_msg.HELLO, self._mac + self._name.encode())
            self._ram = _idfheap.take("ble")
            self._active = True
        elif not state and self._active:
            if self._scanning:
                self.gap_scan(None)
            if self._connecting:
                self.gap_connect(None)
            self._link.send(_msg.ADVERTISE, bytes(6))
            _idfheap.release(self._ram)
            self._ram = None
            self._active = False
        return self._active

    def config(self, *args, **kwargs):
        if args and kwargs:
            raise TypeError("either get or set")
        if args:
            if len(args) != 1:
                raise TypeError("one parameter at a time")
            return self._config_get(args[0])
        for key, value in kwargs.items():
            self._config_set(key, value)
        return None

    def _config_get(self, key):
        if key == "mac":
            self._need_active()
            return (self._addr_mode & 1, self._mac)
        if key == "gap_name":
            return self._gap_name.encode()
        if key == "addr_mode":
            return self._addr_mode
        if key == "mtu":
            return self._mtu
        raise ValueError("unknown config param")  # 'rxbuf' included: ESP32 uses sync events

    def _config_set(self, key, value):
        if key == "gap_name":
            self._gap_name = value.decode() if isinstance(value, (bytes, bytearray)) else str(value)
        elif key == "addr_mode":
            self._addr_mode = int(value)
        elif key == "mtu":
            self._mtu = int(value)
        else:
            raise ValueError("unknown config param")

    def irq(self, handler):
        self._handler = handler

    def _need_active(self):
        if not self._active:
            raise OSError(errno.ENODEV)

    # ---- GAP ---------------------------------------------------------------------------

    def gap_scan(self, duration_ms=0, interval_us=1280000, window_us=11250, active=False):
        self._need_active()
        if duration_ms is None:
            if self._scanning:
                self._scanning = False
                self._link.send(_msg.SCAN_STOP, bytes((self._scan_gen,)))
            return
        if self._scanning:
            raise OSError(errno.EALREADY)
        if self._connecting:
            raise OSError(_EBUSY)
        if window_us > interval_us:
            raise OSError(errno.EINVAL)
        self._scan_gen = (self._scan_gen + 1) & 0xFF
        self._scanning = True
        self._link.send(_msg.SCAN_START, struct.pack(
            ">BIIIB", self._scan_gen, duration_ms, interval_us, window_us, 1 if active else 0))

    def gap_connect(self, addr_type, addr=None, scan_duration_ms=_CONNECT_DEFAULT_MS,
                    min_conn_interval_us=None, max_conn_interval_us=None):
        self._need_active()
        if addr_type is None:
            if not self._connecting:
                raise OSError(errno.EALREADY)  # ble_gap_conn_cancel with nothing pending
            self._connecting = False
            self._link.send(_msg.CONNECT_CANCEL, bytes((self._connect_seq,)))
            return True
        if self._connecting:
            raise OSError(errno.EALREADY)
        if len(addr) != 6:
            raise ValueError("invalid addr")
        # NimBLE stops a running scan first; the air reports its _IRQ_SCAN_DONE.
        self._scanning = False
        self._connect_seq = (self._connect_seq + 1) & 0xFF
        self._connecting = True
        self._link.send(_msg.CONNECT, struct.pack(
            ">BB6sI", self._connect_seq, addr_type, bytes(addr), scan_duration_ms))
        return True

    def gap_disconnect(self, conn_handle):
        self._need_active()
        self._link.send(_msg.DISCONNECT, struct.pack(">H", conn_handle))
        return True

    def gap_advertise(self, interval_us, adv_data=None, resp_data=None, connectable=True):
        self._need_active()
        if adv_data is not None:
            self._adv = bytes(adv_data)
        if resp_data is not None:
            self._resp = bytes(resp_data)
        if len(self._adv) > 31 or len(self._resp) > 31:
            raise OSError(errno.EINVAL)
        interval = 0 if interval_us is None else max(int(interval_us), 20000)
        self._link.send(_msg.ADVERTISE, struct.pack(
            ">IBB", interval, 1 if connectable else 0, len(self._adv)) + self._adv + self._resp)

    # ---- GATT client -------------------------------------------------------------------

    def gattc_discover_services(self, conn_handle, uuid=None):
        self._need_active()
        tail = UUID(uuid)._le if uuid is not None else b""
        self._link.send(_msg.DISCOVER_SERVICES, struct.pack(">H", conn_handle) + tail)

    def gattc_discover_characteristics(self, conn_handle, start_handle, end_handle, uuid=None):
        self._need_active()
        tail = UUID(uuid)._le if uuid is not None else b""
        self._link.send(_msg.DISCOVER_CHARS,
                        struct.pack(">HHH", conn_handle, start_handle, end_handle) + tail)

    def gattc_read(self, conn_handle, value_handle):
        self._need_active()
        self._link.send(_msg.READ, struct.pack(">HH", conn_handle, value_handle))

    # ---- events from the air -----------------------------------------------------------

    def _on_message(self, mtype, view):
        if mtype == _msg.SCAN_RESULT:
            if not self._scanning or view[0] != self._scan_gen:
                return  # results still in flight from a scan that has ended
            rssi = view[9] - 256 if view[9] > 127 else view[9]
            self._irq(_IRQ_SCAN_RESULT, (view[1], view[2:8], view[8], rssi, view[10:]))
        elif mtype == _msg.SCAN_DONE:
            if view[0] == self._scan_gen:
                self._scanning = False
            self._irq(_IRQ_SCAN_DONE, ())
        elif mtype == _msg.CONNECTED:
            if view[0] == self._connect_seq:
                self._connecting = False
            self._irq(_IRQ_PERIPHERAL_CONNECT, (_u16(view, 1), view[3], view[4:10]))
        elif mtype == _msg.CONNECT_FAILED:
            if view[0] == self._connect_seq:
                self._connecting = False
            self._irq(_IRQ_PERIPHERAL_DISCONNECT, (0xFFFF, 0xFF, memoryview(_NO_ADDR)))
        elif mtype == _msg.DISCONNECTED:
            self._irq(_IRQ_PERIPHERAL_DISCONNECT, (_u16(view, 0), view[2], view[3:9]))
        elif mtype == _msg.SERVICE_RESULT:
            self._irq(_IRQ_GATTC_SERVICE_RESULT,
                      (_u16(view, 0), _u16(view, 2), _u16(view, 4), UUID(view[6:])))
        elif mtype == _msg.CHAR_RESULT:
            self._irq(_IRQ_GATTC_CHARACTERISTIC_RESULT,
                      (_u16(view, 0), _u16(view, 2), _u16(view, 4), view[6], UUID(view[7:])))
        elif mtype == _msg.SERVICE_DONE:
            self._irq(_IRQ_GATTC_SERVICE_DONE, (_u16(view, 0), _u16(view, 2)))
        elif mtype == _msg.CHAR_DONE:
            self._irq(_IRQ_GATTC_CHARACTERISTIC_DONE, (_u16(view, 0), _u16(view, 2)))
        elif mtype == _msg.READ_RESULT:
            self._irq(_IRQ_GATTC_READ_RESULT, (_u16(view, 0), _u16(view, 2), view[4:]))
        elif mtype == _msg.READ_DONE:
            self._irq(_IRQ_GATTC_READ_DONE, (_u16(view, 0), _u16(view, 2), _u16(view, 4)))

    def _irq(self, event, data):
        handler = self._handler
        if handler is None or not self._active:
            return
        try:
            handler(event, data)
        except BaseException as e:  # as modbluetooth.c: one escape and events stop for good
            self._handler = None
            print("Unhandled exception in IRQ callback handler")
            sys.print_exception(e)
