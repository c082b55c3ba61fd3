# bzcore.config cases (tests/cases/config.json), the same on MicroPython and CPython; run by
# tests/test_link_cases.py (core_cases.report prints them under MicroPython).
import json

from casekit import expect

from bzcore import config
from bzcore import uplinkconfig  # noqa: F401 - compiled first, while the 96K heap is still in one piece


def _named(errors):
    """The field each error names: the text before its first colon."""
    return [e.split(":")[0] for e in errors]


def _fields(case):
    fields = case["fields"]
    if fields == "DEFAULTS":
        return config.defaults()
    if type(fields) is dict and fields.get("DEFAULTS"):
        out = config.defaults()
        for name in fields:
            if name not in ("DEFAULTS", "WITHOUT"):
                out[name] = fields[name]
        for name in fields.get("WITHOUT", ()):
            del out[name]
        return out
    return fields


def _load_check(case):
    def check():
        if "text" in case:
            cfg, errors = config.load(case["text"])
        else:
            text = json.dumps(_fields(case))
            cfg, errors = config.load(text)
            expect(config.load(text.encode()), (cfg, errors), "bytes and str alike")
        expect(_named(errors), case["errors"], "errors")
        if "not_in_errors" in case and case["not_in_errors"] in " ".join(errors):
            raise AssertionError("a secret echoed in %r" % errors)
        for name in case["want"]:
            expect(cfg[name], case["want"][name], name)
        expect(config.validate(cfg), [], "the loaded config is valid")
        expect(sorted(cfg), sorted(config.FIELDS), "every field")
        if "pins" in case:
            pins = config.board_pins(cfg)
            for role in config.ROLES:
                want = case["pins"][role]
                expect(pins[role], None if want is None else (want[0], want[1]), "pin " + role)
    return check


def _wrong_check(table, kind):
    # Each field alone given a wrong value: errors name only it, it gets its default, no raise.
    def check():
        for name in config.FIELDS:
            fields = config.defaults()
            fields[name] = table[kind][name]
            cfg, errors = config.load(json.dumps(fields))
            if not errors:
                raise AssertionError("%s=%r accepted" % (name, table[kind][name]))
            for field in _named(errors):
                if field.split(".")[0] != name:
                    raise AssertionError("%s=%r: error names %s" % (name, table[kind][name], field))
            expect(cfg[name], config.DEFAULTS[name], name + " falls back to its default")
            expect(config.validate(fields), errors, "validate agrees with load")
    return check


def checks(cases_dir):
    with open(cases_dir + "/config.json") as f:
        table = json.load(f)
    out = [("config: " + c["name"], _load_check(c)) for c in table["cases"]]
    out += [("config: every field a wrong " + kind, _wrong_check(table["wrong"], kind))
            for kind in ("type", "range")]
    return out
