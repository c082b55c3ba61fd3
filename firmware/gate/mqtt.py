"""A small MQTT 3.1.1 client: only what the uplink (gate.uplink) uses, written for a board
without PSRAM (mqtt_async from PyPI kept 7 KB of heap once constructed: README, "Heap").

    client = Client(client_id, user, password, will_topic, will_payload, keepalive_s, on_message)
    await client.connect(host, port)        # CONNECT with a retained QoS 1 will; CONNACK
    await client.subscribe(topic)           # QoS 1; on_message(payload) for each PUBLISH
    await client.publish(topic, payload, 1, True)   # QoS 1 returns at its PUBACK
    await client.publish(topic, payload)    # QoS 0 returns at once, having waited for nothing
    await client.keep_alive()               # raises what broke the connection; pings when quiet
    client.close()

Topics and payloads are bytes. One request waits for its answer at a time (the uplink's one
line of work: CONNECT, SUBSCRIBE, QoS 1 PUBLISH, PINGREQ); QoS 0 publishes may come from other
tasks between. Every answer is awaited for at most RESPONSE_MS: a broker that does not answer
is a dead connection. A reader task per connection takes the broker's packets; one that is not
MQTT as the broker sends it to this client raises ValueError, anything else about the
connection OSError, and either ends the connection: the owner closes it and connects again.

Writes go straight to the non-blocking socket, each packet whole: with one QoS 1 message in
flight the socket's send buffer (5.7 KB in lwIP) takes a packet at once unless the link has
stopped taking data, and such a link is taken for dead; so no task ever waits on a write, and
no write is split between two tasks. Each connection is a clean session: the uplink subscribes
again and the host's ack is retained. The buffers are made once: _OUT_BYTES holds a journal
batch with its header (one TCP segment: a header sent apart would wait for its ACK, Nagle's
rule), _IN_BYTES the host's ack with its topic; a longer incoming PUBLISH is read past and given
to on_message as None.
"""

import errno
import select
import socket
import time

import asyncio
from micropython import const

RESPONSE_MS = const(10000)
_OUT_BYTES = const(1152)  # a batch of 20 records (bzcore.uplink: under 1 KB) with topic and header
_IN_BYTES = const(320)  # an ack (bzcore.uplink: at most 160 bytes) and its topic
_CONNECT_POLL_MS = const(50)
_CONNECT = const(0x10)
_CONNACK = const(0x20)
_PUBLISH = const(0x30)
_PUBACK = const(0x40)
_SUBSCRIBE = const(0x82)
_SUBACK = const(0x90)
_PINGRESP = const(0xD0)
# The remaining length of each answer the broker sends this client, by packet type (0xFF: none)
_ANSWER_SIZES = b"\xff\xff\x02\xff\x02\xff\xff\xff\xff\x03\xff\xff\xff\x00\xff\xff"


def put_length(buf, at, n):
    """MQTT's remaining length n into buf at `at`, 7 bits a byte, lowest first; the index after."""
    while n > 0x7F:
        buf[at] = n & 0x7F | 0x80
        n >>= 7
        at += 1
    buf[at] = n
    return at + 1


def get_length(buf, at):
    """(remaining length, index after it) from buf at `at`. ValueError past its 4 bytes."""
    n = shift = 0
    while True:
        byte = buf[at]
        at += 1
        n |= (byte & 0x7F) << shift
        if byte < 0x80:
            return n, at
        shift += 7
        if shift > 21:
            raise ValueError("remaining length longer than 4 bytes")


def _put_text(buf, at, text):
    """A 2-byte length, then the bytes."""
    buf[at] = len(text) >> 8
    buf[at + 1] = len(text) & 0xFF
    buf[at + 2:at + 2 + len(text)] = text
    return at + 2 + len(text)


def connect_packet(client_id, user, password, will_topic, will_payload, keepalive_s):
    """CONNECT: clean session, a retained QoS 1 will, user and password when given (bytes)."""
    fields = [client_id, will_topic, will_payload]
    flags = 0x2E  # will retain 0x20, will QoS 1 0x08, will 0x04, clean session 0x02
    if user is not None:
        fields.append(user)
        flags |= 0x80
        if password is not None:
            fields.append(password)
            flags |= 0x40
    size = 10 + sum(2 + len(f) for f in fields)
    out = bytearray(size + 5)
    out[0] = _CONNECT
    at = put_length(out, 1, size)
    at = _put_text(out, at, b"MQTT")
    out[at:at + 4] = bytes((4, flags, keepalive_s >> 8, keepalive_s & 0xFF))  # level 4: 3.1.1
    at += 4
    for f in fields:
        at = _put_text(out, at, f)
    return bytes(out[:at])


class Client:
    def __init__(self, client_id, user, password, will_topic, will_payload, keepalive_s,
                 on_message):
        self.on_message = on_message
        self._connect = connect_packet(client_id, user, password, will_topic, will_payload,
                                       keepalive_s)
        self._out = bytearray(_OUT_BYTES)
        self._in = bytearray(_IN_BYTES)
        self._outv = memoryview(self._out)
        self._inv = memoryview(self._in)
        self._answered = asyncio.Event()
        self._want = -1  # (packet type << 16 | packet id) of the answer awaited
        self._result = 0
        self._pid = 0
        self._address = None  # looked up once: the lookup blocks
        self._sock = None
        self._stream = None
        self._reader = None
        self._heard_ms = 0
        self.error = None  # what ended the connection, once something has

    async def connect(self, host, port):
        self.close()
        self.error = None
        if self._address is None:
            self._address = socket.getaddrinfo(host, port)[0][-1]
        sock = self._sock = socket.socket()
        sock.setblocking(False)
        try:
            sock.connect(self._address)
        except OSError as e:
            if e.errno != errno.EINPROGRESS:
                raise
        poll = select.poll()
        poll.register(sock, select.POLLOUT)
        for _ in range(RESPONSE_MS // _CONNECT_POLL_MS):
            if poll.poll(0):
                break
            await asyncio.sleep_ms(_CONNECT_POLL_MS)
        else:
            raise OSError("no answer from the broker")
        self._stream = asyncio.StreamReader(sock)
        self._heard_ms = time.ticks_ms()
        self._reader = asyncio.create_task(self._receive())
        code = await self._request(self._connect, _CONNACK << 16)
        if code:
            raise OSError("the broker refused the connection: code %d" % code)

    def close(self):
        if self._reader is not None:
            self._reader.cancel()
            self._reader = None
        if self._sock is not None:
            try:
                self._sock.write(b"\xe0\x00")  # DISCONNECT: the broker drops the will unpublished
            except OSError:
                pass
            self._sock.close()
            self._sock = None
        self._stream = None

    async def subscribe(self, topic):
        out = self._out
        pid = self._next_pid()
        out[0] = _SUBSCRIBE
        at = put_length(out, 1, 5 + len(topic))
        out[at] = pid >> 8
        out[at + 1] = pid & 0xFF
        at = _put_text(out, at + 2, topic)
        out[at] = 1  # QoS 1
        granted = await self._request(self._outv[:at + 1], _SUBACK << 16 | pid)
        if granted > 1:
            raise OSError("the broker refused the subscription")

    async def publish(self, topic, payload, qos=0, retain=False):
        out = self._out
        out[0] = _PUBLISH | qos << 1 | retain
        at = put_length(out, 1, 2 + len(topic) + 2 * qos + len(payload))
        at = _put_text(out, at, topic)
        pid = 0
        if qos:
            pid = self._next_pid()
            out[at] = pid >> 8
            out[at + 1] = pid & 0xFF
            at += 2
        tail = payload
        if at + len(payload) <= _OUT_BYTES:
            out[at:at + len(payload)] = payload
            at += len(payload)
            tail = None
        if qos:
            await self._request(self._outv[:at], _PUBACK << 16 | pid, tail)
        else:
            self._send(self._outv[:at], tail)

    async def keep_alive(self):
        if self.error is not None:
            raise self.error
        if time.ticks_diff(time.ticks_ms(), self._heard_ms) >= RESPONSE_MS:
            await self._request(b"\xc0\x00", _PINGRESP << 16)  # PINGREQ

    def _next_pid(self):
        self._pid = self._pid % 0xFFFF + 1
        return self._pid

    def _send(self, data, tail=None):
        sock = self._sock
        if sock is None:
            raise OSError("not connected")
        if sock.write(data) != len(data) or tail is not None and sock.write(tail) != len(tail):
            self.error = OSError("the link stopped taking data")
            raise self.error

    async def _request(self, data, want, tail=None):
        """Send, then wait for the answer `want`; its result (CONNACK's code, SUBACK's QoS)."""
        self._want = want
        self._answered.clear()
        self._send(data, tail)
        try:
            await asyncio.wait_for_ms(self._answered.wait(), RESPONSE_MS)
        except asyncio.TimeoutError:
            self.error = OSError("no answer from the broker")
        if self.error is not None:
            raise self.error
        return self._result

    async def _fill(self, start, end):
        while start < end:
            got = await self._stream.readinto(self._inv[start:end])  # pyright: ignore[reportOptionalMemberAccess]
            if got == 0:
                raise OSError("the broker closed the connection")
            start += got or 0

    async def _receive(self):
        buf = self._in
        try:
            while True:
                await self._fill(0, 2)
                at = 2
                while buf[at - 1] & 0x80 and at < 5:
                    await self._fill(at, at + 1)
                    at += 1
                size = get_length(buf, 1)[0]
                kind = buf[0]
                self._heard_ms = time.ticks_ms()
                if kind & 0xF0 == _PUBLISH:
                    await self._take_publish(kind, size)
                    continue
                if kind & 0x0F or _ANSWER_SIZES[kind >> 4] != size:
                    raise ValueError("packet 0x%02x of %d bytes" % (kind, size))
                await self._fill(0, size)
                key = kind << 16
                if kind == _PUBACK or kind == _SUBACK:
                    key |= buf[0] << 8 | buf[1]
                if key == self._want:
                    self._want = -1
                    self._result = buf[size - 1] if size else 0
                    self._answered.set()
        except (OSError, ValueError) as e:
            self.error = e
            self._answered.set()

    async def _take_publish(self, kind, size):
        qos = kind >> 1 & 3
        buf = self._in
        kept = min(size, _IN_BYTES)
        if qos > 1 or kept < 2:
            raise ValueError("PUBLISH 0x%02x of %d bytes" % (kind, size))
        await self._fill(0, kept)
        at = 2 + (buf[0] << 8 | buf[1])  # after the topic
        start = at + 2 * qos
        if start > kept:
            raise ValueError("PUBLISH topic of %d bytes in %d" % (at - 2, size))
        pid = buf[at] << 8 | buf[at + 1] if qos else 0
        if kept == size:
            self.on_message(self._inv[start:size])
        else:  # longer than any message this client is sent: read past it
            left = size - kept
            while left:
                n = min(left, _IN_BYTES)
                await self._fill(0, n)
                left -= n
            self.on_message(None)
        if qos:
            out = self._out
            out[0] = _PUBACK
            out[1] = 2
            out[2] = pid >> 8
            out[3] = pid & 0xFF
            self._send(self._outv[:4])
