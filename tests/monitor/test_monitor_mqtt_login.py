"""`bzgate monitor --mqtt` on a broker that wants a login and speaks TLS (a private Mosquitto):
with its password file and the broker's CA the monitor sees a gate's decision; with a wrong
password, or without the broker's CA, it serves its page all the same, and says once on its log
(without the password) that the broker refused the login or its certificate was refused, while
paho keeps trying every few seconds."""

import socket
import threading
from contextlib import contextmanager
from dataclasses import replace

import paho.mqtt.client as mqtt
import pytest
from gatekit import wait_until
from monitorkit import Monitor
from services import PrivateBroker

from bzgate.link.broker import Broker

USERS = {"gate": "g4te-pass", "monitor": "m0nitor-pass"}


class CountingRelay:
    """A TCP relay on a port of its own to the broker's, counting the connections made through
    it: each of paho's attempts is one (TLS passes through untouched)."""

    def __init__(self, port: int):
        self.target = port
        self.server = socket.create_server(("127.0.0.1", 0))
        self.server.settimeout(0.2)
        self.port = self.server.getsockname()[1]
        self.connections = 0
        self._closed = threading.Event()
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while not self._closed.is_set():
            try:
                client, _ = self.server.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            self.connections += 1
            client.settimeout(None)
            upstream = socket.create_connection(("127.0.0.1", self.target))
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pipe, args=(a, b), daemon=True).start()

    @staticmethod
    def _pipe(a, b):
        try:
            while data := a.recv(65536):
                b.sendall(data)
        except OSError:
            pass
        finally:  # either side's end ends both ways (the other pipe's recv returns)
            for sock in (a, b):
                try:
                    sock.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
            a.close()

    def close(self):
        self._closed.set()
        self.server.close()


@contextmanager
def monitor_of(broker: PrivateBroker, where, password: str, ca_file: str | None = None,
               port: int | None = None):
    """`bzgate monitor` logged in as "monitor" with this password (in a file), trusting the
    broker's CA or `ca_file`; through `port` (a relay's) rather than the broker's own."""
    secret = where / "mqtt.pass"
    secret.write_text(password + "\nnot this line\n")
    url = replace(broker.as_user("monitor"), port=port or broker.port).url
    monitor = Monitor([], where / "m.db", where / "keys.json", where / "monitor.log",
                      ("--mqtt", url, "--mqtt-ca", ca_file or broker.ca_file,
                       "--mqtt-password-file", str(secret)))
    monitor.start()
    try:
        yield monitor
    finally:
        monitor.stop()


@contextmanager
def gate_client(broker: Broker):
    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2)
    broker.configure(client)
    client.connect(broker.host, broker.port)
    client.loop_start()
    try:
        yield client
    finally:
        client.loop_stop()
        client.disconnect()


def tiles(monitor: Monitor) -> dict:
    return {tile["gate_id"]: tile for tile in monitor.state()["gates"]}


def test_with_its_login_and_the_brokers_ca_the_monitor_sees_a_gates_decision(tmp_path):
    with PrivateBroker(users=USERS, tls=True) as private, \
            monitor_of(private, tmp_path, USERS["monitor"]) as monitor, \
            gate_client(private.as_user("gate")) as gate:
        gate.publish("bzgate/wifi-a/online", b"1", qos=1, retain=True).wait_for_publish(5)
        assert wait_until(lambda: "wifi-a" in tiles(monitor), 15), monitor.log.read_text()
        gate.publish("bzgate/wifi-a/events", b'{"verdict": "allow", "platform": "ios", "rssi": -50}')
        assert wait_until(lambda: (tiles(monitor)["wifi-a"]["last"] or {}).get("verdict") == "allow")
        assert tiles(monitor)["wifi-a"]["online"] and tiles(monitor)["wifi-a"]["error"] == ""
    log = monitor.log.read_text()
    assert f"the gates on mqtts://monitor@127.0.0.1:{private.port} (bzgate/+)" in log
    assert USERS["monitor"] not in log


@pytest.mark.parametrize("wrong", ["password", "ca"])
def test_a_refused_login_or_certificate_is_logged_once_and_the_page_is_served_all_the_same(
        tmp_path, wrong):
    with PrivateBroker(tls=True) as other, PrivateBroker(users=USERS, tls=True) as private:
        relay = CountingRelay(private.port)
        url = replace(private.as_user("monitor"), port=relay.port).url
        if wrong == "password":
            password, ca_file = "not-the-password", private.ca_file
            told = (f"broker {url} refused the login (Not authorized): check the user name and "
                    "the password ($BZGATE_MQTT_PASSWORD or --mqtt-password-file); trying again")
        else:
            password, ca_file = USERS["monitor"], other.ca_file
            told = (f"broker {url}: its certificate is refused (unable to get local issuer "
                    f"certificate); it must be signed by --mqtt-ca {ca_file} and name 127.0.0.1; "
                    "trying again")
        try:
            with monitor_of(private, tmp_path, password, ca_file, port=relay.port) as monitor:
                assert wait_until(lambda: told in monitor.log.read_text(), 10), monitor.log.read_text()
                # paho tries again every 1 to 5 s, one attempt at a time: once a third has
                # begun, the second was refused and its refusal handled
                assert wait_until(lambda: relay.connections >= 3, 20), relay.connections
                assert monitor.state()["gates"] == [] and monitor.process.poll() is None
        finally:
            relay.close()
    log = monitor.log.read_text()
    assert log.count(told) == 1 and "lost the broker" not in log, log
    assert password not in log
