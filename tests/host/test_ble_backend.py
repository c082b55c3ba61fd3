"""The bleak backend on the simulated air, through bleak's public API only (BleakScanner with a
detection callback, BleakClient connect / read_gatt_char), and the AD bytes <-> AdvertisementData
codec the host uses when a backend gives no raw bytes (BlueZ)."""

import asyncio
import json

import pytest
from bleak import BleakClient, BleakScanner
from bleak.exc import BleakGATTProtocolError
from blekit import HERE, at_gate, phone_ids, phones_air

from bzcore import adv, advwalk
from bzgate.ble.advert import advert_bytes, rebuilt_bytes
from bzsim.air.bleak_advert import RawAdvert, advertisement_data
from bzsim.air.bleak_backend import AirClient, AirScanner

IOS_CHAR = "00004e56-73f5-4bc4-a12f-17d1ad07a689"
ANDROID_UUID = "00004e56-0000-1000-8000-00805f9b34fb"
IOS_SERVICE = "00004e56-73f5-4bc4-a12f-17d1ad07a667"
SERVICE_CHANGED = "00002a05-0000-1000-8000-00805f9b34fb"  # indicate only: a read is refused


async def heard(air, until, timeout=8.0):
    """{address: (BLEDevice, AdvertisementData)} heard at the gate "front" once until(found)."""
    found = {}
    done = asyncio.Event()

    def on_advert(device, data):
        found[device.address] = (device, data)
        if until(found):
            done.set()

    async with BleakScanner(on_advert, backend=AirScanner, air=air.address, air_name="front"):
        await asyncio.wait_for(done.wait(), timeout)
    return found


def by_kind(found):
    return {adv.classify(*advert_bytes(data)).kind: (device, data)
            for device, data in found.values()}


def test_adverts_reach_bleak_as_a_platform_backend_fills_them(tmp_path):
    with phones_air(tmp_path, [at_gate("an", "android"), at_gate("io", "ios"),
                               at_gate("bg", "ios-background")]) as air:
        ids = phone_ids(air)
        found = asyncio.run(heard(air, lambda f: {"android", "ios", "ios-background"}
                                  <= set(by_kind(f))))
    kinds = by_kind(found)
    _, android = kinds["android"]
    assert android.manufacturer_data == {0x22B5: bytes.fromhex(ids["an"])}
    assert android.service_uuids == [ANDROID_UUID] and android.local_name is None
    assert android.tx_power is None and -100 < android.rssi < 0
    _, ios = kinds["ios"]
    assert ios.service_uuids == [IOS_SERVICE]
    assert ios.local_name == "Bluezone"  # from the scan response: the scan is active
    _, background = kinds["ios-background"]
    assert background.manufacturer_data[0x004C][:2] == b"\x01\x08"
    for _, data in found.values():  # the raw bytes travel with the parsed fields
        raw = data.platform_data[0]
        assert isinstance(raw, RawAdvert) and advertisement_data(raw, data.rssi) == data


def test_client_reads_an_iphones_id_and_reports_gatt_errors(tmp_path):
    async def read(air):
        found = await heard(air, lambda f: "ios" in by_kind(f))
        device, _ = by_kind(found)["ios"]
        async with BleakClient(device, backend=AirClient, timeout=5) as client:
            assert client.is_connected
            services = [s.uuid for s in client.services]
            value = await client.read_gatt_char(IOS_CHAR)
            indicate_only = client.services.get_characteristic(SERVICE_CHANGED)
            with pytest.raises(BleakGATTProtocolError):
                await client.read_gatt_char(indicate_only)
        assert not client.is_connected
        return services, bytes(value)

    with phones_air(tmp_path, [at_gate("io", "ios")]) as air:
        services, value = asyncio.run(read(air))
        assert value.hex().upper() == phone_ids(air)["io"]
    assert IOS_SERVICE in services


def test_connecting_to_nobody_times_out(tmp_path):
    async def connect(air):
        client = BleakClient("C0:FF:EE:00:00:01", backend=AirClient, timeout=0.5,
                             air=air.address)
        with pytest.raises(TimeoutError):
            await client.connect()
        assert not client.is_connected

    with phones_air(tmp_path, []) as air:
        asyncio.run(connect(air))


def test_rebuilt_ad_bytes_classify_as_the_raw_ones():
    """The BlueZ path: every advert case of the core's table, parsed into AdvertisementData and
    rebuilt, classifies as its raw bytes do (Flags and the structures' order do not matter)."""
    cases = json.loads((HERE.parent / "cases" / "adverts.json").read_text())["cases"]
    checked = 0
    for case in cases:
        packet = bytes.fromhex(case["adv"])
        scan_rsp = bytes.fromhex(case["scan_rsp"]) if case.get("scan_rsp") else None
        data = advertisement_data(RawAdvert(packet, scan_rsp), -60)
        rebuilt = data._replace(platform_data=())
        assert advert_bytes(rebuilt) == (rebuilt_bytes(rebuilt), None)
        expected = adv.classify(packet, scan_rsp)
        got = adv.classify(rebuilt_bytes(rebuilt))
        if any(b is None for b, _ in advwalk.structures(packet)):
            continue  # a malformed packet: bleak (BlueZ) would report nothing from it anyway
        assert (got.kind, got.id) == (expected.kind, expected.id), case["name"]
        checked += 1
    assert checked >= 10
