"""What a bleak backend hands the host for an advert: AdvertisementData as bleak fills it from
raw AD bytes, with those bytes in platform_data as a RawAdvert (bzgate.ble.advert.advert_bytes
takes them from there: any item with `adv` and `scan_rsp` bytes)."""

import struct
import uuid as uuidlib
from typing import NamedTuple

from bleak.backends.scanner import AdvertisementData
from bleak.uuids import normalize_uuid_16, normalize_uuid_32

from bzcore.advwalk import structures

# AD types (Core Specification Supplement, Part A, 1); bzgate.ble.advert writes the same table
# when it rebuilds bytes for BlueZ: a data table in both, so the air needs nothing of the host.
_NAME_SHORT, _NAME_COMPLETE = 0x08, 0x09
_UUID16, _UUID32, _UUID128 = (0x02, 0x03), (0x04, 0x05), (0x06, 0x07)
_DATA16, _DATA32, _DATA128 = 0x16, 0x20, 0x21
_TX_POWER = 0x0A
_MANUFACTURER = 0xFF


class RawAdvert(NamedTuple):
    """What a backend received: the ADV bytes and the latest SCAN_RSP (None when none)."""
    adv: bytes
    scan_rsp: bytes | None


def uuid_text(le: bytes) -> str:
    """An on-air (little-endian) 2-, 4- or 16-byte UUID as bleak writes it."""
    if len(le) == 2:
        return normalize_uuid_16(int.from_bytes(le, "little"))
    if len(le) == 4:
        return normalize_uuid_32(int.from_bytes(le, "little"))
    return str(uuidlib.UUID(bytes=bytes(reversed(le))))


def _uuids(data: bytes, size: int) -> list[str]:
    return [uuid_text(data[i:i + size]) for i in range(0, len(data) - size + 1, size)]


def advertisement_data(raw: RawAdvert, rssi: int) -> AdvertisementData:
    """AdvertisementData as bleak fills it from a device's adverts (the SCAN_RSP's fields
    added to the ADV's); malformed structures contribute nothing."""
    name = None
    manufacturer: dict[int, bytes] = {}
    service_data: dict[str, bytes] = {}
    service_uuids: list[str] = []
    tx_power = None
    for packet in (raw.adv, raw.scan_rsp or b""):
        for kind, data in structures(packet):
            if kind == _MANUFACTURER and len(data) >= 2:
                manufacturer[int.from_bytes(data[:2], "little")] = data[2:]
            elif kind in (_NAME_SHORT, _NAME_COMPLETE) and (name is None or kind == _NAME_COMPLETE):
                name = data.decode("utf-8", "replace")
            elif kind in _UUID16 + _UUID32 + _UUID128:
                size = 2 if kind in _UUID16 else 4 if kind in _UUID32 else 16
                service_uuids += [u for u in _uuids(data, size) if u not in service_uuids]
            elif kind in (_DATA16, _DATA32, _DATA128):
                size = {_DATA16: 2, _DATA32: 4, _DATA128: 16}[kind]
                if len(data) >= size:
                    service_data[uuid_text(data[:size])] = data[size:]
            elif kind == _TX_POWER and len(data) == 1:
                tx_power = struct.unpack("b", data)[0]
    return AdvertisementData(name, manufacturer, service_data, service_uuids, tx_power, rssi,
                             (raw,))
