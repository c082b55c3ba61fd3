"""The Wi-Fi uplink: the journal and the live events to an MQTT broker (the contract:
bzcore.uplink), through gate.mqtt (a small MQTT 3.1.1 client of the project's own).

    link = Uplink(app)               # app.config["wifi"] and app.config["mqtt"] set
    await link.run()                 # gate.app supervises it as the task "uplink"
    link.counters()                  # "uplink" in STATUS and in its status events

The task keeps the station (STA only: docs/esp32-notes.md, note 11) and the broker connected:
a try that fails, at the access point or at the broker, waits from _BACKOFF_MIN_MS doubling to
_BACKOFF_MAX_MS until a broker answers the subscription and the online message, so a gate out
of reach does not spend the radio's time (which BLE shares) on tries. A connection ends at the first failure (reset, silence past
gate.mqtt.RESPONSE_MS, a packet that is not MQTT: counted in bad_packets), and the next try
follows _BACKOFF_MIN_MS later; last_warning says what ended the last connection or try. The gate decides and journals whatever the link does: the journal
is the store that waits (store and forward).

On every connection: subscribe to P/G/ack (retained: the host's last stored seq comes at
once), publish "1" on P/G/online ("0" is the last will), then send the journal from the seq
after the host's ack, or, when no ack comes within _ACK_WAIT_MS (a broker that lost its retained
messages), from the seq after the last ack this board kept. Batches of up to
uplink.MAX_RECORDS flushed records go QoS 1, one at a time (one batch in RAM), in order; the
host stores by (board, seq), so a batch sent twice across a reconnect is stored once. Each ack
also goes to the journal, as the host link's LOG ACK does: acked records may be reclaimed.
An ack that stays behind what was sent for _RESEND_MS means the host refused a batch (ingesters
sharing the load may get a batch before its predecessor, and store neither out of order): the
journal is sent again from the seq after the ack, and the wait doubles, up to _RESEND_MAX_MS,
while the ack does not move (a host that is down is not flooded).

Live events (decisions and alarms, as the host link's EVENTS) go QoS 0 to P/G/events while the
link is up; those that find it down are counted, not kept. A {"type": "status", ...STATUS}
object follows every _STATUS_EVERY_MS.
"""

import json
import time

import asyncio
import machine
import network
from micropython import const

from bzcore import uplink
from gate import mqtt

_BACKOFF_MIN_MS = const(1000)
_BACKOFF_MAX_MS = const(32000)
_ACK_WAIT_MS = const(2000)  # the retained ack follows the SUBACK at once, if the broker has one
_POLL_MS = const(1000)  # new flushed records are looked for this often (the journal flushes every 5 s)
_STATUS_EVERY_MS = const(60000)
_RESEND_MS = const(15000)  # an ingester holds an early batch 2 s, and commits within seconds
_RESEND_MAX_MS = const(480000)
_WIFI_WAIT_MS = const(10000)  # a station still connecting after this has failed its try
_WIFI_POLL_MS = const(200)
KEEPALIVE_S = const(60)  # the broker publishes the last will after 1.5 x this of silence
_UNKNOWN = const(-2)  # a seq not known yet
_ONLINE = b"1"
_OFFLINE = b"0"


class Uplink:
    def __init__(self, app):
        self.app = app
        self.journal = app.journal
        self.wifi_config, self.mqtt_config = app.config["wifi"], app.config["mqtt"]
        gate_id = app.config["gate_id"]
        self.board_id = machine.unique_id()
        self.board_hex = self.board_id.hex()
        self.topics = {}
        for leaf in uplink.LEAVES:
            self.topics[leaf] = uplink.topic(self.mqtt_config["topic_prefix"], gate_id, leaf).encode()
        self.wlan = network.WLAN(network.STA_IF)
        self.wlan.active(True)
        self.wlan.config(reconnects=0)  # the uplink reconnects, with its backoff
        user, password = self.mqtt_config["username"], self.mqtt_config["password"]
        self.client = mqtt.Client(self.board_hex.encode(), user and user.encode(),
                                  password and password.encode(), self.topics[uplink.ONLINE],
                                  _OFFLINE, KEEPALIVE_S, self._message)
        self.up = False
        self.next_seq = _UNKNOWN  # the next record to send, once a connection has found it
        self.host_seq = _UNKNOWN  # the host's last ack (-1: it has none yet)
        self._acked = asyncio.Event()
        self.wifi_tries = 0
        self.connects = 0
        self.batches = 0
        self.records = 0
        self.events = 0
        self.events_dropped = 0
        self.bad_acks = 0  # acks for another board or not acks (a misconfigured topic)
        self.bad_packets = 0  # packets from the broker that were not MQTT (each a reconnect)
        self._answered = False  # this connection got SUBACK and PUBACK (the backoff resets)
        self.resends = 0  # times the journal was sent again from an ack that stayed behind
        self.last_warning = None  # why the last connection or try ended
        self._host_has = _UNKNOWN  # the last seq the host is known to hold: its ack, or where we resumed
        self._ack_moved_ms = time.ticks_ms()
        self._resend_ms = _RESEND_MS
        self.round_trip_ms = None  # the last batch's publish to its PUBACK (the field check's)
        self._events = app.subscribe_events()  # one queue for the board's life, not per run()

    def _message(self, payload):
        """An ack on P/G/ack (the only subscription); None: a message too long to be one."""
        got = uplink.parse_ack(payload)
        if got is None or got[0] != self.board_hex:
            self.bad_acks += 1
            return
        seq = int(got[1] or 0)  # parse_ack gives an int (-1: none yet)
        if seq != self._host_has:
            self._ack_moved_ms = time.ticks_ms()
            self._resend_ms = _RESEND_MS
        self.host_seq = self._host_has = seq
        if seq >= 0:
            self.journal.ack(seq)
        if self.next_seq != _UNKNOWN and seq >= self.next_seq:  # the host has these already
            self.next_seq = seq + 1
        self._acked.set()

    # --- the tasks ----------------------------------------------------------------------------
    async def run(self):
        events = asyncio.create_task(self._send_events())
        wait = _BACKOFF_MIN_MS
        try:
            while True:
                self._answered = False
                try:
                    if await self._join():
                        await self.client.connect(self.mqtt_config["host"], self.mqtt_config["port"])
                        await self._connected()
                except ValueError as e:  # the broker sent what is not MQTT
                    self.bad_packets += 1
                    self.last_warning = "bad packet: %s" % e
                except OSError as e:
                    self.last_warning = str(e)
                finally:
                    self.up = False
                    self.client.close()
                if self._answered:  # not a CONNACK alone: one followed by garbage is a failed try
                    wait = _BACKOFF_MIN_MS
                await asyncio.sleep_ms(wait)
                wait = min(wait * 2, _BACKOFF_MAX_MS)
        finally:
            events.cancel()

    async def _join(self):
        """The station connected (a try when it is not, unless one is under way)?"""
        wlan = self.wlan
        if not wlan.isconnected() and wlan.status() != network.STAT_CONNECTING:
            self.wifi_tries += 1
            wlan.connect(self.wifi_config["ssid"], self.wifi_config["password"])
        for _ in range(_WIFI_WAIT_MS // _WIFI_POLL_MS):
            if wlan.status() != network.STAT_CONNECTING:
                break
            await asyncio.sleep_ms(_WIFI_POLL_MS)
        if not wlan.isconnected():
            self.last_warning = "Wi-Fi: status %d" % wlan.status()
            return False
        return True

    async def _connected(self):
        """One connection, until it fails: where to resume, then the journal."""
        client = self.client
        self.up = True
        self.connects += 1
        self._acked.clear()
        await client.subscribe(self.topics[uplink.ACK])
        await client.publish(self.topics[uplink.ONLINE], _ONLINE, 1, True)
        self._answered = True  # SUBACK and PUBACK: the broker speaks MQTT, a loss is retried soon
        try:
            await asyncio.wait_for_ms(self._acked.wait(), _ACK_WAIT_MS)
            last = int(self.host_seq)
        except asyncio.TimeoutError:  # no ack kept by the broker: the last one this board kept
            last = self.journal.stats()["acked"]
        self.next_seq = last + 1
        self._host_has = last
        self._ack_moved_ms = time.ticks_ms()
        await self._send_journal()

    def _resend_if_refused(self):
        """Back to the seq after the ack when it has stayed behind what was sent too long."""
        if self._host_has == _UNKNOWN or self.next_seq <= self._host_has + 1:
            return
        now = time.ticks_ms()
        if time.ticks_diff(now, self._ack_moved_ms) < self._resend_ms:
            return
        self.next_seq = self._host_has + 1
        self.resends += 1
        self._ack_moved_ms = now
        self._resend_ms = min(self._resend_ms * 2, _RESEND_MAX_MS)

    async def _send_journal(self):
        """Batches in order, each at its PUBACK; the status event every _STATUS_EVERY_MS."""
        client = self.client
        status_due = time.ticks_add(time.ticks_ms(), _STATUS_EVERY_MS)
        while True:
            if time.ticks_diff(time.ticks_ms(), status_due) >= 0:
                status_due = time.ticks_add(status_due, _STATUS_EVERY_MS)
                status = self.app.status()
                status["type"] = "status"
                await client.publish(self.topics[uplink.EVENTS], json.dumps(status).encode())
            self._resend_if_refused()
            records = self.journal.read_from(self.next_seq, uplink.MAX_RECORDS)
            if not records:
                await asyncio.sleep_ms(_POLL_MS)
                await client.keep_alive()
                continue
            first = int.from_bytes(records[0][:4], "big")  # seq: bytes 0..3
            after = first + len(records)
            payload = uplink.encode_batch(self.board_id, records)
            records = None
            sent = time.ticks_ms()
            await client.publish(self.topics[uplink.JOURNAL], payload, 1)
            self.batches += 1
            self.records += after - first
            self.next_seq = max(self.next_seq, after)
            self.round_trip_ms = time.ticks_diff(time.ticks_ms(), sent)

    async def _send_events(self):
        while True:
            event = await self._events.get()
            if self.up:
                try:
                    await self.client.publish(self.topics[uplink.EVENTS], json.dumps(event).encode())
                    self.events += 1
                    continue
                except OSError:  # the connection broke: the journal's line of work reconnects
                    pass
            self.events_dropped += 1

    def counters(self):
        """For STATUS and the status events. Seqs not known yet are _UNKNOWN."""
        return {"up": self.up, "wifi": self.wlan.status(), "wifi_tries": self.wifi_tries,
                "rssi": self.wlan.status("rssi") if self.wlan.isconnected() else None,
                "round_trip_ms": self.round_trip_ms,
                "connects": self.connects, "next": self.next_seq, "acked": self.host_seq,
                "batches": self.batches, "records": self.records, "events": self.events,
                "dropped": self.events_dropped, "bad_acks": self.bad_acks, "bad_packets": self.bad_packets,
                "resends": self.resends, "last_warning": self.last_warning}
