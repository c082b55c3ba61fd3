"""The host's GateLink against a scripted peer on a real pty: it skips what is not its reply,
retries what was garbled or lost, gives up with a clear error, splits long config changes into
lines the gate takes, and never sends Ctrl-C. (The real gate end: tests/firmware/test_hostlink*.)"""

import json

import pytest
from linkkit import ok

from bzcore import wire, wirehost
from bzgate.link.serial import GateLink, LinkError


def test_lines_that_are_not_the_reply_are_skipped(scripted):
    def answer(req_id, command, args, error):
        return (b"DECISION allow (a console print)\r\n" + b"\x00\xff garbage\n"
                + ok(req_id + 1, {"other": 1}) + wirehost.reply(req_id, wire.EV, {"late": 1})
                + ok(req_id, {"gate_id": "g1"}))
    gate = scripted(answer)
    with GateLink(gate.path, timeout=2) as link:
        assert link.hello() == {"gate_id": "g1"}
        assert link.skipped == 4
    assert b"\x03" not in gate.received


def test_a_garbled_or_lost_reply_is_retried_with_a_fresh_id(scripted):
    seen = []

    def answer(req_id, command, args, error):
        seen.append(req_id)
        if len(seen) == 1:
            return wire.error_reply(req_id, wire.ERR_CRC, "resend")  # the gate got it damaged
        if len(seen) == 2:
            line = bytearray(ok(req_id, {"n": 2}))
            line[3] ^= 1  # damaged on the way back: the CRC catches it, the host times out
            return bytes(line)
        if len(seen) == 3:
            return b""  # lost
        return ok(req_id, {"n": len(seen)})
    gate = scripted(answer)
    with GateLink(gate.path, timeout=1.5, retries=3) as link:  # a reply is late, not lost, under load
        assert link.status() == {"n": 4}
    assert len(set(seen)) == 4


def test_no_reply_at_all_is_a_clear_error(scripted):
    gate = scripted(lambda *_: b"")
    with GateLink(gate.path, timeout=0.2, retries=2) as link:
        with pytest.raises(LinkError) as silent:
            link.hello()
    assert silent.value.code == "no-reply" and "is the gate running" in str(silent.value)
    assert len(gate.requests) == 3


def test_a_refusal_is_not_retried_and_carries_the_field_errors(scripted):
    def answer(req_id, command, args, error):
        return wirehost.reply(req_id, wire.ERR, {"error": wire.ERR_REFUSED, "message": "config unchanged",
                                            "errors": ["mode: one of enforce | monitor | count"]})
    gate = scripted(answer)
    with GateLink(gate.path, timeout=1) as link:
        with pytest.raises(LinkError) as refused:
            link.config_set({"mode": "party"})
    assert refused.value.code == wire.ERR_REFUSED
    assert refused.value.data["errors"] == ["mode: one of enforce | monitor | count"]
    assert len(gate.requests) == 1


def test_a_long_config_change_goes_in_lines_the_gate_takes(scripted):
    def answer(req_id, command, args, error):
        return ok(req_id, {"got": command})
    gate = scripted(answer)
    pins = {role: {"pin": pin, "active": "low"} for role, pin in
            (("relay", 4), ("green", 16), ("red", 17), ("buzzer", 18), ("button", 13), ("beam", 14))}
    change = {"site": "Tòa nhà Bluezone, tầng 12, cửa chính phía đông", "board": pins, "present_s": 9}
    with GateLink(gate.path, timeout=1) as link:
        link.config_set(change)
    commands = [c for c, _, _ in gate.requests]
    assert commands[-1] == "CONFIG SET" and set(commands[:-1]) == {"CONFIG STAGE"}
    assert all(size <= wire.REQUEST_MAX for _, _, size in gate.requests)
    staged = {}
    for _, args, _ in gate.requests:
        for name, value in json.loads(args).items():
            top, _, part = name.partition(".")
            if part:
                staged.setdefault(top, {})[part] = value
            else:
                staged[name] = value
    assert staged == change


def test_requests_with_control_characters_are_never_sent(scripted):
    gate = scripted(lambda req_id, *_: ok(req_id, {}))
    with GateLink(gate.path, timeout=1) as link:
        with pytest.raises(ValueError):
            link.request("TIME SET", "1\x03")
    assert gate.received == b""


def test_exempt_names_its_reason_and_a_refusal_is_a_link_error(scripted):
    def answer(req_id, command, args, error):
        reason = args.split(" ")[0]
        if reason == "no-smartphone":
            return ok(req_id, {"verdict": "exempt", "reason": reason, "n": 3, "seq": 41, "board_id": "0a"})
        return wire.error_reply(req_id, wire.ERR_BAD_REASON, "EXEMPT: a reason of no-smartphone")
    gate = scripted(answer)
    with GateLink(gate.path, timeout=1) as link:
        assert link.exempt("no-smartphone")["seq"] == 41
        with pytest.raises(LinkError) as bad:
            link.exempt("because")
    assert bad.value.code == "bad-reason"
    assert [(command, args.split(" ")[0]) for command, args, _ in gate.requests] == \
        [("EXEMPT", "no-smartphone"), ("EXEMPT", "because")]


def test_an_exempt_resent_after_a_lost_reply_carries_the_same_token(scripted):
    sent = []

    def answer(req_id, command, args, error):
        if command != "EXEMPT":
            return b""  # a line the link sends to clear the gate's input, say
        sent.append(args)
        if len(sent) == 1:
            return b""  # the door opened, the reply was lost
        return ok(req_id, {"verdict": "exempt", "reason": "no-smartphone", "seq": 7, "repeat": True})
    gate = scripted(answer)
    with GateLink(gate.path, timeout=1, retries=2) as link:
        assert link.exempt("no-smartphone")["repeat"] is True
        link.exempt("no-smartphone")
    assert len(sent) == 3 and sent[0] == sent[1] != sent[2]
    assert all(args.startswith("no-smartphone ") for args in sent)


def test_an_event_the_gate_queued_as_a_stream_ended_comes_in_the_next_stream(scripted):
    """The gate keeps a subscriber's events between streams and drops them on HELLO (a new host
    session): an alarm queued just before the request that ends a stream must not be lost."""
    queue, streams = [], []

    def answer(req_id, command, args, error):
        if command == "EVENTS":
            streams.append(req_id)
            sent = b"".join(wirehost.reply(req_id, wire.EV, e) for e in queue)
            queue.clear()
            return ok(req_id, None) + sent
        if command == "HELLO":
            queue.clear()
        elif len(streams) == 1:
            queue.append({"alarm": "scan-restart", "beat": 2})  # came in as this stream ended
        return ok(req_id, {})
    gate = scripted(answer)
    queue.append({"alarm": "scan-restart", "beat": 1})
    with GateLink(gate.path, timeout=1) as link:
        first = [e["beat"] for e in link.events(seconds=0.3)]
        second = [e["beat"] for e in link.events(seconds=0.3)]
    assert first + second == [1, 2]
