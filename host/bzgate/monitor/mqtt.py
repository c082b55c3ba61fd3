"""The monitor's gates on an MQTT broker (the contract is bzcore.uplink): live events only.

    source = MqttSource(Broker.from_url("mqtt://127.0.0.1:1883"), "bzgate", board)
    source.start(); source.stop()

Subscribes to P/+/events and P/+/online. A gate gets its tile (keyed "P/G", source "mqtt") the
first time it is heard. On P/G/events, {"type": "status", ...} goes to Board.status and a
decision, a check begun ({"checking": {...}}) or an alarm to Board.event, as a serial session's STATUS and EVENTS do; P/G/online
"1" counts as hearing it, "0" (its last will, or its retained state) shows it offline at once.
A gate that reports once a minute is offline after OFFLINE_AFTER_S without a word.

Nothing here collects: the journals come through `bzgate ingest`. A payload that is not one
of these objects is dropped and counted (`dropped`), never taken for a gate's state.
paho reconnects by itself; while the broker is away the gates' tiles say so and go offline. A
refused login or certificate is logged once (not at each retry) and shown on the tiles too.
"""

import json
import logging
import os
import socket

from bzcore import uplink, uplinkhost
from bzgate.collect.uplink import check_prefix
from bzgate.link.broker import Broker
from bzgate.monitor.state import Board, status_problem

log = logging.getLogger("bzgate.commands.monitor")
STATUS_EVERY_S = 60  # the gates' status events (firmware/gate/uplink.py)
OFFLINE_AFTER_S = 2.5 * STATUS_EVERY_S  # two status events missed
SOURCE = "mqtt"


class MqttSource:
    def __init__(self, broker: Broker, prefix: str, board: Board):
        check_prefix(prefix)
        self.broker, self.prefix, self.board = broker, prefix, board
        self.gates: set[str] = set()  # the board's keys of the gates heard
        self.dropped = 0
        self.refused: str | None = None  # the broker's last refusal, logged once
        self.client = broker.client(f"bzgate-monitor-{socket.gethostname()}-{os.getpid()}",
                                    on_connect=self._on_connect,
                                    on_connect_fail=self._on_connect_fail,
                                    on_disconnect=self._on_disconnect, on_message=self._on_message)

    def start(self) -> None:
        """Connect in paho's own thread, which retries until the broker answers."""
        self.client.loop_start()

    def stop(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()

    def _on_connect(self, client, userdata, flags, reason, properties) -> None:
        if reason.is_failure:
            return self._refused(self.broker.refusal(reason))
        self.refused = None
        client.subscribe([(f"{self.prefix}/+/{uplink.EVENTS}", 0),
                          (f"{self.prefix}/+/{uplink.ONLINE}", 1)])

    def _on_connect_fail(self, client, userdata) -> None:
        why = self.broker.certificate_refused()
        if why is not None:
            self._refused(why)

    def _refused(self, why: str) -> None:
        """paho tries again every few seconds: say it once, and on the tiles."""
        if why != self.refused:
            log.warning("%s; trying again", why)
            self.refused = why
        for key in self.gates:
            self.board.lost(key, why)

    def _on_disconnect(self, client, userdata, flags, reason, properties) -> None:
        if reason.is_failure and self.refused is None:  # not the end of a refused CONNACK
            log.warning("lost the broker (%s); reconnecting", reason)
            for key in self.gates:
                self.board.lost(key, f"broker {self.broker.url}: {reason}")

    def _on_message(self, client, userdata, message) -> None:
        parsed = uplinkhost.parse_topic(message.topic)
        if parsed is None or parsed[0] != self.prefix or parsed[2] not in (uplink.EVENTS,
                                                                           uplink.ONLINE):
            return  # not subscribed to: a wildcard's match of another depth, or a stray leaf
        try:
            self.take(parsed[1], parsed[2], message.payload)
        except Exception as e:  # noqa: BLE001 - a payload nobody foresaw must not end paho's thread
            self._drop(parsed[1], f"unexpected: {e!r}")

    def take(self, gate_id: str, leaf: str, payload: bytes) -> None:
        """One message of a gate: its online state or one event object; anything else is
        dropped and counted."""
        if leaf == uplink.ONLINE:
            if payload not in (b"0", b"1"):
                return self._drop(gate_id, f"online {payload[:20]!r}: not 0 or 1")
            key = self._gate(gate_id)
            if payload == b"1":
                self.board.replied(key)
            else:
                self.board.went_offline(key, "disconnected from the broker (its last will)")
            return
        try:
            event = json.loads(payload)
        except (ValueError, RecursionError) as e:  # bad UTF-8 too; nesting past the stack
            return self._drop(gate_id, f"not JSON: {e!r}"[:200])
        if not isinstance(event, dict):
            return self._drop(gate_id, "an event that is not a JSON object")
        if event.get("type") == "status":
            problem = status_problem(event)
            if problem:
                return self._drop(gate_id, f"a status with {problem}")
            self.board.status(self._gate(gate_id), event)
        elif "verdict" in event or "alarm" in event or "checking" in event:
            self.board.event(self._gate(gate_id), event)
        else:
            self._drop(gate_id, f"an event of no known kind: {sorted(event)[:5]}")

    def _gate(self, gate_id: str) -> str:
        key = f"{self.prefix}/{gate_id}"
        if key not in self.gates:
            self.board.add_gate(key, gate_id, source=SOURCE, offline_after=OFFLINE_AFTER_S)
            self.gates.add(key)
        return key

    def _drop(self, gate_id: str, why: str) -> None:
        self.dropped += 1
        log.warning("gate %s: dropped a message (%s); %d dropped so far", gate_id, why,
                    self.dropped)
