# gate.mqtt on the MicroPython interpreter, for tests/firmware/test_gate_mqtt.py; one line per
# step, on stdout:
#   micropython mqtt_driver.py lengths          remaining lengths put and got back
#   micropython mqtt_driver.py connect          CONNECT packets, as hex
#   micropython mqtt_driver.py session PORT N   N tries of a session with the broker at PORT
import sys

import asyncio
from gate import mqtt


def lengths():
    buf = bytearray(5)
    for n in (0, 127, 128, 16383, 16384, 2097151, 2097152, 268435455):
        end = mqtt.put_length(buf, 0, n)
        print(n, bytes(buf[:end]).hex(), mqtt.get_length(buf, 0) == (n, end))
    try:
        mqtt.get_length(b"\xff\xff\xff\xff\x7f", 0)
    except ValueError as e:
        print("ValueError", e)


def connect():
    for user, password in ((b"gate", b"secret"), (b"gate", None), (None, None)):
        print(mqtt.connect_packet(b"board1", user, password, b"p/g/online", b"0", 60).hex())


def received(payload):
    print("message", None if payload is None else bytes(payload).decode())


async def session(port, tries):
    client = mqtt.Client(b"board1", b"gate", b"secret", b"p/g/online", b"0", 60, received)
    for _ in range(tries):
        try:
            await client.connect("127.0.0.1", port)
            print("connected")
            await client.subscribe(b"p/g/ack")
            print("subscribed")
            await client.publish(b"p/g/journal", b"batch", 1)
            print("published QoS 1")
            await client.publish(b"p/g/events", b"event")
            print("published QoS 0")
            await client.keep_alive()
            print("alive")
        except (OSError, ValueError) as e:
            print(type(e).__name__, e)
        client.close()


if sys.argv[1] == "lengths":
    lengths()
elif sys.argv[1] == "connect":
    connect()
else:
    asyncio.run(session(int(sys.argv[2]), int(sys.argv[3])))
