"""`bzgate provision list`: serial ports that look like ESP32 boards (by the USB bridge's
VID/PID) and running virtual boards, each asked HELLO.
"""

from dataclasses import dataclass

from serial.tools import list_ports

from bzgate.link.serial import GateLink, LinkError
from bzsim.board import registry

PROBE_TIMEOUT = 1.0  # a port found by --all that does not answer HELLO by then is not a gate

# USB-serial bridges found on ESP32 boards, and the ESP32-S3/C3's own USB-JTAG/Serial.
USB_IDS = {
    (0x10C4, 0xEA60): "CP210x", (0x10C4, 0xEA70): "CP2105",
    (0x1A86, 0x7523): "CH340", (0x1A86, 0x55D4): "CH9102", (0x1A86, 0x7522): "CH340K",
    (0x0403, 0x6001): "FT232R", (0x0403, 0x6010): "FT2232", (0x0403, 0x6015): "FT231X",
    (0x303A, 0x1001): "ESP32 USB-JTAG/Serial",
}


@dataclass
class Port:
    device: str
    kind: str  # the USB bridge, or "virtual board (FLASH)"
    usb_serial: str = ""
    gate: dict | None = None  # HELLO's answer, or None
    note: str = ""


def usb_ports() -> list[Port]:
    return [Port(p.device, USB_IDS[(p.vid, p.pid)], p.serial_number or "")
            for p in list_ports.comports() if (p.vid, p.pid) in USB_IDS]


def virtual_ports() -> list[Port]:
    return [Port(b["serial"], f"virtual board ({b['flash']})") for b in registry.boards()]


def port_of_usb_serial(usb_serial: str) -> str | None:
    for port in usb_ports():
        if port.usb_serial == usb_serial:
            return port.device
    return None


def ask(port: Port) -> Port:
    try:
        with GateLink(port.device, timeout=1.0, retries=0) as link:
            port.gate = link.hello()
    except LinkError as e:
        port.note = "no gate answers (bare board, REPL, or busy)" if e.code == "no-reply" else str(e)
    return port


def all_ports() -> list[Port]:
    return [ask(p) for p in usb_ports() + virtual_ports()]
