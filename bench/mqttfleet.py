"""Many virtual gates publishing their journals over MQTT, cheaply: every batch encoded before
the start, the gates shared among a few processes with one MQTT connection each, so the load
does not take the cores the broker, the database and the ingesters need.

    fleet = Fleet(("127.0.0.1", 1883), prefix, journals, processes=2, window=4)
    result = fleet.run(timeout=300)      # every gate's whole journal acked by the ingesters
    result.seconds, result.lags_s, result.resent

Each gate behaves as a gate's uplink does towards the ingesters: it keeps up to `window`
batches beyond its retained ack in flight (QoS 1, in seq order), goes on as the ack advances,
and sends again from the ack when it has not moved for `resend_s` (a batch refused as a gap,
or lost with an ingester), as a gate does when it connects again. `pace_s` spaces a gate's batches (a fleet publishing over a minute
rather than at once). A batch's lag is the time from its first publish to the ack that covers
it; time.monotonic() is the same clock in every process.
"""

import multiprocessing
import threading
import time
import uuid
from dataclasses import dataclass, field

import paho.mqtt.client as mqtt

from bzcore import uplink, uplinkhost


@dataclass
class Gate:
    gate_id: str
    payloads: list[bytes]  # its batches, encoded
    lasts: list[int]  # each batch's last seq
    acked: int = -1
    done: int = 0  # batches wholly acked
    sent: int = 0  # the next batch to publish
    progress_at: float = 0.0  # when the ack last advanced, or the gate sent again from it
    published_at: float = float("-inf")
    first_sent: dict = field(default_factory=dict)  # batch -> when it was first published
    lags: list = field(default_factory=list)

    def acked_batches(self) -> int:
        """Batches wholly acked (the seqs are consecutive from the first batch's first)."""
        done = 0
        while done < len(self.lasts) and self.lasts[done] <= self.acked:
            done += 1
        return done


@dataclass
class Result:
    seconds: float  # from the start to the last gate's final ack
    lags_s: list[float]
    resent: int  # batches sent again
    complete: bool

    def percentile(self, p: float) -> float:
        ordered = sorted(self.lags_s)
        return ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))] if ordered else float("nan")


def batches_of(board: bytes, raws: list[bytes]) -> tuple[list[bytes], list[int]]:
    """A journal's batches of uplink.MAX_RECORDS, encoded, and each one's last seq."""
    spans = [raws[k:k + uplink.MAX_RECORDS] for k in range(0, len(raws), uplink.MAX_RECORDS)]
    return ([uplink.encode_batch(board, span) for span in spans],
            [int.from_bytes(span[-1][:4], "big") for span in spans])


class Fleet:
    def __init__(self, broker: tuple[str, int], prefix: str, journals: dict[bytes, list[bytes]],
                 processes: int = 2, window: int = 4, pace_s: float = 0.0, resend_s: float = 30.0):
        self.broker, self.prefix = broker, prefix
        self.options = {"window": window, "pace_s": pace_s, "resend_s": resend_s}
        gates = [(f"g{n}", *batches_of(board, raws)) for n, (board, raws) in enumerate(journals.items())]
        self.shares = [gates[k::processes] for k in range(processes)]

    def run(self, timeout: float) -> Result:
        """Publish every journal until all is acked (or timeout)."""
        context = multiprocessing.get_context("spawn")  # no paho thread of this process copied
        ready, go, results = context.Barrier(len(self.shares) + 1), context.Event(), context.Queue()
        workers = [context.Process(target=_publish, args=(self.broker, self.prefix, share, self.options,
                                                           timeout, ready, go, results), daemon=True)
                   for share in self.shares]
        for worker in workers:
            worker.start()
        ready.wait(60)  # every process connected and subscribed to its gates' acks
        start = time.monotonic()
        go.set()
        parts = [results.get(timeout=timeout + 60) for _ in workers]
        for worker in workers:
            worker.join(10)
        return Result(max(end for end, _, _, _ in parts) - start,
                      [lag for _, lags, _, _ in parts for lag in lags],
                      sum(resent for _, _, resent, _ in parts), all(done for _, _, _, done in parts))


def _publish(broker, prefix, share, options, timeout, ready, go, results) -> None:
    """One process's gates, until all are acked: (end, lags, resent, complete) on `results`."""
    gates = {gate_id: Gate(gate_id, payloads, lasts) for gate_id, payloads, lasts in share}
    news = threading.Condition()

    def on_ack(client, userdata, message) -> None:
        ack = uplink.parse_ack(message.payload)
        gate = gates.get(uplinkhost.parse_topic(message.topic)[1])
        if ack is None or gate is None or ack[1] <= gate.acked:
            return  # an older ack (another ingester's, late): nothing new is stored
        with news:
            gate.acked = ack[1]
            news.notify()

    subscribed = threading.Event()
    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=f"fleet-{uuid.uuid4().hex[:10]}")
    client.max_inflight_messages_set(1000)  # the broker's PUBACKs are not waited for one by one
    client.on_connect = lambda c, *_: c.subscribe(f"{prefix}/+/{uplink.ACK}", qos=1)
    client.on_subscribe = lambda *_: subscribed.set()
    client.on_message = on_ack
    client.connect(*broker)
    client.loop_start()
    subscribed.wait(30)
    ready.wait(60)
    go.wait()
    start = time.monotonic()
    for gate in gates.values():
        gate.progress_at = start
    resent, open_gates = 0, set(gates)
    with news:
        while open_gates and time.monotonic() - start < timeout:
            now = time.monotonic()
            for gate_id in list(open_gates):
                resent += _step(client, prefix, gates[gate_id], options, now)
                if gates[gate_id].acked >= gates[gate_id].lasts[-1]:
                    open_gates.discard(gate_id)
            news.wait(0.01)
    end = time.monotonic()
    client.loop_stop()
    client.disconnect()
    results.put((end, [lag for gate in gates.values() for lag in gate.lags], resent, not open_gates))


def _step(client, prefix: str, gate: Gate, options: dict, now: float) -> int:
    """The gate's lags for what is newly acked, then what it may send; the batches sent again."""
    done = gate.acked_batches()
    for batch in [b for b in gate.first_sent if b < done]:
        gate.lags.append(now - gate.first_sent.pop(batch))
    resent = 0
    topic = uplink.topic(prefix, gate.gate_id, uplink.JOURNAL)
    if done > gate.done:
        gate.done, gate.progress_at, gate.sent = done, now, max(gate.sent, done)
    elif gate.sent > done and now - gate.progress_at > options["resend_s"]:
        resent, gate.sent, gate.progress_at = gate.sent - done, done, now  # from the ack on, again
    while gate.sent < min(done + options["window"], len(gate.payloads)) \
            and now - gate.published_at >= options["pace_s"]:
        client.publish(topic, gate.payloads[gate.sent], qos=1)
        gate.first_sent.setdefault(gate.sent, now)
        gate.sent += 1
        gate.published_at = now
    return resent
