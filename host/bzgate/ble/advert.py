"""Raw AD bytes from bleak's AdvertisementData, for bzcore.adv.classify.

bzcore.adv.classify works on raw AD bytes. A backend that has them (the simulated air's) hands
them over in AdvertisementData.platform_data (an item with `adv` and `scan_rsp` bytes: a
bzsim.air.bleak_advert.RawAdvert), and `advert_bytes` uses them as they are. bleak's BlueZ
backend gives no raw bytes (BlueZ reports parsed properties), so there the AD bytes are rebuilt
from the fields bleak fills: local name, manufacturer data, service UUIDs, service data, TX
power. The rebuilt bytes carry everything the Bluezone rules (docs/protocol.md §7.2) look at,
but not the Flags, the order of the structures or an ADV/SCAN_RSP split, and a manufacturer's
data is only the latest BlueZ kept for that company.
"""

import struct
import uuid as uuidlib

from bleak.backends.scanner import AdvertisementData

_SIG_BASE_TAIL = "-0000-1000-8000-00805f9b34fb"
# AD types (Core Specification Supplement, Part A, 1); bzsim.air.bleak_advert reads by the same.
_NAME_COMPLETE = 0x09
_UUID16, _UUID32, _UUID128 = (0x02, 0x03), (0x04, 0x05), (0x06, 0x07)
_DATA16, _DATA32, _DATA128 = 0x16, 0x20, 0x21
_TX_POWER = 0x0A
_MANUFACTURER = 0xFF


def uuid_bytes(text: str) -> bytes:
    """A UUID as bleak writes it, in its shortest on-air (little-endian) form."""
    value = uuidlib.UUID(text)
    if str(value).endswith(_SIG_BASE_TAIL) and value.int >> 112 == 0:
        short = value.int >> 96
        return short.to_bytes(2 if short <= 0xFFFF else 4, "little")
    return bytes(reversed(value.bytes))


def _structure(kind: int, data: bytes) -> bytes:
    data = data[:254]  # an AD structure's length is one byte
    return bytes((len(data) + 1, kind)) + data


def rebuilt_bytes(adv: AdvertisementData) -> bytes:
    """AD bytes carrying the fields of `adv` (for backends without raw bytes; see above)."""
    out = []
    if adv.local_name:
        out.append(_structure(_NAME_COMPLETE, adv.local_name.encode()))
    for company, data in adv.manufacturer_data.items():
        out.append(_structure(_MANUFACTURER, struct.pack("<H", company) + bytes(data)))
    by_size: dict[int, bytes] = {2: b"", 4: b"", 16: b""}
    for text in adv.service_uuids:
        le = uuid_bytes(text)
        by_size[len(le)] += le
    for size, kind in ((2, _UUID16[1]), (4, _UUID32[1]), (16, _UUID128[1])):
        if by_size[size]:
            out.append(_structure(kind, by_size[size]))
    for text, data in adv.service_data.items():
        le = uuid_bytes(text)
        kind = {2: _DATA16, 4: _DATA32, 16: _DATA128}[len(le)]
        out.append(_structure(kind, le + bytes(data)))
    if adv.tx_power is not None:
        out.append(_structure(_TX_POWER, struct.pack("b", max(-128, min(127, adv.tx_power)))))
    return b"".join(out)


def advert_bytes(adv: AdvertisementData) -> tuple[bytes, bytes | None]:
    """(ADV bytes, SCAN_RSP bytes or None) for bzcore.adv.classify: the raw bytes when the
    backend gave them, else rebuilt from the parsed fields."""
    for item in adv.platform_data:
        if isinstance(getattr(item, "adv", None), bytes):  # bzsim.air.bleak_advert.RawAdvert
            return item.adv, item.scan_rsp
    return rebuilt_bytes(adv), None
