"""Which radio the BLE commands use, and listening on it with bleak.

With --air HOST:PORT (or $BZSIM_AIR) the radio is the simulated air, through bzsim's bleak
backend (tests, demos, training on the virtual board); otherwise it is bleak's own backend for
this computer (BlueZ on Linux, on --adapter). Either way the commands use bleak's public API
only: BleakScanner with a detection callback, BleakClient connect and read_gatt_char.
"""

import asyncio
import os
from collections.abc import Callable
from typing import NamedTuple

from bleak import BleakClient, BleakScanner
from bleak.backends.device import BLEDevice
from bleak.backends.scanner import AdvertisementData
from bleak.exc import BleakError

from bzgate.errors import UserError

AIR_ENV = "BZSIM_AIR"
EXIT_RADIO = 1  # the radio could not be used


class Radio(NamedTuple):
    """bleak keyword arguments for scanners and clients on the chosen radio."""
    scanner: dict
    client: dict
    where: str  # for messages: "adapter hci0" or "simulated air 127.0.0.1:PORT"


def choose(air: str | None, adapter: str, name: str) -> Radio:
    """The simulated air when `air` or $BZSIM_AIR names one (placed at the scenario's gate
    `name`), else bleak's backend for this computer on `adapter`."""
    address = air or os.environ.get(AIR_ENV)
    if address:
        from bzsim.air.bleak_backend import AirClient, AirScanner
        return Radio({"backend": AirScanner, "air": address, "air_name": name},
                     {"backend": AirClient}, f"simulated air {address}")
    return Radio({"bluez": {"adapter": adapter}}, {"bluez": {"adapter": adapter}},
                 f"adapter {adapter}")


OnAdvert = Callable[[BLEDevice, AdvertisementData], None]


async def listen(radio: Radio, on_advert: OnAdvert, seconds: float | None,
                 stop: asyncio.Event | None = None) -> None:
    """Scan, calling on_advert for every advert heard, for `seconds` (None: until `stop` is set
    or the task is cancelled, e.g. by Ctrl-C)."""
    stop = stop or asyncio.Event()
    try:
        async with BleakScanner(on_advert, **radio.scanner):
            try:
                await asyncio.wait_for(stop.wait(), seconds)
            except TimeoutError:
                pass
    except (BleakError, OSError) as e:
        hint = ("is the air running?" if "air" in radio.scanner else
                "is BlueZ running and the adapter up (bluetoothctl show)? Or give --air HOST:PORT")
        raise UserError(f"cannot scan with the {radio.where} ({e}): {hint}", EXIT_RADIO) from None


def client(radio: Radio, device: BLEDevice, timeout: float) -> BleakClient:
    return BleakClient(device, timeout=timeout, **radio.client)
