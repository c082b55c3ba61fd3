"""The Wi-Fi uplink: the journal and the live events to an MQTT broker (the contract:
bzcore.uplink), through mqtt_async (PyPI micropython-mqtt, deployed in /lib).

    link = Uplink(app)               # app.config["wifi"] and app.config["mqtt"] set
    await link.run()                 # gate.app supervises it as the task "uplink"
    link.counters()                  # "uplink" in STATUS and in its status events

The station (STA only: docs/esp32-notes.md, note 11) and the broker are kept up by mqtt_async's
own keeper; the station's connects back off from BACKOFF_MIN_MS to BACKOFF_MAX_MS while neither
the access point nor the broker answers, so a gate out of reach does not spend the radio's time
(which BLE shares) on tries. The gate decides and journals whatever the link does: the journal
is the store that waits (store and forward).

On every connection: subscribe to P/G/ack (retained: the host's last stored seq comes at
once), publish "1" on P/G/online ("0" is the last will), then send the journal from the seq
after the host's ack, or, when no ack comes within ACK_WAIT_MS (a broker that lost its retained
messages), from the seq after the last ack this board kept. Batches of up to
uplink.MAX_RECORDS flushed records go QoS 1, one at a time (one batch in RAM), in order; the
host stores by (board, seq), so a batch sent twice across a reconnect is stored once. Each ack
also goes to the journal, as the host link's LOG ACK does: acked records may be reclaimed.
An ack that stays behind what was sent for RESEND_MS means the host refused a batch (ingesters
sharing the load may get a batch before its predecessor, and store neither out of order): the
journal is sent again from the seq after the ack, and the wait doubles, up to RESEND_MAX_MS,
while the ack does not move (a host that is down is not flooded).

Live events (decisions and alarms, as the host link's EVENTS) go QoS 0 to P/G/events while the
link is up; those that find it down are counted, not kept. A {"type": "status", ...STATUS}
object follows every STATUS_EVERY_MS.
"""

import json
import time

import asyncio
import machine
import mqtt_async
import network
from micropython import const

from bzcore import uplink
from gate.hostlink import status_fields

BACKOFF_MIN_MS = const(1000)
BACKOFF_MAX_MS = const(32000)
ACK_WAIT_MS = const(2000)  # the retained ack follows the SUBACK at once, if the broker has one
POLL_MS = const(1000)  # new flushed records are looked for this often (the journal flushes every 5 s)
STATUS_EVERY_MS = const(60000)
RESEND_MS = const(15000)  # an ingester holds an early batch 2 s, and commits within seconds
RESEND_MAX_MS = const(480000)
RESPONSE_S = const(10)  # no PUBACK or PINGRESP within this: the connection is dead
KEEPALIVE_S = const(60)  # the broker publishes the last will after 1.5 x this of silence
UNKNOWN = const(-2)  # a seq not known yet
_ONLINE = b"1"
_OFFLINE = b"0"


class _Log:
    """mqtt_async's logger: the serial line is the host link's, so nothing is printed; the last
    warning is kept (uplink.log.last, for a look at the REPL)."""

    def __init__(self):
        self.last = None

    def debug(self, *_args):
        pass

    info = debug

    def warning(self, text, *_args):
        self.last = text


class Station:
    """The STA interface as mqtt_async drives it, with the connects backed off: a connect
    asked for before the next try is due does nothing (the client tries again a second
    later), and each try doubles the wait up to BACKOFF_MAX_MS, until the broker answers."""

    def __init__(self, wlan):
        self.wlan = wlan
        self.tries = 0
        self._wait_ms = BACKOFF_MIN_MS
        self._due = time.ticks_ms()
        wlan.active(True)
        wlan.config(reconnects=0)  # the uplink reconnects, with its backoff

    def active(self, *state):
        return self.wlan.active(*state)

    def isconnected(self):
        return self.wlan.isconnected()

    def status(self, *param):
        return self.wlan.status(*param)

    def disconnect(self):
        self.wlan.disconnect()

    def connect(self, ssid, password):
        now = time.ticks_ms()
        if time.ticks_diff(self._due, now) > 0:
            return
        self.tries += 1
        self._due = time.ticks_add(now, self._wait_ms)
        self._wait_ms = min(self._wait_ms * 2, BACKOFF_MAX_MS)
        self.wlan.connect(ssid, password)

    def answered(self):
        self._wait_ms = BACKOFF_MIN_MS


class Uplink:
    def __init__(self, app):
        self.app = app
        self.journal = app.journal
        wifi, mqtt = app.config["wifi"], app.config["mqtt"]
        gate_id = app.config["gate_id"]
        self.board_id = machine.unique_id()
        self.board_hex = self.board_id.hex()
        self.topics = {}
        for leaf in uplink.LEAVES:
            self.topics[leaf] = uplink.topic(mqtt["topic_prefix"], gate_id, leaf)
        self.station = Station(network.WLAN(network.STA_IF))
        self.log = mqtt_async.log = _Log()
        c = mqtt_async.MQTTConfig()
        for key, value in (("server", mqtt["host"]), ("port", mqtt["port"]),
                           ("user", mqtt["username"]), ("password", mqtt["password"] or ""),
                           ("ssid", wifi["ssid"]), ("wifi_pw", wifi["password"]),
                           ("interface", self.station), ("response_time", RESPONSE_S),
                           ("keepalive", KEEPALIVE_S), ("subs_cb", self._message),
                           ("connect_coro", self._connected), ("wifi_coro", self._link_changed)):
            c[key] = value
        c.set_last_will(self.topics[uplink.ONLINE], _OFFLINE, retain=True, qos=1)
        self._mqtt_config = c  # a client per run(): one that was disconnected cannot connect again
        self.up = False
        self.next_seq = UNKNOWN  # the next record to send, once a connection has found it
        self.host_seq = UNKNOWN  # the host's last ack (-1: it has none yet)
        self._ready = asyncio.Event()  # up, and next_seq known
        self._acked = asyncio.Event()
        self._connection = 0
        self.connects = 0
        self.batches = 0
        self.records = 0
        self.events = 0
        self.events_dropped = 0
        self.bad_acks = 0  # acks for another board or not acks (a misconfigured topic)
        self.resends = 0  # times the journal was sent again from an ack that stayed behind
        self._host_has = UNKNOWN  # the last seq the host is known to hold: its ack, or where we resumed
        self._ack_moved_ms = time.ticks_ms()
        self._resend_ms = RESEND_MS
        self.round_trip_ms = None  # the last batch's publish to its PUBACK (the field check's)
        self._events = app.subscribe_events()  # one queue for the board's life, not per run()

    # --- mqtt_async's callbacks ---------------------------------------------------------------
    def _message(self, topic, message, retained, qos):
        got = uplink.parse_ack(message)
        if got is None or got[0] != self.board_hex:
            self.bad_acks += 1
            return
        seq = int(got[1] or 0)  # parse_ack gives an int (-1: none yet)
        if seq != self._host_has:
            self._ack_moved_ms = time.ticks_ms()
            self._resend_ms = RESEND_MS
        self.host_seq = self._host_has = seq
        if seq >= 0:
            self.journal.ack(seq)
        if self.next_seq != UNKNOWN and seq >= self.next_seq:  # the host has these already
            self.next_seq = seq + 1
        self._acked.set()

    async def _link_changed(self, up):
        self.up = up
        if not up:
            self._ready.clear()

    async def _connected(self, client):
        self._connection += 1
        connection = self._connection
        self.connects += 1
        self.station.answered()
        self._acked.clear()
        await client.subscribe(self.topics[uplink.ACK], 1)
        await client.publish(self.topics[uplink.ONLINE], _ONLINE, retain=True, qos=1)
        try:
            await asyncio.wait_for_ms(self._acked.wait(), ACK_WAIT_MS)
            last = int(self.host_seq)
        except asyncio.TimeoutError:  # no ack kept by the broker: the last one this board kept
            last = self.journal.stats()["acked"]
        if connection == self._connection and self.up:
            self.next_seq = last + 1
            self._host_has = last
            self._ack_moved_ms = time.ticks_ms()
            self._ready.set()

    # --- the tasks ----------------------------------------------------------------------------
    async def run(self):
        client = mqtt_async.MQTTClient(self._mqtt_config)
        self.up = False
        extras = [asyncio.create_task(self._send_events(client)),
                  asyncio.create_task(self._send_status(client))]
        try:
            await self._first_connect(client)
            await self._send_journal(client)
        finally:
            for task in extras:
                task.cancel()
            await client.disconnect()  # ends mqtt_async's own tasks too

    async def _first_connect(self, client):
        """mqtt_async keeps the connection once it has made one; the first is ours to retry."""
        wait = BACKOFF_MIN_MS
        while True:
            try:
                await client.connect()
                return
            except OSError as e:
                self.log.warning("connect failed: %s" % e)
            await asyncio.sleep_ms(wait)
            wait = min(wait * 2, BACKOFF_MAX_MS)

    def _resend_if_refused(self):
        """Back to the seq after the ack when it has stayed behind what was sent too long."""
        if self._host_has == UNKNOWN or self.next_seq <= self._host_has + 1:
            return
        now = time.ticks_ms()
        if time.ticks_diff(now, self._ack_moved_ms) < self._resend_ms:
            return
        self.next_seq = self._host_has + 1
        self.resends += 1
        self._ack_moved_ms = now
        self._resend_ms = min(self._resend_ms * 2, RESEND_MAX_MS)

    async def _send_journal(self, client):
        while True:
            await self._ready.wait()
            self._resend_if_refused()
            records = self.journal.read_from(self.next_seq, uplink.MAX_RECORDS)
            if not records:
                await asyncio.sleep_ms(POLL_MS)
                continue
            first = int.from_bytes(records[0][:4], "big")  # seq: bytes 0..3
            after = first + len(records)
            payload = uplink.encode_batch(self.board_id, records)
            records = None
            connection = self._connection
            sent = time.ticks_ms()
            await client.publish(self.topics[uplink.JOURNAL], payload, qos=1)
            self.batches += 1
            self.records += after - first
            if connection == self._connection:  # a reconnect since has set where to go on
                self.next_seq = max(self.next_seq, after)
                self.round_trip_ms = time.ticks_diff(time.ticks_ms(), sent)

    async def _send_events(self, client):
        while True:
            event = await self._events.get()
            if not self.up:
                self.events_dropped += 1
                continue
            await client.publish(self.topics[uplink.EVENTS], json.dumps(event), qos=0)
            self.events += 1

    async def _send_status(self, client):
        while True:
            await asyncio.sleep_ms(STATUS_EVERY_MS)
            if self.up:
                status = status_fields(self.app)
                status["type"] = "status"
                await client.publish(self.topics[uplink.EVENTS], json.dumps(status), qos=0)

    def counters(self):
        """For STATUS and the status events. Seqs not known yet are UNKNOWN."""
        return {"up": self.up, "wifi": self.station.status(), "wifi_tries": self.station.tries,
                "rssi": self.station.status("rssi") if self.station.isconnected() else None,
                "round_trip_ms": self.round_trip_ms,
                "connects": self.connects, "next": self.next_seq, "acked": self.host_seq,
                "batches": self.batches, "records": self.records, "events": self.events,
                "dropped": self.events_dropped, "bad_acks": self.bad_acks, "resends": self.resends,
                "last_warning": self.log.last}
