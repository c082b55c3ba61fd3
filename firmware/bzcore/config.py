"""The gate's configuration (`/config.json`): fields, defaults, validation and board profiles.

    cfg, errors = load(text)        # never raises: every bad field falls back to its default
    errors = validate(cfg_dict)     # [] when every field is present and allowed
    pins = board_pins(cfg)          # role -> (gpio, active_low) or None, from a profile or a map

Each error is one line, "field: what is allowed (got ...)", written for the IT staff who
provision gates; the firmware logs each as a CONFIG_ERROR event and blinks red slowly.

Fields (default):
    gate_id         "gate"      1-32 characters of A-Z a-z 0-9 . _ -
    site            ""          up to 64 characters, no control characters (newline, ESC, ...)
    mode            "enforce"   enforce | monitor | count
    trigger         "button"    button | beam | tap | none
    direction       "in"        in | out | both: "out", every button press or beam break is an
                                exit; "both", the trigger is an entry and the exit_button an
                                exit (an exit opens the door, never refused); may be left out
                                of older files: the default, no error
    near_rssi       -60         dBm, -100 to -30: a phone heard this strong is at the scanner
    present_s       8           1 to 120 s a device stays "present" after it was near (counts)
    wait_s          5           0 to 15 s a press with no phone at the scanner keeps checking
                                before DENY (5 s covers an Android app's foreground pause);
                                may be left out of older files: the default, no error
    relay_pulse_ms  3000        100 to 30000 ms the relay opens on ALLOW
    antipassback_s  30          0 to 3600 s before one ID may open the gate again
    ios_read        true        read iPhones' IDs over GATT
    require_id      false       a Bluezone iPhone not yet read counts only when false
    retention_days  21          1 to 365 days acked records are kept
    checkpoint_beacon false     also advertise the gate's own Bluezone ID (bzcore.beacon), so
                                visitors' apps record that they passed; needs a checkpoint key
    scan            {"interval_us": 30000, "window_us": 30000}: 10000 to 1000000 us, equal
                    (the gate scans continuously: docs/esp32-notes.md, note 4)
    board           "esp32-devkitc": a profile name (PROFILES) or a pin map
                    {role: gpio | {"pin": gpio, "active": "high" | "low"} | null} for the roles
                    relay, green, red, buzzer, button, beam, guard (the guard's key switch:
                    EXEMPT no-smartphone), exit_button (exits, with direction "both"); a
                    plain gpio is active high; a role
                    left out or null is a part the board lacks, a bad role is left out; a map
                    without a usable relay gives the default profile.
    wifi, mqtt      null        the Wi-Fi uplink's access point and broker (bzcore.uplinkconfig);
                                both may be left out: the uplink is off
"""

import json

from bzcore.checks import check_flag, is_int, value_text
from bzcore.ids import const

_GATE_ID_MAX = const(32)
_SITE_MAX = const(64)
MODES = ("enforce", "monitor", "count")
_TRIGGERS = const(("button", "beam", "tap", "none"))
_DIRECTIONS = const(("in", "out", "both"))
ROLES = ("relay", "green", "red", "buzzer", "button", "beam", "guard", "exit_button")
OUTPUT_ROLES = ("relay", "green", "red", "buzzer")
# ESP32 GPIOs a design may use (6-11 hold the flash; 34-39 are inputs only).
GPIOS = (0, 1, 2, 3, 4, 5, 12, 13, 14, 15, 16, 17, 18, 19, 21, 22, 23, 25, 26, 27,
         32, 33, 34, 35, 36, 37, 38, 39)
_INPUT_ONLY = const((34, 35, 36, 37, 38, 39))
_GATE_ID_CHARS = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-"

# Board profiles: role -> (gpio, active_low). None: the board has no such part.
PROFILES = {
    # Espressif ESP32-DevKitC: the BOOT button (GPIO0, to ground) is the gate's button; a relay
    # module, two LEDs, a buzzer and an NPN beam sensor (pulls low when broken) on free pins;
    # the guard's key switch on GPIO18 and the exit button on GPIO19, each to ground.
    "esp32-devkitc": {"relay": (26, False), "green": (25, False), "red": (27, False),
                      "buzzer": (32, False), "button": (0, True), "beam": (33, True),
                      "guard": (18, True), "exit_button": (19, True)},
    # The common ESP32 4-relay board (ESP32-WROOM, relays on 32/33/25/26, LED on 23, BOOT on 0):
    # relay 1 drives the door; LEDs and buzzer on the header's free pins; the guard's key
    # switch on GPIO18 and the exit button on GPIO4, each to ground.
    "esp32-relay-x4": {"relay": (32, False), "green": (23, False), "red": (22, False),
                       "buzzer": (21, False), "button": (0, True), "beam": (19, True),
                       "guard": (18, True), "exit_button": (4, True)},
}

DEFAULTS = {
    "gate_id": "gate",
    "site": "",
    "mode": "enforce",
    "trigger": "button",
    "direction": "in",
    "near_rssi": -60,
    "present_s": 8,
    "wait_s": 5,
    "relay_pulse_ms": 3000,
    "antipassback_s": 30,
    "ios_read": True,
    "require_id": False,
    "retention_days": 21,
    "checkpoint_beacon": False,
    "scan": {"interval_us": 30000, "window_us": 30000},
    "board": "esp32-devkitc",
    "wifi": None,
    "mqtt": None,
}
FIELDS = ("gate_id", "site", "mode", "trigger", "direction", "near_rssi", "present_s", "wait_s", "relay_pulse_ms",
          "antipassback_s", "ios_read", "require_id", "retention_days", "checkpoint_beacon", "scan",
          "board", "wifi", "mqtt")
_OPTIONAL = const(("wifi", "mqtt"))  # may be left out: the uplink is off
_ADDED = const(("wait_s", "direction"))  # came after the first boards: a file without one takes its default
_SCAN_MIN_US = const(10000)
_SCAN_MAX_US = const(1000000)

# Integer fields: (lowest, highest, unit).
_RANGES = {
    "near_rssi": (-100, -30, "dBm"),
    "present_s": (1, 120, "s"),
    "wait_s": (0, 15, "s"),
    "relay_pulse_ms": (100, 30000, "ms"),
    "antipassback_s": (0, 3600, "s"),
    "retention_days": (1, 365, "days"),
}
_CHOICES = {"mode": MODES, "trigger": _TRIGGERS, "direction": _DIRECTIONS}
_FLAGS = ("ios_read", "require_id", "checkpoint_beacon")


def has_control(text):
    """Whether text holds a control character (C0, DEL, C1): shown raw it would move a
    terminal's cursor, retitle its window or break a report's line."""
    for c in text:
        code = ord(c)
        if code < 0x20 or 0x7F <= code < 0xA0:
            return True
    return False


def _check_text(name, value, limit):
    if type(value) is not str or len(value) > limit or has_control(value):
        return "%s: text of at most %d characters, no control characters (got %s)" % (
            name, limit, value_text(value))
    return None


def _check_gate_id(value):
    bad = "gate_id: 1 to %d characters of A-Z a-z 0-9 . _ - (got %s)" % (_GATE_ID_MAX, value_text(value))
    if type(value) is not str or not 1 <= len(value) <= _GATE_ID_MAX:
        return bad
    for c in value:
        if c not in _GATE_ID_CHARS:
            return bad
    return None


def _check_range(name, value):
    low, high, unit = _RANGES[name]
    if not is_int(value) or not low <= value <= high:
        return "%s: a whole number from %d to %d %s (got %s)" % (name, low, high, unit, value_text(value))
    return None


def _check_choice(name, value):
    allowed = _CHOICES[name]
    if value not in allowed or type(value) is not str:
        return "%s: one of %s (got %s)" % (name, " | ".join(allowed), value_text(value))
    return None


def _checked_scan(value, errors):
    """The scan settings with bad parts replaced by defaults; one error per bad part."""
    default = DEFAULTS["scan"]
    if type(value) is not dict:
        errors.append('scan: {"interval_us": N, "window_us": N} (got %s)' % value_text(value))
        return dict(default)
    out = {}
    for key in ("interval_us", "window_us"):
        part = value.get(key, default[key])
        if not is_int(part) or not _SCAN_MIN_US <= part <= _SCAN_MAX_US:
            errors.append("scan.%s: a whole number from %d to %d us (got %s)"
                          % (key, _SCAN_MIN_US, _SCAN_MAX_US, value_text(part)))
            part = default[key]
        out[key] = part
    for key in value:
        if key not in default:
            errors.append("scan.%s: unknown setting (ignored)" % key)
    if out["window_us"] != out["interval_us"]:
        errors.append("scan.window_us: must equal scan.interval_us, the gate scans continuously"
                      " (got %d and %d)" % (out["window_us"], out["interval_us"]))
        out["window_us"] = out["interval_us"]
    return out


def _role_pin(role, value):
    """(gpio, active_low), None for no part, or an error text."""
    if value is None:
        return None
    active = "high"
    if type(value) is dict:
        active = value.get("active", "high")
        value = value.get("pin")
    where = "board.%s" % role
    if not is_int(value) or value not in GPIOS:
        return "%s: an ESP32 GPIO (0-5, 12-19, 21-23, 25-27, 32-39) or null (got %s)" % (where, value_text(value))
    if role in OUTPUT_ROLES and value in _INPUT_ONLY:
        return "%s: GPIO %d is input only; outputs need 0-5, 12-19, 21-23, 25-27, 32, 33" % (where, value)
    if active not in ("high", "low") or type(active) is not str:
        return '%s: "active" is "high" or "low" (got %s)' % (where, value_text(active))
    return (value, active == "low")


def _map_pins(value, errors):
    """role -> (gpio, active_low) or None from a pin map; a bad role is left out (None): driving a
    guessed pin on an unknown board is worse than a missing LED."""
    pins = {}
    used = {}
    for role in ROLES:
        pin = _role_pin(role, value.get(role))
        if type(pin) is str:
            errors.append(pin)
            pin = None
        elif pin is not None and pin[0] in used:
            errors.append("board.%s: GPIO %d is already the %s" % (role, pin[0], used[pin[0]]))
            pin = None
        if pin is not None:
            used[pin[0]] = role
        pins[role] = pin
    for key in value:
        if key not in ROLES:
            errors.append("board.%s: unknown role; roles are %s (ignored)" % (key, ", ".join(ROLES)))
    if value.get("relay") is None:
        errors.append("board.relay: the gate needs a relay pin")
    return pins


def _pins_as_map(pins):
    out = {}
    for role in ROLES:
        pin = pins[role]
        out[role] = None if pin is None else {"pin": pin[0], "active": "low" if pin[1] else "high"}
    return out


def _checked_board(value, errors):
    if type(value) is str:
        if value in PROFILES:
            return value
        errors.append("board: a profile (%s) or a pin map (got %s)"
                      % (" | ".join(sorted(PROFILES)), value_text(value)))
        return DEFAULTS["board"]
    if type(value) is not dict:
        errors.append("board: a profile (%s) or a pin map (got %s)"
                      % (" | ".join(sorted(PROFILES)), value_text(value)))
        return DEFAULTS["board"]
    pins = _map_pins(value, errors)
    if pins["relay"] is None:  # no usable relay: the default profile, whose wiring is documented
        return DEFAULTS["board"]
    return _pins_as_map(pins)


def _field_error(name, value):
    if name == "gate_id":
        return _check_gate_id(value)
    if name == "site":
        return _check_text(name, value, _SITE_MAX)
    if name in _RANGES:
        return _check_range(name, value)
    if name in _CHOICES:
        return _check_choice(name, value)
    return check_flag(name, value)


def _checked_uplink(name, value, errors):
    if value is None:
        return None
    from bzcore import uplinkconfig  # here: a gate without an uplink never loads it

    return uplinkconfig.checked(name, value, errors)


def checked(fields):
    """(config, errors): every field of DEFAULTS, each bad or missing one replaced by its default."""
    errors = []
    if type(fields) is not dict:
        return defaults(), ["config: a JSON object of fields (got %s)" % value_text(fields)]
    cfg = {}
    for name in FIELDS:
        if name in _OPTIONAL:
            cfg[name] = _checked_uplink(name, fields.get(name), errors)
        elif name not in fields:
            if name not in _ADDED:
                errors.append("%s: missing (default %s)" % (name, value_text(DEFAULTS[name])))
            cfg[name] = _copy(DEFAULTS[name])
        elif name == "scan":
            cfg[name] = _checked_scan(fields[name], errors)
        elif name == "board":
            cfg[name] = _checked_board(fields[name], errors)
        else:
            error = _field_error(name, fields[name])
            if error:
                errors.append(error)
            cfg[name] = DEFAULTS[name] if error else fields[name]
    for name in fields:
        if name not in DEFAULTS:
            errors.append("%s: unknown field (ignored)" % value_text(name))
    return cfg, errors


def _copy(value):
    return dict(value) if type(value) is dict else value


def defaults():
    out = {}
    for name in FIELDS:
        out[name] = _copy(DEFAULTS[name])
    return out


def load(text):
    """(config, errors) from config.json's text (str or bytes); never raises."""
    try:
        fields = json.loads(text)
    except Exception:  # any parse failure, whatever the interpreter calls it
        return defaults(), ["config.json: not valid JSON; every field has its default"]
    return checked(fields)


def validate(fields):
    """The errors of a complete configuration; [] when it can be used as it is."""
    return checked(fields)[1]


def dumps(cfg):
    return json.dumps(cfg)


def board_pins(cfg):
    """role -> (gpio, active_low) or None, for a checked configuration."""
    board = cfg["board"]
    if type(board) is str:
        return PROFILES[board]
    return _map_pins(board, [])
