"""A bleak backend on the simulated air: host BLE code runs through bleak's public API against
virtual phones and gates, as it would against an adapter.

    BleakScanner(callback, backend=AirScanner, air="127.0.0.1:PORT", air_name="front")
    BleakClient(device, backend=AirClient)      # the device's details name the air

Each scanner and each client is one radio on the air (one TCP session, sim/air.py's protocol,
the same the board's `bluetooth` shim speaks), placed at the scenario's gate called `air_name`
(the air places an unknown name at the first gate). `air` defaults to $BZSIM_AIR. Scanning is
active and continuous; every advert heard is reported (no duplicate filtering), with the raw
AD bytes in platform_data (bzsim.air.bleak_advert.RawAdvert). The client connects, discovers every
service and characteristic, and reads; the air has no writes, notifications or pairing, so
those raise BleakError.
"""

import asyncio
import hashlib
import os
import struct
from typing import Any, NamedTuple

from bleak.backends.characteristic import BleakGATTCharacteristic
from bleak.backends.client import BaseBleakClient
from bleak.backends.device import BLEDevice
from bleak.backends.scanner import BaseBleakScanner
from bleak.backends.service import BleakGATTService, BleakGATTServiceCollection
from bleak.exc import BleakError, BleakGATTProtocolError

from bzsim.air import link, wire
from bzsim.air.bleak_advert import RawAdvert, advertisement_data, uuid_text

ENV = "BZSIM_AIR"
DEFAULT_NAME = "bzgate-host"
SCAN_RSP = 4  # adv_type of a scan response
ATT_ERROR_BASE = 0x100  # NimBLE's status for an ATT error: 0x100 + the ATT error code
_PROPERTIES = ((0x01, "broadcast"), (0x02, "read"), (0x04, "write-without-response"),
               (0x08, "write"), (0x10, "notify"), (0x20, "indicate"))
_UNSUPPORTED = "the simulated air supports connecting, discovery and reads only"


class AirDetails(NamedTuple):
    """BLEDevice.details of a device heard on the air: enough for AirClient to reach it."""
    addr_type: int
    addr: bytes
    air: str
    air_name: str


def air_address(given: str | None) -> str:
    address = given or os.environ.get(ENV)
    if not address:
        raise BleakError(f"no simulated air: give its HOST:PORT or set {ENV}")
    return address


class _Radio:
    """One session with the air: HELLO sent, frames read by a task and handed to on_message."""

    def __init__(self, reader, writer, on_message):
        self._reader, self._writer, self._on_message = reader, writer, on_message
        self._task = asyncio.get_running_loop().create_task(self._read())
        self.closed = asyncio.Event()

    @classmethod
    async def open(cls, address: str, name: str, on_message) -> "_Radio":
        host, _, port = address.rpartition(":")
        try:
            reader, writer = await asyncio.open_connection(host, int(port))
        except (OSError, ValueError) as e:
            raise BleakError(f"cannot reach the simulated air at {address}: {e}") from e
        radio = cls(reader, writer, on_message)
        # A locally administered address of our own, stable for the name.
        mac = b"\x06" + hashlib.sha256(name.encode()).digest()[:5]
        radio.send("HELLO", mac + name.encode())
        return radio

    def send(self, name: str, payload: bytes = b"") -> None:
        if not self.closed.is_set():
            self._writer.write(link.encode(wire.MSG[name], payload))

    async def _read(self) -> None:
        buffer = bytearray()
        try:
            while True:
                chunk = await self._reader.read(65536)
                if not chunk:
                    break
                buffer += chunk
                for mtype, payload in link.split_frames(buffer):
                    self._on_message(wire.NAMES.get(mtype), payload)
        except OSError:
            pass
        finally:
            self.closed.set()
            self._on_message(None, b"")  # the air went away

    async def close(self) -> None:
        self.closed.set()
        self._task.cancel()
        self._writer.close()
        try:
            await self._writer.wait_closed()
        except OSError:
            pass


class AirScanner(BaseBleakScanner):
    def __init__(self, detection_callback, service_uuids, scanning_mode="active", *,
                 air: str | None = None, air_name: str = DEFAULT_NAME, **kwargs: Any):
        super().__init__(detection_callback, service_uuids)
        self._air = air_address(air)
        self._name = air_name
        self._active = scanning_mode != "passive"
        self._radio: _Radio | None = None
        self._gen = 0
        self._responses: dict[bytes, bytes] = {}  # address -> its latest SCAN_RSP

    async def start(self) -> None:
        self.seen_devices = {}
        self._responses = {}
        self._radio = await _Radio.open(self._air, self._name, self._on_message)
        self._gen = (self._gen + 1) & 0xFF
        # Continuous: the window is the whole interval.
        self._radio.send("SCAN_START", struct.pack(">BIIIB", self._gen, 0, 100_000, 100_000,
                                                   int(self._active)))

    async def stop(self) -> None:
        if self._radio is not None:
            self._radio.send("SCAN_STOP", bytes((self._gen,)))
            await self._radio.close()
            self._radio = None

    def _on_message(self, name: str | None, payload: bytes) -> None:
        if name != "SCAN_RESULT" or len(payload) < 10 or payload[0] != self._gen:
            return
        addr_type, addr, adv_type, rssi = struct.unpack_from(">B6sBb", payload, 1)
        data = bytes(payload[10:])
        if adv_type == SCAN_RSP:
            self._responses[addr] = data
            previous = self.seen_devices.get(addr.hex(":").upper())
            if previous is None:
                return  # a response without its advert yet: reported with the next advert
            raw = RawAdvert(previous[1].platform_data[0].adv, data)
        else:
            raw = RawAdvert(data, self._responses.get(addr))
        adv = advertisement_data(raw, rssi)
        if not self.is_allowed_uuid(adv.service_uuids):
            return
        address = addr.hex(":").upper()
        device = self.create_or_update_device(
            address, address, adv.local_name, AirDetails(addr_type, addr, self._air, self._name),
            adv)
        self.call_detection_callbacks(device, adv)


class AirClient(BaseBleakClient):
    def __init__(self, address_or_ble_device: BLEDevice | str, *, air: str | None = None,
                 air_name: str | None = None, addr_type: int = 1, **kwargs: Any):
        super().__init__(address_or_ble_device, disconnected_callback=kwargs.pop(
            "disconnected_callback", None), timeout=kwargs.pop("timeout", 10.0))
        details = getattr(address_or_ble_device, "details", None)
        if isinstance(details, AirDetails):
            self._addr_type, self._addr = details.addr_type, details.addr
            air, air_name = air or details.air, air_name or details.air_name
        else:
            self._addr_type, self._addr = addr_type, bytes.fromhex(self.address.replace(":", ""))
        self._air = air_address(air)
        self._name = air_name or DEFAULT_NAME
        self._radio: _Radio | None = None
        self._conn: int | None = None
        self._seq = 0
        self._pending: asyncio.Future | None = None  # the procedure under way
        self._results: list = []
        self._lock = asyncio.Lock()

    @property
    def mtu_size(self) -> int:
        return 23

    @property
    def name(self) -> str:
        return self.address

    @property
    def is_connected(self) -> bool:
        return self._conn is not None

    async def connect(self, pair: bool, **kwargs: Any) -> None:
        if pair:
            raise BleakError(_UNSUPPORTED)
        self._radio = await _Radio.open(self._air, self._name, self._on_message)
        self._seq = (self._seq + 1) & 0xFF
        try:
            reply, payload = await self._procedure(
                "CONNECT", struct.pack(">BB6sI", self._seq, self._addr_type, self._addr,
                                       int(self._timeout * 1000)), self._timeout + 5)
            if reply != "CONNECTED":
                raise TimeoutError(f"{self.address} did not answer within {self._timeout} s")
            self._conn = struct.unpack_from(">H", payload, 1)[0]
            self.services = await self._discover()
        except BaseException:
            await self._close()
            raise

    async def _discover(self) -> BleakGATTServiceCollection:
        collection = BleakGATTServiceCollection()
        await self._procedure("DISCOVER_SERVICES", struct.pack(">H", self._conn))
        ranges = [struct.unpack_from(">HHH", p) + (bytes(p[6:]),) for p in self._results]
        for _, start, end, le in ranges:
            service = BleakGATTService(None, start, uuid_text(le))
            collection.add_service(service)
            await self._procedure("DISCOVER_CHARS", struct.pack(">HHH", self._conn, start, end))
            for p in self._results:
                _, _, value_handle, props = struct.unpack_from(">HHHB", p)
                properties = [name for bit, name in _PROPERTIES if props & bit]
                collection.add_characteristic(BleakGATTCharacteristic(
                    None, value_handle, uuid_text(bytes(p[7:])), properties, lambda: 20, service))
        return collection

    async def _procedure(self, request: str, payload: bytes, timeout: float = 10.0):
        """Send one request and wait for what ends it: (reply name, payload); the results
        before it in self._results. A non-zero status raises."""
        async with self._lock:
            if self._radio is None or self._radio.closed.is_set():
                raise BleakError(f"not connected to {self.address}")
            self._results = []
            self._pending = asyncio.get_running_loop().create_future()
            self._radio.send(request, payload)
            try:
                reply, body = await asyncio.wait_for(self._pending, timeout)
            finally:
                self._pending = None
        if reply in ("SERVICE_DONE", "CHAR_DONE", "READ_DONE"):
            status = struct.unpack_from(">H", body, len(body) - 2)[0]
            if status >= ATT_ERROR_BASE:
                raise BleakGATTProtocolError(status - ATT_ERROR_BASE)
            if status:
                raise BleakError(f"{self.address}: the link dropped (status {status})")
        if reply == "DISCONNECTED":
            raise BleakError(f"{self.address} disconnected")
        return reply, body

    def _on_message(self, name: str | None, payload: bytes) -> None:
        if name in ("SERVICE_RESULT", "CHAR_RESULT", "READ_RESULT"):
            self._results.append(payload)
            return
        if name in (None, "DISCONNECTED"):
            was_connected = self._conn is not None
            self._conn = None
            if self._pending is not None and not self._pending.done():
                self._pending.set_result(("DISCONNECTED", payload))
            elif was_connected and self._disconnected_callback is not None:
                self._disconnected_callback()
            return
        if name in ("CONNECTED", "CONNECT_FAILED", "SERVICE_DONE", "CHAR_DONE", "READ_DONE") \
                and self._pending is not None and not self._pending.done():
            self._pending.set_result((name, payload))

    async def disconnect(self) -> None:
        if self._conn is not None and self._radio is not None:
            conn, self._conn = self._conn, None
            self._radio.send("DISCONNECT", struct.pack(">H", conn))
        await self._close()

    async def _close(self) -> None:
        if self._radio is not None:
            await self._radio.close()
            self._radio = None
        self.services = None

    async def read_gatt_char(self, characteristic: BleakGATTCharacteristic, *,
                             use_cached: bool = False, **kwargs: Any) -> bytearray:
        if self._conn is None:
            raise BleakError(f"not connected to {self.address}")
        await self._procedure("READ", struct.pack(">HH", self._conn, characteristic.handle))
        return bytearray(self._results[-1][4:]) if self._results else bytearray()

    async def pair(self, *args: Any, **kwargs: Any) -> None:
        raise BleakError(_UNSUPPORTED)

    async def unpair(self) -> None:
        raise BleakError(_UNSUPPORTED)

    async def read_gatt_descriptor(self, descriptor, *, use_cached: bool = False,
                                   **kwargs: Any) -> bytearray:
        raise BleakError(_UNSUPPORTED)

    async def write_gatt_char(self, characteristic, data, response: bool) -> None:
        raise BleakError(_UNSUPPORTED)

    async def write_gatt_descriptor(self, descriptor, data) -> None:
        raise BleakError(_UNSUPPORTED)

    async def start_notify(self, characteristic, callback, **kwargs: Any) -> None:
        raise BleakError(_UNSUPPORTED)

    async def stop_notify(self, characteristic) -> None:
        raise BleakError(_UNSUPPORTED)
