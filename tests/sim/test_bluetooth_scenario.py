"""A board script scanning the air hears what the scenario says, and reads iPhones over GATT."""

import pytest
from airkit import GATT_CLIENT, run_board
from scenariokit import DK, phone, running_air, scenario
from bzcore import ids
from bzcore.adv import decode_v1_name

SCAN_AND_CLASSIFY = """
from bzcore.adv import classify
heard = {}
rsp = {}
def irq(event, data):
    if event == 5:
        addr_type, addr, adv_type, rssi, adv = data
        key = bytes(addr).hex()
        if adv_type == 4:
            rsp[key] = bytes(adv).hex()
            return
        a = classify(adv)
        ident = a.id.hex().upper() if isinstance(a.id, bytes) else a.id
        heard[key] = [a.kind, ident, addr_type]
    elif event == 6:
        done.append(1)
done = []
ble.irq(irq)
ble.gap_scan(2500, 30000, 30000, True)
wait(lambda: done, 5000)
result(heard=heard, rsp=rsp, t=time.time())
"""


def test_scan_results_match_the_scenario(tmp_path):
    phones = [phone("an", "android"), phone("io", "ios"), phone("bg", "ios-background"),
              phone("legacy", "android-v1", v1_code="aB3xY9"), phone("iv1", "ios-v1", v1_code="Qw3rt9"),
              phone("oth", "other")]
    with running_air(tmp_path, scenario(phones)) as air:
        out, _ = run_board(tmp_path, air, SCAN_AND_CLASSIFY)
        t = int(air.now())
        listed = air.phones()
    assert all(p["advertising"] for p in listed)  # seed 7: no Android is in its off phase
    by_name = {p["name"]: p["address"].replace(":", "").lower() for p in listed}
    heard = out["heard"]
    expected_id = ids.id_at(DK, t, 96).hex().upper()
    assert heard[by_name["an"]] == ["android", expected_id, 1]
    assert heard[by_name["io"]][0] == "ios"
    assert heard[by_name["bg"]][0] == "ios-background"
    assert heard[by_name["legacy"]][:2] == ["android-v1", "aB3xY9"]
    assert heard[by_name["iv1"]][0] == "ios-v1"
    assert heard[by_name["oth"]][0] == "none"
    # Active scanning brings the iPhones' names in scan responses.
    assert bytes.fromhex(out["rsp"][by_name["io"]]).endswith(b"Bluezone")
    assert decode_v1_name(bytes.fromhex(out["rsp"][by_name["iv1"]])[2:]) == "Qw3rt9"


READ_OVER_GATT = """
ADDRS = {addrs}
CHARS = {{"io": IOS_CHAR, "bg": IOS_CHAR, "iv1": V1_CHAR}}
values = {{}}
for name, addr in ADDRS.items():
    client.connect(addr)
    value, status, _ = client.read(client.find(CHARS[name]))
    client.close()
    values[name] = [value, status]
result(values=values)
"""


def test_iphones_return_their_current_id_over_gatt(tmp_path):
    phones = [phone("io", "ios"), phone("bg", "ios-background"),
              phone("iv1", "ios-v1", v1_code="Qw3rt9")]
    with running_air(tmp_path, scenario(phones)) as air:
        addrs = {p["name"]: p["address"].replace(":", "") for p in air.phones()}
        out, _ = run_board(tmp_path, air, GATT_CLIENT + READ_OVER_GATT.format(addrs=addrs))
        t = int(air.now())
    expected = ids.id_at(DK, t, 96).hex()
    assert out["values"]["io"] == [expected, 0]
    assert out["values"]["bg"] == [expected, 0]
    name, status = out["values"]["iv1"]
    assert status == 0 and decode_v1_name(bytes.fromhex(name)) == "Qw3rt9"


@pytest.mark.parametrize("start", ["2020-09-18T08:00:00Z"])
def test_android_keeps_the_previous_slots_id_after_a_boundary(tmp_path, start):
    # Seed 7's phone began its 15 s advertising burst 5.6 s before the scenario starts, on a
    # slot boundary: it advertises the previous slot's ID until its next burst.
    with running_air(tmp_path, scenario([phone("an", "android")], start=start)) as air:
        (listed,) = air.phones()
        assert listed["advertising"] and listed["advertised_id"] != listed["id"]
        out, _ = run_board(tmp_path, air, SCAN_AND_CLASSIFY)
    boundary = 1600416000
    (kind, seen_id, _), = out["heard"].values()
    assert kind == "android"
    assert seen_id == ids.id_at(DK, boundary - 1, 96).hex().upper()
    assert seen_id != ids.id_at(DK, boundary, 96).hex().upper()
