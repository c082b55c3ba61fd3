"""`bzgate provision verify`: a running gate's self-test over its host link, while it keeps
running (mpremote would stop it). Each check gives pass/fail and what was seen:

    clock     the gate's clock is valid (set since its last power-on) and near the host's
    config    config.json loaded without errors (no config-error alarm), gate id as inventoried
    key       KEY PROVE: the gate's HMAC of a random nonce matches the host store's key
              (the key never crosses the wire)
    storage   the journal is readable, not full, and has free space
    ble       the scan hears adverts (STATUS "adverts" grows) within BLE_WAIT_S
    outputs   OUTPUTS TEST: relay, green, red and buzzer each follow on and off
    uplink    with Wi-Fi and MQTT configured: the uplink runs (a board without PSRAM has too
              little heap for it, alarm uplink-no-heap), reaches the broker and an ingester
              acks its journal within UPLINK_WAIT_S; without them, a pass that says so
"""

import hmac
import os
import time
from dataclasses import dataclass

from bzcore import wire
from bzcore.config import OUTPUT_ROLES as ROLES
from bzgate.keys import KeyStore
from bzgate.link.serial import GateLink, LinkError
from bzprov.inventory import Inventory

BLE_WAIT_S = 10
CLOCK_SLACK_S = 120  # the gate's clock may be this far from the host's (records carry UTC)
STORAGE_MIN_BYTES = 64 * 1024  # about 1300 records: a few days of a busy entrance
UPLINK_WAIT_S = 30  # a station's join, the MQTT connection and the first batch's ack
# The station's status codes (network.WLAN.status() on the ESP32 port) that say what to fix.
WIFI_FAILURES = {201: "no access point of that SSID heard", 202: "the Wi-Fi password was refused",
                 203: "the access point refused the association", 204: "the Wi-Fi handshake timed out",
                 200: "the access point's beacons stopped"}


@dataclass
class Check:
    name: str
    passed: bool
    detail: str


def key_proof(key: bytes, nonce: bytes) -> str:
    """What a gate holding `key` answers to KEY PROVE (firmware/gate/secret.py prove)."""
    return hmac.new(key, wire.KEY_PROOF_TAG + nonce, "sha256").hexdigest()


def _clock(status: dict, **_) -> Check:
    board_time = status.get("time", 0)
    shown = time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(board_time))
    if not status.get("clock_valid"):
        return Check("clock", False, f"not set since power-on ({shown}): run configure (or gate time-set)")
    off = board_time - time.time()
    if abs(off) > CLOCK_SLACK_S:
        return Check("clock", False, f"{shown}, {off:+.0f} s from this computer's clock: run gate time-set")
    return Check("clock", True, shown)


def _config(status: dict, hello: dict, inventory: Inventory, **_) -> Check:
    if "config-error" in status.get("alarms", []):
        return Check("config", False, "config.json has bad fields (the gate blinks red slowly)")
    expected = inventory.boards().get(hello["board_id"], {}).get("gate_id")
    if expected is None:
        return Check("config", False, f"board {hello['board_id']} is not in the inventory: run configure")
    if expected != hello["gate_id"]:
        return Check("config", False, f"the gate runs as {hello['gate_id']}, inventoried as {expected}")
    return Check("config", True, f"gate id {hello['gate_id']}")


def _key(link: GateLink, hello: dict, store: KeyStore, **_) -> Check:
    key = store.get(hello["board_id"])
    if key is None:
        return Check("key", False, f"the host store has no key for board {hello['board_id']}")
    nonce = os.urandom(wire.KEY_NONCE_BYTES)
    if not hmac.compare_digest(link.key_prove(nonce), key_proof(key, nonce)):
        return Check("key", False, "the board's key differs from the host store's: its records will not verify")
    return Check("key", True, "the board holds the host store's key")


def _storage(status: dict, **_) -> Check:
    storage = status.get("storage", {})
    free = storage.get("free_bytes", -1)
    if storage.get("alarms"):
        return Check("storage", False, ", ".join(storage["alarms"]))
    if free < STORAGE_MIN_BYTES:
        return Check("storage", False, f"{free} bytes free, under {STORAGE_MIN_BYTES}")
    return Check("storage", True, f"{free // 1024} KiB free, {storage.get('records', 0)} records")


def _ble(link: GateLink, status: dict, **_) -> Check:
    first = status.get("adverts", 0)
    deadline = time.monotonic() + BLE_WAIT_S
    while time.monotonic() < deadline:
        time.sleep(1)
        heard = link.status().get("adverts", 0) - first
        if heard > 0:
            return Check("ble", True, f"{heard} adverts heard")
    return Check("ble", False, f"no advert heard in {BLE_WAIT_S} s: is the antenna free, is BLE on?")


def _outputs(link: GateLink, **_) -> Check:
    outputs = link.outputs_test()
    failed = sorted(role for role, ok in outputs.items() if not ok)
    if not outputs:
        return Check("outputs", False, "the board profile has no outputs")
    if failed:
        return Check("outputs", False, f"{', '.join(failed)} did not follow (wiring?)")
    return Check("outputs", True, ", ".join(sorted(outputs, key=ROLES.index)) + " cycled (the door opened briefly)")


NO_HEAP_FOR_UPLINK = ("Wi-Fi and MQTT are configured, but this board has too little heap to run the "
                      "uplink (a board without PSRAM, such as a WROOM-32): its records stay on it until "
                      "`bzgate collect`. Use a WROVER, or configure it without wifi and mqtt")


def _uplink(link: GateLink, status: dict, **_) -> Check:
    if "uplink-no-heap" in status.get("alarms", []):
        return Check("uplink", False, NO_HEAP_FOR_UPLINK)
    deadline = time.monotonic() + UPLINK_WAIT_S
    failure = None  # the last Wi-Fi failure seen: between tries the station says "connecting"
    while (uplink := status.get("uplink")) is not None:
        if uplink.get("up") and uplink.get("acked", -2) >= 0:  # -1: the host holds none yet, -2: unknown
            return Check("uplink", True, f"the broker reached over Wi-Fi (RSSI {uplink['rssi']} dBm), "
                         f"the journal acked up to seq {uplink['acked']}")
        failure = WIFI_FAILURES.get(uplink.get("wifi"), failure)
        if time.monotonic() >= deadline:
            return Check("uplink", False, _uplink_stuck(uplink, failure))
        time.sleep(1)
        status = link.status()
    return Check("uplink", True, "not configured: the journal is collected over USB (bzgate collect)")


def _uplink_stuck(uplink: dict, wifi_failure: str | None) -> str:
    if uplink.get("up"):
        return (f"connected to the broker, but no ingester acked the journal in {UPLINK_WAIT_S} s: "
                "is `bzgate ingest` running with this gate's topic prefix?")
    why = wifi_failure or uplink.get("last_warning") or "no answer"
    return f"not connected to the broker in {UPLINK_WAIT_S} s ({uplink.get('wifi_tries')} Wi-Fi tries): {why}"


CHECKS = (_clock, _config, _key, _storage, _ble, _outputs, _uplink)


def verify(port: str, store: KeyStore, inventory: Inventory) -> list[Check]:
    """Every check, in order; a gate that does not answer fails them all at once (LinkError)."""
    with GateLink(port, timeout=5.0) as link:
        hello = link.hello()
        status = link.status()
        context = dict(link=link, hello=hello, status=status, store=store, inventory=inventory)
        results = []
        for check in CHECKS:
            try:
                results.append(check(**context))
            except LinkError as e:
                results.append(Check(check.__name__.strip("_"), False, f"the gate refused: {e}"))
        return results
