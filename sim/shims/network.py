# ESP32 `network` for the virtual board (never deployed). STA mode: the station connects to the
# access point the board was given (`bzgate sim board --wifi SSID:PASSWORD`), if any, while it is
# up; its sockets (the `socket` shim) then reach the host's loopback. When the access point goes
# (the board's control op "wifi"), the station loses its IP and its open sockets are aborted,
# as lwIP aborts the connections of an address that is gone. The station does not reconnect by
# itself (as with config(reconnects=0) on the port): the firmware connects again. From the first
# connect until the interface goes inactive, the driver's RAM is taken from the module's memory
# (_idfheap).
import _board
import _idfheap

STA_IF = const(0)
AP_IF = const(1)
STAT_IDLE = const(1000)
STAT_CONNECTING = const(1001)
STAT_GOT_IP = const(1010)
STAT_NO_AP_FOUND = const(201)
STAT_WRONG_PASSWORD = const(202)
STAT_BEACON_TIMEOUT = const(200)
STAT_ASSOC_FAIL = const(203)
STAT_HANDSHAKE_TIMEOUT = const(204)
AUTH_OPEN = const(0)
AUTH_WPA2_PSK = const(3)

_interfaces = {}


def WLAN(interface_id=STA_IF):
    """One object per interface, as on the port."""
    if interface_id not in (STA_IF, AP_IF):
        raise ValueError("invalid WLAN interface identifier")
    if interface_id not in _interfaces:
        _interfaces[interface_id] = _WLAN(interface_id)
        if interface_id == STA_IF:
            _board.wifi_listener = _interfaces[STA_IF]._ap_changed
    return _interfaces[interface_id]


class _WLAN:
    def __init__(self, interface_id):
        self._if = interface_id
        self._active = False
        self._ram = None  # the driver's share of the board's RAM, once it has connected
        self._status = STAT_IDLE
        mac = bytearray(_board.unique_id)
        mac[5] = (mac[5] + interface_id) & 0xFF  # the AP's MAC is the station's + 1
        self._config = {"mac": bytes(mac), "ssid": "", "channel": 1, "hostname": "espressif"}

    def active(self, is_active=None):
        if is_active is None:
            return self._active
        self._active = bool(is_active)
        if not self._active:
            self._status = STAT_IDLE
            _idfheap.release(self._ram)
            self._ram = None

    def _require_active(self):
        if not self._active:
            raise OSError("Wifi Not Started")

    def connect(self, ssid=None, key=None, *, bssid=None):
        self._require_active()
        if self._if != STA_IF:
            raise OSError("AP mode: not on this gate (docs/esp32-notes.md, note 11)")
        if self._ram is None:
            self._ram = _idfheap.take("wifi")
        ap = _board.wifi
        if ap is None or not ap["up"] or ssid != ap["ssid"]:
            self._drop(STAT_NO_AP_FOUND)
        elif (key or "") != ap["password"]:
            self._drop(STAT_WRONG_PASSWORD)
        else:
            self._status = STAT_GOT_IP
            self._config["ssid"] = ssid

    def disconnect(self):
        self._drop(STAT_IDLE)

    def _drop(self, status):
        was = self._status == STAT_GOT_IP
        self._status = status
        if was:
            import socket
            socket.abort_all()

    def _ap_changed(self):
        if self._status == STAT_GOT_IP and not _board.wifi["up"]:
            self._drop(STAT_BEACON_TIMEOUT)

    def isconnected(self):
        return self._status == STAT_GOT_IP

    def status(self, param=None):
        if param == "rssi":
            if self._status != STAT_GOT_IP:
                raise OSError("STA is not connected")
            return -55
        return self._status

    def scan(self):
        self._require_active()
        return []

    def ifconfig(self, config=None):
        if config is None:
            if self._status == STAT_GOT_IP:  # DHCP's answer; the sockets go to the loopback
                return ("192.168.4.2", "255.255.255.0", "192.168.4.1", "192.168.4.1")
            return ("0.0.0.0", "0.0.0.0", "0.0.0.0", "0.0.0.0")

    def config(self, *args, **kwargs):
        if args:
            if args[0] not in self._config:
                raise ValueError("unknown config param")
            return self._config[args[0]]
        for key, value in kwargs.items():
            if key == "mac":
                raise OSError("can't set MAC")
            self._config[key] = value
