"""The uplink's fields of the gate's configuration (bzcore.config loads this module only for a
configuration that has them):

    wifi    null | {"ssid": 1-32 characters, "password": "" (an open network) or 8-63 characters}
    mqtt    null | {"host": 1-64 characters, "port": 1883, "tls": false, "username": null,
                    "password": null, "topic_prefix": "bzgate" (bzcore.uplink)}

The uplink runs when both are set (STA mode only: docs/esp32-notes.md, note 11). A bad part
turns the whole field off (null, with an error naming the part): never half a connection, never
TLS quietly dropped. Secrets (SECRETS) leave the board only as _SECRET_SHOWN (shown()); a new
configuration that carries _SECRET_SHOWN keeps the secret it replaces (keep_secrets()), so a
configuration read back and written again loses nothing. Error texts never hold a secret's
value.
"""

from bzcore.checks import check_flag, is_int, value_text
from bzcore.ids import const

SECRETS = (("wifi", "password"), ("mqtt", "password"))
_SECRET_SHOWN = const("***")


def _text_error(where, value, low, high, secret=False):
    if type(value) is str and low <= len(value) <= high:
        return None
    shown = "not shown" if secret else value_text(value)
    return "%s: text of %d to %d characters (got %s)" % (where, low, high, shown)


def _wifi_password(where, value):
    if value == "":
        return None  # an open network
    return _text_error(where, value, 8, 63, secret=True)


def _port(where, value):
    if is_int(value) and 1 <= value <= 65535:
        return None
    return "%s: a whole number from 1 to 65535 (got %s)" % (where, value_text(value))


def _tls(where, value):
    if value is True:
        return "%s: TLS is not supported by the gate's MQTT client (gate.mqtt)" % where
    return check_flag(where, value)


def _optional_text(where, value, secret=False):
    return None if value is None else _text_error(where, value, 1, 64, secret)


def _topic_prefix(where, value):
    # bzcore.uplink.topic's rule for a prefix (not imported: this module must stay small to
    # load; tests/firmware/test_gate_uplink_config.py holds the two to the same answers)
    error = _text_error(where, value, 1, 64)
    if error is None and ("+" in value or "#" in value or value[0] == "/" or value[-1] == "/"):
        error = "%s: topic levels without + or #, no leading or trailing / (got %s)" % (where, value_text(value))
    return error


# name -> its parts in order: (part, default, check(where, value) -> error or None); a default
# None means the part is required.
_PARTS = {
    "wifi": (("ssid", None, lambda where, v: _text_error(where, v, 1, 32)),
             ("password", "", _wifi_password)),
    "mqtt": (("host", None, lambda where, v: _text_error(where, v, 1, 64)),
             ("port", 1883, _port),
             ("tls", False, _tls),
             ("username", None, _optional_text),
             ("password", None, lambda where, v: _optional_text(where, v, secret=True)),
             ("topic_prefix", "bzgate", _topic_prefix)),
}


def checked(name, value, errors):
    """wifi or mqtt in full, or None when any part is bad (each named in errors)."""
    parts = _PARTS[name]
    if type(value) is not dict:
        errors.append("%s: an object or null (got %s)" % (name, value_text(value)))
        return None
    bad = len(errors)
    keys = [part[0] for part in parts]
    for key in value:
        if key not in keys:
            errors.append("%s.%s: unknown setting; settings are %s" % (name, key, ", ".join(keys)))
    out = {}
    for key, default, check in parts:
        out[key] = value.get(key, default)
        error = check("%s.%s" % (name, key), out[key])
        if error:
            errors.append(error)
    return out if len(errors) == bad else None


def shown(cfg):
    """A copy of a checked configuration fit to leave the board: each secret set is _SECRET_SHOWN."""
    out = dict(cfg)
    for name, key in SECRETS:
        if type(out.get(name)) is dict and out[name].get(key):
            out[name] = dict(out[name])
            out[name][key] = _SECRET_SHOWN
    return out


def keep_secrets(new, current):
    """new, with each secret given as _SECRET_SHOWN replaced by the one in current."""
    out = dict(new)
    for name, key in SECRETS:
        part = out.get(name)
        if type(part) is dict and part.get(key) == _SECRET_SHOWN and type(current.get(name)) is dict:
            out[name] = dict(part)
            out[name][key] = current[name].get(key)
    return out
