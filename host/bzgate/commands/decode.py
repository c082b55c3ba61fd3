"""`bzgate decode`: what a captured advert is, as the gate would judge it."""

import json

import click

from bzcore import adv, advwalk
from bzgate.commands.options import json_option
from bzgate.hexbytes import parse_hex

AD_TYPE_NAMES = {
    0x01: "Flags",
    0x02: "16-bit UUIDs (incomplete)",
    0x03: "16-bit UUIDs (complete)",
    0x06: "128-bit UUIDs (incomplete)",
    0x07: "128-bit UUIDs (complete)",
    0x08: "Shortened local name",
    0x09: "Complete local name",
    0x0A: "TX power level",
    0x16: "Service data (16-bit UUID)",
    0xFF: "Manufacturer data",
}


def advert_report(data: bytes, scan_rsp: bytes | None) -> dict:
    """The JSON-ready description of an advert: the classification and every AD structure."""
    result = adv.classify(data, scan_rsp)
    ident = result.id
    if isinstance(ident, bytes):
        ident = ident.hex().upper()
    ads = []
    for packet, payload in (("adv", data), ("scan_rsp", scan_rsp)):
        for ad_type, body in advwalk.structures(payload or b""):
            ads.append({"type": ad_type, "data": body.hex().upper(), "packet": packet})
    return {"kind": result.kind, "platform": result.platform, "id": ident,
            "needs_gatt": result.needs_gatt, "ads": ads}


def _show(report: dict) -> None:
    click.echo(f"kind:       {report['kind']}")
    click.echo(f"platform:   {report['platform'] or '-'}")
    click.echo(f"id:         {report['id'] or '-'}")
    click.echo(f"needs GATT: {'yes' if report['needs_gatt'] else 'no'}")
    click.echo("AD structures:")
    for ad in report["ads"]:
        if ad["type"] is None:
            click.echo(f"  {ad['packet']:<8} ----  runs past the end of the packet: {ad['data']}")
            continue
        name = AD_TYPE_NAMES.get(ad["type"], "other")
        click.echo(f"  {ad['packet']:<8} 0x{ad['type']:02X}  {name:<27} {ad['data']}")


@click.command()
@click.argument("hex_adv", metavar="HEX")
@click.option("--scan-response", "scan_hex", metavar="HEX", help="The SCAN_RSP bytes, if captured.")
@json_option
def decode(hex_adv: str, scan_hex: str | None, as_json: bool) -> None:
    """Classify a captured BLE advert (hex ADV bytes) by the Bluezone rules.

    Prints the kind (android, ios, ios-background, android-v1, ios-v1, ios-v1-background,
    ibeacon or none), the platform, the Bluezone ID when the advert carries one, whether the
    gate must read it over GATT, and each AD structure.

    \b
    Examples:
      bzgate decode "02 01 02 0F FF B5 22 13 0C EA 64 72 13 0C 18 5D 86 43 DF 03 03 56 4E"
    """
    data = parse_hex(hex_adv, "the advert")
    scan_rsp = parse_hex(scan_hex, "the scan response") if scan_hex is not None else None
    report = advert_report(data, scan_rsp)
    if as_json:
        click.echo(json.dumps(report))
    else:
        _show(report)
