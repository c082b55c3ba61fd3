"""gate.mqtt, the uplink's MQTT client: its packets on the MicroPython interpreter against a
scripted broker (tests/firmware/fakebroker.py), and on a virtual gate, where what is not MQTT
from the broker is a counted error and a reconnect while the gate goes on deciding."""

import json

import pytest
from fakebroker import CONNECT, PUBLISH, SUBSCRIBE, FakeBroker, length, packet, publish
from gatekit import wait_until
from toolchain import REPO, micropython
from uplinkkit import FAST, press, uplink_config, wifi_args

DRIVER = REPO / "tests" / "firmware" / "mqtt_driver.py"
SESSION = ["connected", "subscribed", "published QoS 1", "published QoS 0", "alive"]


def text(value: bytes) -> bytes:
    return len(value).to_bytes(2, "big") + value


def drive(*args) -> list[str]:
    return micropython(DRIVER, *args, timeout=60).splitlines()


def test_remaining_lengths_take_one_to_four_bytes_and_a_fifth_is_refused():
    widths = [(0, "00"), (127, "7f"), (128, "8001"), (16383, "ff7f"), (16384, "808001"),
              (2097151, "ffff7f"), (2097152, "80808001"), (268435455, "ffffff7f")]
    assert [length(n).hex() for n, _ in widths] == [h for _, h in widths]  # the reference agrees
    assert drive("lengths") == [f"{n} {h} True" for n, h in widths] + [
        "ValueError remaining length longer than 4 bytes"]


def test_connect_asks_for_a_clean_session_with_a_retained_qos_1_will_and_the_login_given():
    head = b"\x00\x04MQTT\x04"
    will = text(b"board1") + text(b"p/g/online") + text(b"0")
    keepalive = b"\x00\x3c"
    # flags: user 0x80, password 0x40, will retain 0x20, will QoS 1 0x08, will 0x04, clean 0x02
    assert drive("connect") == [
        packet(CONNECT, head + b"\xee" + keepalive + will + text(b"gate") + text(b"secret")).hex(),
        packet(CONNECT, head + b"\xae" + keepalive + will + text(b"gate")).hex(),
        packet(CONNECT, head + b"\x2e" + keepalive + will).hex()]


def test_a_session_subscribes_takes_the_retained_ack_and_publishes_at_both_qos():
    ack = publish(b"p/g/ack", b'{"seq": 5}', pid=0x1234, retain=True)
    with FakeBroker(retained=ack) as broker:
        lines = drive("session", broker.port, 1)
    assert [line for line in lines if not line.startswith("message")] == SESSION
    assert 'message {"seq": 5}' in lines
    sent = broker.connections[0]
    assert sent[1] == packet(0x82, b"\x00\x01" + text(b"p/g/ack") + b"\x01")  # pid 1, QoS 1
    assert b"\x40\x02\x12\x34" in sent  # the PUBACK of the retained ack
    assert publish(b"p/g/journal", b"batch", pid=2) in sent
    assert publish(b"p/g/events", b"event") in sent


def test_a_publish_longer_than_the_receive_buffer_is_read_past_and_given_as_none():
    with FakeBroker(retained=publish(b"p/g/ack", b"x" * 1000, pid=7, retain=True)) as broker:
        lines = drive("session", broker.port, 1)
    assert "message None" in lines and [line for line in lines if line != "message None"] == SESSION
    assert b"\x40\x02\x00\x07" in broker.connections[0]


@pytest.mark.parametrize("answered, garbage, error", [
    (CONNECT, b"\xf0\x00", "ValueError packet 0xf0 of 0 bytes"),  # a reserved packet type
    (CONNECT, b"\x20\x03\x00\x00\x00", "ValueError packet 0x20 of 3 bytes"),  # CONNACK too long
    (CONNECT, b"\x20\xff\xff\xff\xff\x7f", "ValueError remaining length longer than 4 bytes"),
    (CONNECT, b"\x20\x02\x00\x05", "OSError the broker refused the connection: code 5"),
    (CONNECT, b"", "OSError the broker closed the connection"),
    (SUBSCRIBE, b"\x34\x05\x00\x01t\x00\x01", "ValueError PUBLISH 0x34 of 5 bytes"),  # QoS 2
    (SUBSCRIBE, b"\x30\x03\x00\x09t", "ValueError PUBLISH topic of 9 bytes in 3"),
    (SUBSCRIBE, b"\x90\x03\x00\x01\x80", "OSError the broker refused the subscription"),
    (PUBLISH, b"\x60\x02\x00\x02", "ValueError packet 0x60 of 2 bytes"),  # PUBREL, never asked for
], ids=["reserved type", "long CONNACK", "5-byte length", "refused", "closed", "QoS 2",
        "topic past the end", "subscription refused", "PUBREL"])
def test_what_is_not_the_answer_ends_the_connection_with_its_reason_and_the_next_one_works(
        answered, garbage, error):
    with FakeBroker([{answered: garbage}]) as broker:
        lines = drive("session", broker.port, 2)
    first = {CONNECT: [], SUBSCRIBE: SESSION[:1], PUBLISH: SESSION[:2]}[answered]
    assert lines == first + [error] + SESSION
    assert len(broker.connections) == 2


def test_a_broker_that_sends_garbage_after_every_connack_is_tried_ever_less_often(gate):
    """A CONNACK alone does not reset the backoff (1 s, 2 s, 4 s): else such a broker would
    take a reconnect every second, and the radio's time that BLE shares."""
    with FakeBroker([{SUBSCRIBE: b"\xf0\x00"}] * 4) as broker:
        board = gate(config={**uplink_config(broker.port), **FAST}, board_args=wifi_args())
        assert wait_until(lambda: len(broker.accepted_at) >= 4, 40), board.status()["uplink"]
        at = broker.accepted_at
        gaps = [later - earlier for earlier, later in zip(at, at[1:4])]
        assert gaps[2] >= 3.9 and gaps[1] >= 1.9, gaps
        assert board.status()["uplink"]["bad_packets"] >= 3


def test_garbage_from_the_broker_is_counted_and_the_gate_reconnects_and_keeps_deciding(gate):
    with FakeBroker([{SUBSCRIBE: b"\xf0\x00"}]) as broker:
        board = gate(config={**uplink_config(broker.port), **FAST}, board_args=wifi_args())
        assert wait_until(lambda: len(broker.connections) >= 2 and board.status()["uplink"]["up"], 30), \
            (broker.connections, json.dumps(board.status()["uplink"]))
        press(board, 2)
        assert wait_until(lambda: any(p[0] == PUBLISH | 2 and b"/journal" in p
                                      for p in broker.connections[-1]), 20), broker.connections[-1]
        status = board.status()
        uplink = status["uplink"]
        assert uplink["bad_packets"] == 1 and uplink["connects"] >= 2, uplink
        assert uplink["last_warning"] == "bad packet: packet 0xf0 of 0 bytes"
        assert status["decisions"] == 2 and "task-restart" not in status["alarms"], status
