"""Scenario files for the simulated air: load, validate, and fill in defaults.

A scenario is JSON; times are seconds from the scenario start:

    {"start": "2020-09-18T08:00:00Z", "seed": 1,
     "gates": [{"name": "front", "x": 0, "y": 0,
                "wifi": {"ssid": "Office", "password": "secret123", "outages": [[60, 120]]}}],
     "phones": [{"name": "an", "platform": "android", "daily_key": "<hex64>", "max": 96,
                 "gate": "front", "arrive_s": 10, "dwell_s": 5, "path": "enter", "press": true,
                 "app": "background", "retry": true}],
     "crowd": {"per_minute": 6, "shares": {"android": 0.4, "android-open": 0.1, "ios": 0.3,
               "ios-background": 0.1, "other": 0.1}, "press_share": 0.8, "retry_share": 0.5,
               "gate": "front"},
     "noise": {"other_adverts_per_s": 2, "malformed_per_s": 0.5, "random_bluezone_ids_per_s": 0.2,
               "random_bluezone_ids_window": [120, 180]},
     "faults": {"gatt_fail_share": 0.1, "gatt_timeout_share": 0.1}}

Required: start, seed, gates (at least one). A phone needs name and platform, plus daily_key for
rolling-ID platforms (the key of start's UTC day) and v1_code for v1 ones. Every error names the
field it is about, e.g. "phones[1].platform: must be one of ...".

Visitors (bzsim.air.visitors, bzsim.air.paths): "enter" walks to the gate, "linger" stays about
3 m from it, "pass-by" walks past 2-4 m away. A phone with path "enter" and "press": true (and
every crowd visitor) queues at its gate, is served in arrival order and reacts to the gate: the
door opening (its relay on) lets it in; a DENY (red LED on, relay off) with "retry": true makes
it open the app and press again, once; otherwise, or after a second DENY, it turns away; no
answer for a while after a press and it gives up. Such a visitor's arrive_s is when it would
reach the scanner with nobody in front; its dwell_s only counts when it does not press (it
stands at the scanner that long, then walks in). A phone with path "enter" and no press stands
at the scanner for dwell_s and walks in, outside the queue, whatever the gate does.

"app" (default "background") is the Bluezone app's state on an Android phone (platforms android
and android-v1): "open" is the foreground mode, advertising 60 s on / 5 s off (v1: all the
time), "background" the scheduler's 15 s on / 15 s off. iPhones give their app state by platform
(ios: open, ios-background: background), so "app": "open" is an error for any other platform.
"retry" (default false) needs "press" and a Bluezone platform. In the crowd, shares' key
"android-open" is Android phones with the app open ("android" those in the background), and
"retry_share" (0 to 1, default 0) is the share of app users who retry after a DENY.

A gate's "wifi" is the access point in range of the board standing there (none without it):
"password" is "" (the default) for an open network, else 8 to 63 characters as WPA2 wants;
"outages" are [from_s, to_s] windows when it is gone, sorted and apart. A board attached to
the air with that gate's name gets it (bzsim.air.wifi).

Noise is adverts that are nobody's visit, at rates per second. "random_bluezone_ids_window"
(optional, [from_s, to_s]) confines the random Bluezone IDs to that window: a flood of new IDs
for a while, as a crowd passing in the street gives.
"""

import json
import re
from dataclasses import dataclass, field
from datetime import datetime, timezone

from bzcore.advwalk import is_v1_code
from bzcore.ids import slot_seconds

PLATFORMS = ("android", "ios", "ios-background", "android-v1", "ios-v1", "other")
ROLLING_PLATFORMS = ("android", "ios", "ios-background")
V1_PLATFORMS = ("android-v1", "ios-v1")
PATHS = ("enter", "pass-by", "linger")
CROWD_PLATFORMS = ("android", "ios", "ios-background", "other")
# The crowd's share keys: the platforms, and Android phones with the app open.
CROWD_SHARES = ("android", "android-open", "ios", "ios-background", "other")
APP_STATES = ("background", "open")
APP_PLATFORMS = ("android", "android-v1")  # the platforms an "app" state can be set for


class ScenarioError(ValueError):
    """A scenario that cannot be used; the message names the field."""


@dataclass(frozen=True)
class Wifi:
    ssid: str
    password: str = ""
    outages: tuple = ()  # ((from_s, to_s), ...), sorted, apart


@dataclass(frozen=True)
class Gate:
    name: str
    x: float
    y: float
    wifi: Wifi | None = None


@dataclass(frozen=True)
class Phone:
    name: str
    platform: str
    gate: str
    daily_key: bytes | None = None
    max: int = 96
    v1_code: str | None = None
    arrive_s: float = 0.0
    dwell_s: float = 5.0
    path: str = "enter"
    press: bool = False
    app: str = "background"
    retry: bool = False


@dataclass(frozen=True)
class Crowd:
    per_minute: float
    shares: dict
    press_share: float
    gate: str
    retry_share: float = 0.0


@dataclass(frozen=True)
class Noise:
    other_adverts_per_s: float = 0.0
    malformed_per_s: float = 0.0
    random_bluezone_ids_per_s: float = 0.0
    random_bluezone_ids_window: tuple | None = None  # (from_s, to_s); None: all the time


NOISE_RATES = ("other_adverts_per_s", "malformed_per_s", "random_bluezone_ids_per_s")


@dataclass(frozen=True)
class Faults:
    gatt_fail_share: float = 0.0
    gatt_timeout_share: float = 0.0


@dataclass(frozen=True)
class Scenario:
    start: int  # Unix seconds, UTC
    seed: int
    gates: tuple
    phones: tuple = ()
    crowd: Crowd | None = None
    noise: Noise = field(default_factory=Noise)
    faults: Faults = field(default_factory=Faults)

    def gate(self, name):
        for gate in self.gates:
            if gate.name == name:
                return gate
        return None


def load(path) -> Scenario:
    """Read and validate a scenario file; ScenarioError says what is wrong and where."""
    try:
        with open(path, encoding="utf-8") as f:
            data = json.load(f)
    except OSError as e:
        raise ScenarioError(f"{path}: cannot read: {e.strerror or e}") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise ScenarioError(f"{path}: not valid JSON: {e}") from None
    return parse(data)


def parse(data) -> Scenario:
    obj = _Obj(data, "scenario", ("start", "seed", "gates", "phones", "crowd", "noise", "faults"))
    start = _parse_start(obj.get("start", str, required=True), "start")
    seed = obj.get("seed", int, required=True)
    gates = tuple(_parse_gate(g, f"gates[{i}]") for i, g in enumerate(
        obj.get("gates", list, required=True)))
    if not gates:
        raise ScenarioError("gates: at least one gate is needed")
    names = [g.name for g in gates]
    for i, name in enumerate(names):
        if name in names[:i]:
            raise ScenarioError(f"gates[{i}].name: {name!r} is used twice")
    phones = tuple(_parse_phone(p, f"phones[{i}]", names) for i, p in enumerate(
        obj.get("phones", list, default=[])))
    crowd_data = obj.get("crowd", dict, default=None)
    crowd = _parse_crowd(crowd_data, names) if crowd_data is not None else None
    noise = _parse_noise(obj.get("noise", dict, default={}))
    faults = Faults(**_shares(obj.get("faults", dict, default={}), "faults", Faults))
    if faults.gatt_fail_share + faults.gatt_timeout_share > 1:
        raise ScenarioError("faults: gatt_fail_share + gatt_timeout_share must not exceed 1")
    return Scenario(start, seed, gates, phones, crowd, noise, faults)


class _Obj:
    """A JSON object being validated: typed field access with errors naming the field."""

    def __init__(self, data, where, known):
        if not isinstance(data, dict):
            raise ScenarioError(f"{where}: must be an object")
        for key in data:
            if key not in known:
                raise ScenarioError(f"{where}.{key}: unknown field (known: {', '.join(known)})")
        self.data = data
        self.where = where

    def get(self, key, kind, required=False, default=None):
        name = f"{self.where}.{key}" if self.where != "scenario" else key
        if key not in self.data:
            if required:
                raise ScenarioError(f"{name}: required")
            return default
        value = self.data[key]
        if kind is float:
            ok = isinstance(value, (int, float)) and not isinstance(value, bool)
        elif kind is int:
            ok = isinstance(value, int) and not isinstance(value, bool)
        else:
            ok = isinstance(value, kind)
        if not ok:
            raise ScenarioError(f"{name}: must be {_KIND_NAMES[kind]}, not {value!r}")
        return value

    def non_negative(self, key, default):
        value = self.get(key, float, required=default is None, default=default)
        if value < 0:
            raise ScenarioError(f"{self.where}.{key}: must not be negative")
        return float(value)

    def choice(self, key, choices, default=None):
        value = self.get(key, str, required=default is None, default=default)
        if value not in choices:
            raise ScenarioError(f"{self.where}.{key}: must be one of {', '.join(choices)}, "
                                f"not {value!r}")
        return value


_KIND_NAMES = {str: "a string", int: "an integer", float: "a number", list: "a list",
               dict: "an object", bool: "true or false"}


def _parse_start(text, where):
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise ScenarioError(f"{where}: not an ISO 8601 time: {text!r}") from None
    if moment.tzinfo is None:
        raise ScenarioError(f"{where}: give the UTC offset, e.g. {text}Z")
    return int(moment.astimezone(timezone.utc).timestamp())


def _parse_gate(data, where):
    obj = _Obj(data, where, ("name", "x", "y", "wifi"))
    wifi = obj.get("wifi", dict)
    return Gate(obj.get("name", str, required=True), float(obj.get("x", float, required=True)),
                float(obj.get("y", float, required=True)),
                _parse_wifi(wifi, f"{where}.wifi") if wifi is not None else None)


def _parse_wifi(data, where):
    obj = _Obj(data, where, ("ssid", "password", "outages"))
    ssid = obj.get("ssid", str, required=True)
    if not 1 <= len(ssid.encode()) <= 32:
        raise ScenarioError(f"{where}.ssid: must be 1 to 32 bytes")
    password = obj.get("password", str, default="")
    if password and not 8 <= len(password) <= 63:
        raise ScenarioError(f'{where}.password: must be 8 to 63 characters ("" for an open network)')
    outages = []
    for i, window in enumerate(obj.get("outages", list, default=[])):
        name = f"{where}.outages[{i}]"
        start, end = _window(window, name)
        if outages and start <= outages[-1][1]:
            raise ScenarioError(f"{name}: must start after the previous outage ends")
        outages.append((start, end))
    return Wifi(ssid, password, tuple(outages))


def _window(window, name):
    """A [from_s, to_s] window of the scenario's time, as (from_s, to_s) floats."""
    if (not isinstance(window, list) or len(window) != 2
            or not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in window)):
        raise ScenarioError(f"{name}: must be [from_s, to_s], not {window!r}")
    start, end = float(window[0]), float(window[1])
    if start < 0:
        raise ScenarioError(f"{name}: must not start before the scenario")
    if end <= start:
        raise ScenarioError(f"{name}: must end after it starts")
    return start, end


def _parse_noise(data):
    obj = _Obj(data, "noise", tuple(Noise.__dataclass_fields__))
    rates = {key: obj.non_negative(key, 0.0) for key in NOISE_RATES}
    window = obj.get("random_bluezone_ids_window", list, default=None)
    return Noise(**rates, random_bluezone_ids_window=None if window is None
                 else _window(window, "noise.random_bluezone_ids_window"))


def _parse_phone(data, where, gate_names):
    obj = _Obj(data, where, ("name", "platform", "daily_key", "max", "v1_code", "gate",
                             "arrive_s", "dwell_s", "path", "press", "app", "retry"))
    platform = obj.choice("platform", PLATFORMS)
    key = obj.get("daily_key", str)
    if platform in ROLLING_PLATFORMS and key is None:
        raise ScenarioError(f"{where}.daily_key: required for platform {platform}")
    if key is not None and not re.fullmatch(r"[0-9A-Fa-f]{64}", key):
        raise ScenarioError(f"{where}.daily_key: must be 64 hex digits (32 bytes)")
    max_ids = obj.get("max", int, default=96)
    try:
        slot_seconds(max_ids)
    except ValueError as e:
        raise ScenarioError(f"{where}.max: {e}") from None
    code = obj.get("v1_code", str)
    if platform in V1_PLATFORMS and code is None:
        raise ScenarioError(f"{where}.v1_code: required for platform {platform}")
    if code is not None and not is_v1_code(code):
        raise ScenarioError(f"{where}.v1_code: must be 6 characters of 0-9, A-Z, a-z")
    path = obj.choice("path", PATHS, default="enter")
    press = obj.get("press", bool, default=False)
    if press and path == "pass-by":
        raise ScenarioError(f"{where}.press: a pass-by never reaches the gate's button")
    app = obj.choice("app", APP_STATES, default="background")
    if app != "background" and platform not in APP_PLATFORMS:
        raise ScenarioError(f"{where}.app: only for platforms {', '.join(APP_PLATFORMS)} "
                            f"(an iPhone's app state is its platform: ios or ios-background)")
    retry = obj.get("retry", bool, default=False)
    if retry and not press:
        raise ScenarioError(f"{where}.retry: only a visitor who presses can press again")
    if retry and platform == "other":
        raise ScenarioError(f"{where}.retry: a phone without Bluezone has no app to open")
    return Phone(obj.get("name", str, required=True), platform,
                 _gate_name(obj, gate_names), bytes.fromhex(key) if key else None, max_ids,
                 code, obj.non_negative("arrive_s", 0.0), obj.non_negative("dwell_s", 5.0),
                 path, press, app, retry)


def _gate_name(obj, gate_names):
    name = obj.get("gate", str, default=gate_names[0])
    if name not in gate_names:
        raise ScenarioError(f"{obj.where}.gate: no gate named {name!r} "
                            f"(gates: {', '.join(gate_names)})")
    return name


def _parse_crowd(data, gate_names):
    obj = _Obj(data, "crowd", ("per_minute", "shares", "press_share", "retry_share", "gate"))
    shares_obj = _Obj(obj.get("shares", dict, required=True), "crowd.shares", CROWD_SHARES)
    shares = {p: shares_obj.non_negative(p, 0.0) for p in CROWD_SHARES}
    if sum(shares.values()) <= 0:
        raise ScenarioError("crowd.shares: at least one share must be positive")
    press_share = obj.non_negative("press_share", 0.0)
    if press_share > 1:
        raise ScenarioError("crowd.press_share: must be between 0 and 1")
    retry_share = obj.non_negative("retry_share", 0.0)
    if retry_share > 1:
        raise ScenarioError("crowd.retry_share: must be between 0 and 1")
    return Crowd(obj.non_negative("per_minute", None), shares, press_share,
                 _gate_name(obj, gate_names), retry_share)


def _shares(data, where, cls):
    obj = _Obj(data, where, tuple(cls.__dataclass_fields__))
    values = {key: obj.non_negative(key, 0.0) for key in cls.__dataclass_fields__}
    for key, value in values.items():
        if value > 1:
            raise ScenarioError(f"{where}.{key}: must be between 0 and 1")
    return values
