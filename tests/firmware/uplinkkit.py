"""The uplink tests' host: a paho subscriber that stores journal batches by (board, seq), as
the host's ingester does, and publishes the retained ack after storing; the gate's Wi-Fi and
MQTT config; decisions through a broker restart and a Wi-Fi drop.

    with PrivateBroker() as broker:           # services.PrivateBroker
        host = Host(broker.port, "bzgate", "test-gate")
        board = gate(config=uplink_config(broker.port), board_args=wifi_args())
        host.wait_for(lambda: len(host.records) >= 3)
"""

import threading
import time

import paho.mqtt.client as mqtt
from decisionkit import BUTTON

from bzcore import record, uplink, uplinkhost

SSID, PASSWORD = "gate-lan", "correct horse"
# wait_s 0: a press nobody's phone answers is a DENY at once, so each press is one decision
FAST = {"relay_pulse_ms": 200, "antipassback_s": 0, "wait_s": 0}
UPLINK_MODULE = "wrover"  # PSRAM: a WROOM-32 has no room for the MQTT client (README, "Heap")


def uplink_config(port, prefix="bzgate", **mqtt_fields):
    return {"wifi": {"ssid": SSID, "password": PASSWORD},
            "mqtt": {"host": "127.0.0.1", "port": port, "topic_prefix": prefix, **mqtt_fields}}


def wifi_args(module=UPLINK_MODULE):
    return ("--wifi", f"{SSID}:{PASSWORD}", "--module", module)


def press(board, n, timeout=15.0):
    """n presses with nobody at the gate: n DENY decisions. Each press waits for its decision
    (STATUS), as presses the gate has not yet taken when the machine is loaded would make one."""
    for _ in range(n):
        before = board.status()["decisions"]
        board.control.press(BUTTON, 0.1)
        deadline = time.monotonic() + timeout
        while board.status()["decisions"] == before:
            assert time.monotonic() < deadline, "a press made no decision"
            time.sleep(0.2)


def decide_through_outages(board, broker, gone, wifi_down_s=0.0, back=lambda: True):
    """Decisions before, during and after a broker restart and a Wi-Fi drop of at least
    wifi_down_s (back() tells when the gate is connected again after the restart, gone() when
    the broker has seen it go after the drop); the flushed journal once all 13 are on flash."""
    press(board, 3)
    broker.stop()  # mid-stream: the gate keeps deciding into its journal
    press(board, 3)
    broker.start()
    press(board, 2)
    assert back(), "the gate connected again after the broker's restart"
    board.control.wifi(False)  # the access point goes: the station's sockets are reset
    back = time.monotonic() + wifi_down_s
    press(board, 3)
    assert gone(), "the broker saw the gate go"
    time.sleep(max(0.0, back - time.monotonic()))
    board.control.wifi(True)
    press(board, 2)
    assert len(board.wait_records(record.DECISION, 13, timeout=20)) == 13
    with board.link() as link:
        return list(link.pull(0))


class Host:
    """Stores each gate's records by seq (a batch seen twice is stored once), then acks."""

    def __init__(self, port, prefix, gate_id, refuse_seq=None):
        self.topics = {leaf: uplink.topic(prefix, gate_id, leaf) for leaf in uplink.LEAVES}
        # The first batch holding this seq is dropped unstored, as an ingester refuses a batch
        # that came before its predecessor: the ack stays behind until the gate sends it again.
        self.refuse_seq = refuse_seq
        self.refused = 0
        self.records = {}  # seq -> 48 bytes
        self.batches = 0
        self.resent = 0  # records that came again (a batch resent across a reconnect)
        self.events = []
        self.online = []
        self.lock = threading.Lock()
        self.client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id="uplink-test-host")
        self.client.on_connect = self._on_connect
        self.client.on_message = self._on_message
        self.client.reconnect_delay_set(0.2, 1)
        self.client.connect_async("127.0.0.1", port)
        self.client.loop_start()

    def _on_connect(self, client, userdata, flags, reason, properties):
        client.subscribe([(self.topics[leaf], 1) for leaf in (uplink.JOURNAL, uplink.EVENTS,
                                                              uplink.ONLINE)])

    def _on_message(self, client, userdata, message):
        leaf = message.topic.rsplit("/", 1)[1]
        with self.lock:
            if leaf == uplink.JOURNAL:
                board, records = uplinkhost.decode_batch(message.payload)
                self.batches += 1
                seqs = [int.from_bytes(raw[:4], "big") for raw in records]
                if self.refuse_seq in seqs and not self.refused:
                    self.refused += 1
                    return
                for raw in records:
                    seq = int.from_bytes(raw[:4], "big")
                    if seq in self.records:
                        assert self.records[seq] == raw, f"seq {seq} came back different"
                        self.resent += 1
                    self.records[seq] = raw
                last = max(self.records)
                if all(s in self.records for s in range(last + 1)):  # stored without a gap
                    client.publish(self.topics[uplink.ACK], uplinkhost.ack_payload(board, last),
                                   qos=1, retain=True)
            elif leaf == uplink.EVENTS:
                self.events.append(message.payload)
            else:
                self.online.append(message.payload)

    def stored(self):
        with self.lock:
            return [self.records[s] for s in sorted(self.records)]

    def wait_for(self, check, timeout=30.0):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self.lock:
                if check():
                    return True
            time.sleep(0.1)
        return False

    def close(self):
        self.client.loop_stop()
        self.client.disconnect()
