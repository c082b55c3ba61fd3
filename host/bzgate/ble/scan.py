"""`bzgate ble scan`'s survey: which gates and Bluezone phones are on the air, and calibration.

Every advert heard is sorted once: a gate's status beacon (bzcore.beacon, company 0xFFFF),
a Bluezone phone (bzcore.adv rules A-F, keyed by its ID when the advert carries one, else by
its address), or anything else (counted). A beacon names its gate by a 4-byte hash of the gate
id, matched against the gate ids the key store and the inventory know.
"""

import math
import statistics

from bleak.backends.device import BLEDevice
from bleak.backends.scanner import AdvertisementData

from bzcore import adv, beacon, beaconread
from bzcore.config import _RANGES as CONFIG_RANGES  # the config's own bounds for near_rssi
from bzgate.ble.advert import advert_bytes

CALIBRATION_MIN_SAMPLES = 5
NEAR_PERCENTILE = 10  # near_rssi: the phone at the distance reads at or above it 90 % of the time


class Survey:
    """Adverts sorted as they come (on_advert is the scanner's callback)."""

    def __init__(self, gate_ids=()):
        self.names = {beacon.gate_hash(g): g for g in gate_ids}
        self.gates: dict[str, dict] = {}
        self.phones: dict[str, dict] = {}
        self.other = 0

    def on_advert(self, device: BLEDevice, data: AdvertisementData) -> None:
        packet, scan_rsp = advert_bytes(data)
        status = beaconread.decode_status(packet)
        if status is not None:
            self._gate(device.address, status, data.rssi)
            return
        found = adv.classify(packet, scan_rsp)
        if found.kind == adv.KIND_NONE:
            self.other += 1
            return
        ident = found.id.hex().upper() if isinstance(found.id, bytes) else found.id
        phone = self.phones.setdefault(ident or device.address, {
            "kind": found.kind, "platform": found.platform, "id": ident,
            "address": device.address, "samples": []})
        phone["address"] = device.address
        phone["samples"].append(data.rssi)

    def _gate(self, address: str, status: dict, rssi: int) -> None:
        gate_hash = status.get("gate_hash")
        entry = {"gate_id": self.names.get(gate_hash) if gate_hash else None,
                 "gate_hash": gate_hash.hex() if gate_hash else None, "address": address,
                 "rssi": rssi, **{k: v for k, v in status.items() if k != "gate_hash"}}
        self.gates[address] = entry

    def result(self) -> dict:
        phones = []
        for phone in self.phones.values():
            samples = phone["samples"]
            phones.append({k: v for k, v in phone.items() if k != "samples"}
                          | {"rssi": round(statistics.median(samples)), "adverts": len(samples)})
        phones.sort(key=lambda p: -p["rssi"])
        gates = sorted(self.gates.values(), key=lambda g: -g["rssi"])
        return {"gates": gates, "phones": phones, "other_adverts": self.other}


def calibration(survey: Survey, distance_m: float) -> dict | None:
    """The near_rssi for phones held `distance_m` from the gate, from the phone with the
    strongest median signal (None without a phone heard CALIBRATION_MIN_SAMPLES times).

    The rule: near_rssi is the 10th percentile of that phone's readings, rounded down. A phone
    held at the distance reads at or above it 9 times in 10; the gate averages readings, so it
    hears that phone at the scanner within its 1.5 s window (gate/presence.py: near now)."""
    candidates = [p for p in survey.phones.values() if len(p["samples"]) >= CALIBRATION_MIN_SAMPLES]
    if not candidates:
        return None
    phone = max(candidates, key=lambda p: statistics.median(p["samples"]))
    samples = sorted(phone["samples"])
    deciles = statistics.quantiles(samples, n=10, method="inclusive")
    low, high = CONFIG_RANGES["near_rssi"][:2]
    near = max(low, min(high, math.floor(deciles[NEAR_PERCENTILE // 10 - 1])))
    return {"distance_m": distance_m, "phone": phone["id"] or phone["address"],
            "kind": phone["kind"], "samples": len(samples), "min": samples[0],
            "p10": deciles[0], "p25": statistics.quantiles(samples, n=4, method="inclusive")[0],
            "median": statistics.median(samples), "p90": deciles[8], "max": samples[-1],
            "near_rssi": near}
