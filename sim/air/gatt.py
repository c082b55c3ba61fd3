"""GATT servers of simulated devices: services and characteristics with assigned handles.

UUIDs are kept in on-air (little-endian) byte order, 2 or 16 bytes, as the wire carries them.
Read errors use NimBLE's status codes (BLE_HS_ERR_ATT_BASE 0x100 + the ATT error code).
"""

import struct
from collections import namedtuple

PROP_READ = 0x02
PROP_INDICATE = 0x20
STATUS_OK = 0
STATUS_INVALID_HANDLE = 0x101
STATUS_READ_NOT_PERMITTED = 0x102

Characteristic = namedtuple("Characteristic", "uuid props value")  # value(t) -> bytes
Service = namedtuple("Service", "uuid chars")
ServiceRange = namedtuple("ServiceRange", "start end uuid")
CharEntry = namedtuple("CharEntry", "end value_handle props uuid value")


def uuid16(value: int) -> bytes:
    return struct.pack("<H", value)


def standard_services(name: bytes) -> list:
    """GAP (device name) and GATT (service changed), which every BLE peripheral exposes."""
    return [Service(uuid16(0x1800), [Characteristic(uuid16(0x2A00), PROP_READ, lambda t: name)]),
            Service(uuid16(0x1801), [Characteristic(uuid16(0x2A05), PROP_INDICATE, None)])]


class GattServer:
    """Handles are assigned in order: a service declaration, then per characteristic its
    declaration and value handles, as a peripheral's stack lays out its table."""

    def __init__(self, services):
        self.ranges = []
        self.chars = []
        handle = 1
        for service in services:
            start = handle
            for char in service.chars:
                handle += 2
                self.chars.append(CharEntry(handle, handle, char.props, char.uuid, char.value))
            self.ranges.append(ServiceRange(start, handle, service.uuid))
            handle += 1

    def services(self, uuid: bytes = b""):
        return [r for r in self.ranges if not uuid or r.uuid == uuid]

    def characteristics(self, start: int, end: int, uuid: bytes = b""):
        return [c for c in self.chars
                if start <= c.value_handle <= end and (not uuid or c.uuid == uuid)]

    def read(self, handle: int, t: float):
        """(status, value): the value only when status is STATUS_OK."""
        for c in self.chars:
            if c.value_handle == handle:
                if not c.props & PROP_READ or c.value is None:
                    return STATUS_READ_NOT_PERMITTED, b""
                return STATUS_OK, c.value(t)
        return STATUS_INVALID_HANDLE, b""
