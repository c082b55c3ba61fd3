"""The host link: requests from the host over USB serial (stdin), replies on stdout, while the
gate goes on scanning and deciding. Framing and commands: bzcore.wire.

    await HostLink(app).run(first)   # first: the byte that woke gate.app.serve_host

gate.app.serve_host loads this module when the host first writes and forgets it, with
bzcore.wire, once the link has been quiet for _IDLE_MS (a minute) with no EVENTS stream running: run()
then returns False (True after MAINT or mpremote's break-in). What a session keeps (staged
CONFIG fields, the last EXEMPT's token, the events queue) goes with it.

What it asks of the app object:
    app.config                 the checked configuration (bzcore.config)
    app.apply_config(cfg)      use a new, valid configuration (already written to config.json)
    app.status()               dict: uptime, time, heap, storage, counters, alarms, last_decision, ...
    app.link_sessions          how many times the link has been loaded since boot (STATUS "link")
    app.journal                gate.journal.Journal: read_from, ack, stats, append
    app.presence               gate.presence.Presence: shift_times when TIME SET moves the clock
    app.subscribe_events()     an object with `async get()` -> dict (a live decision or alarm)
                               and `clear()`; it keeps the newest while no stream runs
    app.unsubscribe(q)         that object is no longer read (the link was forgotten)
    app.restart()              reset the board (after this reply went out)
    app.maintenance()          stop every other task cleanly: the REPL follows
    app.key                    the journal's key (KEY PROVE answers with a proof of it, never it)
    app.outputs                gate.outputs.Outputs: `await self_test()` for OUTPUTS TEST
    app.policy                 gate.policy.Policy: `exempt(reason)` for EXEMPT, its mode
    app.safe_mode              True in safe mode (the relay stays off: no EXEMPT)

Commands (args after the command; replies are JSON):
    HELLO                 {"firmware", "gate_id", "mpy", "board_id"}
    STATUS                {...app.status(), "link": {"requests", "errors" (this session's),
                          "sessions"}}
    TIME SET <unix>       {"time", "correction"}; logs a CLOCK_SET event; visits under way
                          are moved onto the new clock
    CONFIG GET            {"config"}, secrets shown as "***" (bzcore.uplinkconfig)
    CONFIG STAGE <json>   {"staged": [fields]}: fields kept for the next CONFIG SET (long configs
                          do not fit one request line); "board.relay" stages one part of a map
    CONFIG SET <json>     staged + these fields over the current config, validated as a whole:
                          {"applied": [fields]}, or ERR refused with "errors", one per field;
                          config.json changes only when all is well (temp file, then rename);
                          a secret given as "***" keeps the one it replaces
    LOG PULL <seq> [n]    {"records": [base64], "next": seq to ask for next}
    LOG ACK <seq>         {"acked": seq}: every record up to seq is safe on the host
    EVENTS                OK, then EV lines with this id until the next request (END first);
                          what happened since the last stream ended (the newest 16; since HELLO,
                          which starts a host's session afresh, and at most since the link was
                          loaded) comes first, so nothing is missed between two streams of one
                          session. Decisions carry "n", the gate's count since boot,
                          by which a host knows one it has had from STATUS
    RESTART / MAINT       OK, then the board resets / returns to the REPL
    KEY PROVE <nonce hex> {"proof": hex of HMAC-SHA256(key, wire.KEY_PROOF_TAG + nonce)}; the
                          nonce is wire.KEY_NONCE_BYTES random bytes from the host
    OUTPUTS TEST          {"outputs": {role: true when the pin followed on and off}}, after each
                          output (relay, green, red, buzzer) was on for a moment in turn: the
                          door opens briefly. The reply comes when the cycle ends (about 2 s)
    EXEMPT <reason> [<token>]
                          let in a person without a smartphone now, on the guard's word: the
                          door opens (green, two short beeps) and the journal gets an EXEMPT
                          decision (trigger host) with the reason, one of record.REASON_CODES
                          (no-smartphone, paper-declaration, staff-override);
                          {"verdict": "exempt", "reason", "n": decisions since boot, "seq": the
                          record's journal seq, "board_id"}. ERR "bad-reason" for another
                          reason, "count-mode" in count mode, "refused" in safe mode. The host
                          resends a request whose reply was lost: the same token as the last
                          EXEMPT gets that EXEMPT's reply again, with "repeat": true, and opens
                          no door (one person, one record)

Ctrl-C is data while the link runs (micropython.kbd_intr(-1)): a stray one gets an error reply.
mpremote's own break-in ("\\r\\x03" then "\\r\\x01" at once) is taken as MAINT, leaving its
Ctrl-A unread so the REPL that follows enters the raw REPL as mpremote expects.
"""

import json
import os
import select
import sys

import asyncio
import machine
from micropython import const

from bzcore import FIRMWARE_VERSION, record, wire
from gate import bootonly, clock, secret

CONFIG_PATH = "/config.json"
_BREAK_IN_WAIT_MS = const(60)  # mpremote's Ctrl-A follows its Ctrl-C within a few ms
_BYTES_PER_TURN = const(64)  # then let the other tasks run
_IDLE_MS = const(60000)  # quiet this long (no stream running), the link is forgotten
_NESTED = ("board", "scan", "wifi", "mqtt")  # fields CONFIG STAGE takes part by part ("board.relay")


class HostLink:
    def __init__(self, app, config_path=CONFIG_PATH, stdin=None, stdout=None, idle_ms=_IDLE_MS):
        self.app = app
        self.idle_ms = idle_ms
        self.config_path = config_path
        self._in = stdin or sys.stdin.buffer
        self._out = stdout or sys.stdout.buffer
        self._poll = select.poll()
        self._poll.register(self._in, select.POLLIN)
        self._lines = wire.LineReader()
        self._staged = {}
        self._last_exempt = ("", {})  # (token, reply) of the last EXEMPT done
        self._events = None
        self._stream = None  # (request id, task) of a running EVENTS
        self._running = False
        self.requests = 0
        self.errors = 0

    async def run(self, first):
        """Serve the host from its first byte: True once MAINT or a break-in stops the gate,
        False once it has been quiet for idle_ms (no stream running)."""
        reader = asyncio.StreamReader(self._in)
        byte = bytearray(1)
        self._running = True
        try:
            while self._running:
                got = self._lines.feed(first)
                if got:
                    await self._handle(got)
                budget = _BYTES_PER_TURN
                # The rest of a burst, byte by byte without allocating: a break-in must leave
                # the bytes after it unread, for the REPL.
                while self._running and budget and _ready(self._poll):
                    if not self._in.readinto(byte):  # pyright: ignore[reportAttributeAccessIssue]  (the port has it)
                        break
                    got = self._lines.feed(byte[0])
                    if got:
                        await self._handle(got)
                    budget -= 1
                if self._running:
                    first = await self._next_byte(reader)
                    if first is None:
                        return False
            return True
        finally:
            self._stop_stream()
            if self._events is not None:
                self.app.unsubscribe(self._events)

    async def _next_byte(self, reader):
        """The next byte from the host; None once it has been quiet for idle_ms with no stream
        running (a stream holds the link: its host reads, it does not write), or when stdin is
        closed (never on a board). A byte that comes at the very moment of the timeout can be
        lost: the request it began then fails its checksum, and the host sends it again."""
        try:
            if self._stream is None:
                data = await asyncio.wait_for_ms(reader.read(1), self.idle_ms)
            else:
                data = await reader.read(1)
        except asyncio.TimeoutError:
            return None
        return data[0] if data else None

    async def _handle(self, got):
        """A LineReader result other than NOTHING."""
        if got == wire.LINE:
            self._request(self._lines.line())
        elif got == wire.OVERLONG:
            self._error(0, wire.ERR_TOO_LONG, "request longer than %d bytes" % wire.REQUEST_MAX)
        elif got == wire.BREAK_IN:
            if await self._more_input_within(_BREAK_IN_WAIT_MS):
                self._maintenance()
            else:
                self._error(0, wire.ERR_FORMAT, "Ctrl-C ignored: the gate keeps running (MAINT stops it)")

    async def _more_input_within(self, ms):
        for _ in range(ms // 10):
            if _ready(self._poll):
                return True
            await asyncio.sleep_ms(10)
        return _ready(self._poll)

    # --- replies ---------------------------------------------------------------------
    def _reply(self, req_id, data=None, status=wire.OK):
        try:
            for piece in wire.reply_pieces(req_id, status, data):  # no await: lines never mix
                self._out.write(piece)
        except OSError:  # nobody listening: the host will ask again
            pass

    def _error(self, req_id, code, message, extra=None):
        self.errors += 1
        data = {"error": code, "message": message}
        if extra:
            data.update(extra)
        self._reply(req_id, data, wire.ERR)

    # --- requests --------------------------------------------------------------------
    def _request(self, line):
        req_id, command, args, error = wire.parse_request(line)
        self._stop_stream()
        if error or command is None:
            self._error(req_id, error or wire.ERR_FORMAT, _ERROR_TEXT[error or wire.ERR_FORMAT])
            return
        self.requests += 1
        handler = _HANDLERS[command]
        try:
            handler(self, req_id, args)
        except (ValueError, TypeError, KeyError, IndexError) as e:
            self._error(req_id, wire.ERR_ARGS, "%s: %s" % (command, e))
        except Exception as e:  # a failing command must not stop the link or the gate
            self._error(req_id, wire.ERR_BUSY, "%s failed: %s %s" % (command, type(e).__name__, e))
        if command.startswith("CONFIG"):  # it loaded the boot-only modules again
            bootonly.forget()

    def _hello(self, req_id, _args):
        if self._events is not None:
            self._events.clear()  # a new host session: what waited is not news to it
        self._reply(req_id, {"firmware": FIRMWARE_VERSION, "gate_id": self.app.config["gate_id"],
                             "mpy": getattr(sys.implementation, "_mpy", 0),
                             "board_id": machine.unique_id().hex()})

    def _status(self, req_id, _args):
        out = self.app.status()
        out["link"] = {"requests": self.requests, "errors": self.errors, "sessions": self.app.link_sessions}
        self._reply(req_id, out)

    def _time_set(self, req_id, args):
        t = int(args)
        correction = clock.set_utc(t)
        self.app.presence.shift_times(correction)
        kind, payload = record.event(record.CLOCK_SET, correction)
        self.app.journal.append(kind, None, payload)
        self._reply(req_id, {"time": t, "correction": correction})

    def _config_get(self, req_id, _args):
        self._reply(req_id, {"config": _shown(self.app.config)})

    def _stage(self, req_id, args):
        """Keep the fields of a CONFIG STAGE / SET; False (and the error sent) if one is unknown."""
        from bzcore import config  # for the request only (gate.bootonly)

        fields = _json_object(args) if args else {}
        for name in fields:
            top, _, part = name.partition(".")
            if top not in config.DEFAULTS or (part and top not in _NESTED):
                self._staged = {}
                self._error(req_id, wire.ERR_REFUSED, "config unchanged: unknown field %s" % name)
                return False
        for name in fields:
            top, _, part = name.partition(".")
            if part:  # one part of a map too long for a line: "board.relay"
                if type(self._staged.get(top)) is not dict:
                    self._staged[top] = {}
                self._staged[top][part] = fields[name]
            else:
                self._staged[name] = fields[name]
        return True

    def _config_stage(self, req_id, args):
        if self._stage(req_id, args):
            self._reply(req_id, {"staged": sorted(self._staged)})

    def _config_set(self, req_id, args):
        if not self._stage(req_id, args):
            return
        changes, self._staged = self._staged, {}
        new = dict(self.app.config)
        new.update(changes)
        new = _kept_secrets(new, self.app.config)
        from bzcore import config

        errors = config.validate(new)
        if errors:
            self._error(req_id, wire.ERR_REFUSED, "config unchanged: %d field(s) not allowed" % len(errors),
                        {"errors": errors})
            return
        new = config.checked(new)[0]  # the normal form (a pin map in full)
        _write_atomically(self.config_path, config.dumps(new))
        self.app.apply_config(new)
        self._reply(req_id, {"applied": sorted(changes)})

    def _log_pull(self, req_id, args):
        parts = args.split()
        seq = int(parts[0])
        limit = min(int(parts[1]), wire.RECORDS_PER_REPLY) if len(parts) > 1 else wire.RECORDS_PER_REPLY
        if seq < 0 or limit < 1:
            raise ValueError("seq >= 0 and a count >= 1")
        records = self.app.journal.read_from(seq, limit)
        after = int.from_bytes(records[-1][:4], "big") + 1 if records else seq  # seq: bytes 0..3
        self._reply(req_id, {"records": wire.records_text(records), "next": after})

    def _log_ack(self, req_id, args):
        seq = int(args)
        if seq < 0:
            raise ValueError("seq >= 0")
        self.app.journal.ack(seq)
        self._reply(req_id, {"acked": seq})

    def _events_start(self, req_id, _args):
        if self._events is None:
            self._events = self.app.subscribe_events()
        self._reply(req_id)
        self._stream = (req_id, asyncio.create_task(self._stream_events(req_id, self._events)))

    async def _stream_events(self, req_id, events):
        while True:
            item = await events.get()
            self._reply(req_id, item, wire.EV)

    def _stop_stream(self):
        if self._stream is not None:
            req_id, task = self._stream
            self._stream = None
            task.cancel()
            self._reply(req_id, None, wire.END)

    def _restart(self, req_id, _args):
        self._reply(req_id)
        self.app.restart()

    def _maint(self, req_id, _args):
        self._reply(req_id)
        self._maintenance()

    def _key_prove(self, req_id, args):
        nonce = bytes.fromhex(args)
        if len(nonce) != wire.KEY_NONCE_BYTES:
            raise ValueError("a nonce of %d bytes in hex" % wire.KEY_NONCE_BYTES)
        self._reply(req_id, {"proof": secret.prove(self.app.key, nonce).hex()})

    def _outputs_test(self, req_id, _args):
        asyncio.create_task(self._report_outputs(req_id))  # the reply follows the cycle

    async def _report_outputs(self, req_id):
        self._reply(req_id, {"outputs": await self.app.outputs.self_test()})

    def _exempt(self, req_id, args):
        name, _, token = args.partition(" ")
        reason = record.REASON_CODES.get(name)
        policy = self.app.policy
        last_token, last_reply = self._last_exempt
        if token and token == last_token:
            repeat = dict(last_reply)
            repeat["repeat"] = True
            self._reply(req_id, repeat)
        elif reason is None:
            self._error(req_id, wire.ERR_BAD_REASON,
                        "EXEMPT: a reason of " + ", ".join(record.REASON_CODES))
        elif policy.mode == record.COUNTING:
            self._error(req_id, wire.ERR_COUNT_MODE, "EXEMPT: a gate in count mode takes no decisions")
        elif self.app.safe_mode:
            self._error(req_id, wire.ERR_REFUSED, "EXEMPT: the gate is in safe mode, its door stays shut")
        else:
            seq = policy.exempt(reason)
            reply = {"verdict": record.VERDICT_NAMES[record.EXEMPT], "reason": name,
                     "n": policy.decisions, "seq": seq, "board_id": machine.unique_id().hex()}
            self._last_exempt = (token, reply)
            self._reply(req_id, reply)

    def _maintenance(self):
        self._running = False
        self.app.maintenance()


def _shown(cfg):
    if cfg["wifi"] is None and cfg["mqtt"] is None:
        return cfg  # no secrets: the uplink's config module stays unloaded
    from bzcore import uplinkconfig

    return uplinkconfig.shown(cfg)


def _kept_secrets(new, current):
    if current["wifi"] is None and current["mqtt"] is None:
        return new
    from bzcore import uplinkconfig

    return uplinkconfig.keep_secrets(new, current)


def _ready(poller):
    """Input waiting? (ipoll reuses its result: nothing allocated per byte)"""
    for _ in poller.ipoll(0):
        return True
    return False


def _json_object(text):
    try:
        value = json.loads(text)
    except RuntimeError:  # nested past the stack (CPython's RecursionError is one too)
        raise ValueError("JSON nested too deeply")
    if type(value) is not dict:
        raise ValueError("a JSON object of fields")
    return value


def _write_atomically(path, text):
    """The new file appears whole or not at all (docs/esp32-notes.md, note 17)."""
    temp = path + ".tmp"
    with open(temp, "w") as f:
        f.write(text)
    os.rename(temp, path)


_ERROR_TEXT = {
    wire.ERR_CRC: "checksum does not match: send the request again",
    wire.ERR_FORMAT: "not a request line: ID COMMAND ARGS*CRC32",
    wire.ERR_UNKNOWN: "unknown command; commands: " + ", ".join(wire.COMMANDS),
}

_HANDLERS = {
    "HELLO": HostLink._hello,
    "STATUS": HostLink._status,
    "TIME SET": HostLink._time_set,
    "CONFIG GET": HostLink._config_get,
    "CONFIG STAGE": HostLink._config_stage,
    "CONFIG SET": HostLink._config_set,
    "LOG PULL": HostLink._log_pull,
    "LOG ACK": HostLink._log_ack,
    "EVENTS": HostLink._events_start,
    "RESTART": HostLink._restart,
    "MAINT": HostLink._maint,
    "KEY PROVE": HostLink._key_prove,
    "OUTPUTS TEST": HostLink._outputs_test,
    "EXEMPT": HostLink._exempt,
}
