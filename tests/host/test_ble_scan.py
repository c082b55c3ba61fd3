"""`bzgate ble scan` on the simulated air: Bluezone phones, calibration, gates' status beacons."""

import math

from blekit import at_gate, ble_json, invoke, phone_ids, phones_air


def test_scan_lists_bluezone_phones_with_their_ids(tmp_path, monkeypatch):
    monkeypatch.setenv("BZGATE_KEYS", str(tmp_path / "keys.json"))
    with phones_air(tmp_path, [at_gate("an", "android"), at_gate("io", "ios"),
                               at_gate("v1", "ios-v1", v1_code="aB3xY9")],
                    noise={"other_adverts_per_s": 5}) as air:
        doc = ble_json(["scan", "--seconds", "3"], air)
        ids = phone_ids(air)
        code, text, _ = invoke(["ble", "scan", "--seconds", "1"], air)
    phones = {p["kind"]: p for p in doc["phones"]}
    assert phones["android"]["id"] == ids["an"] and phones["android"]["platform"] == "android"
    assert phones["ios"]["id"] is None and phones["ios"]["platform"] == "ios"
    assert phones["ios-v1"]["id"] == "aB3xY9"  # its name, in the scan response
    assert all(-100 < p["rssi"] < 0 and p["adverts"] >= 1 for p in doc["phones"])
    assert doc["other_adverts"] > 0 and doc["gates"] == []
    assert code == 0 and ids["an"] in text and "Bluezone phone(s)" in text


def test_calibrate_takes_the_strongest_phone_and_its_10th_percentile(tmp_path, monkeypatch):
    monkeypatch.setenv("BZGATE_KEYS", str(tmp_path / "keys.json"))
    near = at_gate("near", "ios")
    far = {**at_gate("far", "android"), "path": "pass-by"}
    with phones_air(tmp_path, [near, far]) as air:
        doc = ble_json(["scan", "--seconds", "3", "--calibrate", "--distance", "0.3"], air)
    c = doc["calibration"]
    strongest = max(doc["phones"], key=lambda p: p["rssi"])
    assert c["kind"] == strongest["kind"] and c["samples"] == strongest["adverts"]
    assert c["min"] <= c["p10"] <= c["median"] <= c["p90"] <= c["max"]
    assert c["near_rssi"] == max(-100, min(-30, math.floor(c["p10"])))


def test_calibrate_without_a_phone_says_what_to_do(tmp_path, monkeypatch):
    monkeypatch.setenv("BZGATE_KEYS", str(tmp_path / "keys.json"))
    with phones_air(tmp_path, []) as air:
        code, _, err = invoke(["ble", "scan", "--seconds", "1", "--calibrate"], air)
    assert code == 1 and "hold one 0.3 m from the adapter" in err


def test_no_air_and_no_adapter_is_one_clear_line(tmp_path, monkeypatch):
    monkeypatch.delenv("BZSIM_AIR", raising=False)
    code, _, err = invoke(["ble", "scan", "--seconds", "1", "--air", "127.0.0.1:9"])
    assert code == 1 and err.startswith("bzgate: cannot scan with the simulated air")
