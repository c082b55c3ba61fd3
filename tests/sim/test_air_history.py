"""Simulated phones record the Bluezone IDs they hear, as the app's history file
(docs/protocol.md §5.4)."""

import time

from airkit import RawClient
from scenariokit import DK, phone, running_air, scenario

from bzcore import beacon, ids

GATE_ID = bytes.fromhex("00112233445566778899AABB")


def rows(text):
    return [line.split("\t") for line in text.splitlines()]


def wait_rows(air, name, timeout=5.0):
    deadline = time.monotonic() + timeout
    while not air.history(name) and time.monotonic() < deadline:
        time.sleep(0.05)
    return rows(air.history(name))


def test_phones_record_a_checkpoint_advert_once_a_minute_in_their_platforms_units(tmp_path):
    data = scenario([phone("droid", "android", max=96), phone("iphone", "ios", max=96),
                     phone("old", "android-v1", v1_code="AB12cd"),
                     phone("later", "android", max=96, arrive_s=600)])
    with running_air(tmp_path, data) as air:
        client = RawClient(air.address)
        client.request("HELLO", b"\x24\x0a\xc4\x00\x00\x09", tail=b"front")
        advert = beacon.checkpoint_advert(GATE_ID)
        client.request("ADVERTISE", 100000, 0, len(advert), tail=advert)
        droid = wait_rows(air, "droid")
        iphone = wait_rows(air, "iphone")
        time.sleep(0.5)  # five more adverts: still one row each, as within a minute
        now = air.now()
        droid, iphone = rows(air.history("droid")), rows(air.history("iphone"))
        others = air.history("old"), air.history("later"), air.history("nobody")
        client.close()
    gate_rows = [r for r in droid if r[1] == GATE_ID.hex().upper()]
    assert len(gate_rows) == 1 and len([r for r in iphone if r[1] == GATE_ID.hex().upper()]) == 1
    own, seen, rssi, stamp = gate_rows[0]
    when_ms = int(stamp)
    assert now * 1000 - 5000 < when_ms <= now * 1000  # Android: milliseconds
    slot_key = ids.key_for_day(DK, ids.day_start(int(now)), int(now))
    assert own == ids.id_at(slot_key, when_ms // 1000, 96).hex().upper()
    assert -100 < int(rssi) < -30
    ios_row = [r for r in iphone if r[1] == GATE_ID.hex().upper()][0]
    assert now - 5 < int(ios_row[3]) <= now  # iOS 3.0.3: seconds
    assert others == ("", "", "")  # a v1 app keeps no rolling IDs; a phone not there hears nothing
