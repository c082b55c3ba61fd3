"""The MQTT broker the host's clients (`bzgate ingest`, `bzgate monitor --mqtt`) connect to:
its address, login and TLS (given on the command line as commands.options.broker_options), and
the paho client both connect with.

    --mqtt mqtts://ingest@broker.example:8883 --mqtt-password-file /etc/bzgate/mqtt.pass
    client = broker.client("bzgate-ingest-host", persistent=True, on_connect=..., ...)

The password never goes in the URL, where `ps` and the shell's history would show it: it comes
from --mqtt-password-file (the file's first line) or $BZGATE_MQTT_PASSWORD, and nothing prints
it (messages name the broker by `url`, which has none). mqtts:// checks the broker's
certificate and host name against the system's CAs, or only against --mqtt-ca's; there is no
way to turn the checks off.

A refused login or certificate does not mend by retrying, unlike a broker that is away:
`login_refused` and `certificate_refused` tell them apart for the clients' callbacks.
"""

import os
import ssl
import sys
from dataclasses import dataclass, field
from urllib.parse import quote, unquote, urlsplit

import paho.mqtt.client as mqtt
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from bzgate.errors import UserError

PASSWORD_ENV = "BZGATE_MQTT_PASSWORD"
PORTS = {"mqtt": 1883, "mqtts": 8883}
EXIT_BROKER = 1  # the broker refused the login, or its certificate was refused
LOGIN_REFUSED = (134, 135)  # CONNACK "Bad user name or password", "Not authorized" (MQTT 3.1.1: 4, 5)
KEEPALIVE_S = 30
RECONNECT_S = (1, 5)  # paho's wait before trying again, growing from the first to the second
SESSION_NEVER_EXPIRES = 0xFFFFFFFF  # MQTT 5 Session Expiry Interval: as MQTT 3's clean_session off


@dataclass
class Broker:
    host: str
    port: int = 1883
    user: str | None = None
    password: str | None = field(default=None, repr=False)
    tls: bool = False
    ca_file: str | None = None  # with tls: the only CA trusted; None: the system's

    @classmethod
    def from_url(cls, url: str, password: str | None = None, ca_file: str | None = None) -> "Broker":
        """mqtt://[USER@]HOST[:PORT] or mqtts://...; the password comes separately."""
        parts = urlsplit(url)
        if parts.password is not None:  # checked first: no message may repeat the URL
            raise UserError("--mqtt: a password does not go in the URL (ps and the shell's history "
                            f"show it): put it in ${PASSWORD_ENV} or in a file given with "
                            "--mqtt-password-file")
        if parts.scheme not in PORTS or not parts.hostname:
            raise UserError(f"--mqtt {url}: give the broker as mqtt://[USER@]HOST:PORT "
                            "(mqtts:// for TLS)")
        try:
            port = parts.port or PORTS[parts.scheme]
        except ValueError as e:  # a port that is not a number
            raise UserError(f"--mqtt {url}: {e}") from None
        user = unquote(parts.username) if parts.username else None
        if password is not None and user is None:
            raise UserError(f"--mqtt {url}: a password needs a user name: "
                            f"{parts.scheme}://USER@{parts.netloc}")
        tls = parts.scheme == "mqtts"
        if ca_file is not None and not tls:
            raise UserError(f"--mqtt-ca is for a broker with TLS: mqtts://{parts.netloc}")
        broker = cls(parts.hostname, port, user, password, tls, ca_file)
        if tls:
            broker.tls_context()  # a wrong --mqtt-ca is told now, not when connecting
        return broker

    @property
    def url(self) -> str:
        """The broker as messages name it: the URL --mqtt takes, never with the password."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        user = f"{quote(self.user, safe='')}@" if self.user is not None else ""
        return f"{'mqtts' if self.tls else 'mqtt'}://{user}{host}:{self.port}"

    def client(self, client_id: str, *, persistent: bool = False, acked_by_caller: int | None = None,
               on_connect, on_connect_fail, on_disconnect, on_message) -> mqtt.Client:
        """A paho client (callback API 2) for this broker, with its login and TLS, that connects
        when its loop starts and tries again while the broker is away. `persistent`: a session
        the broker keeps for `client_id` while the client is away (clean_session off).

        `acked_by_caller`: an MQTT 5 session in which the caller acknowledges each QoS 1 message
        itself (client.ack(mid, 1)) once it is done with it, and the broker sends up to that
        many messages not acknowledged yet (Receive Maximum); a persistent one never expires."""
        if acked_by_caller is None:
            client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=client_id,
                                 clean_session=not persistent)
            session = {}
        else:
            client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=client_id,
                                 protocol=mqtt.MQTTv5, manual_ack=True)
            properties = Properties(PacketTypes.CONNECT)
            properties.ReceiveMaximum = acked_by_caller
            if persistent:
                properties.SessionExpiryInterval = SESSION_NEVER_EXPIRES
            session = {"clean_start": not persistent, "properties": properties}
        self.configure(client)
        client.reconnect_delay_set(*RECONNECT_S)
        client.on_connect, client.on_connect_fail = on_connect, on_connect_fail
        client.on_disconnect, client.on_message = on_disconnect, on_message
        client.connect_async(self.host, self.port, keepalive=KEEPALIVE_S, **session)
        return client

    def configure(self, client) -> None:
        """Give a paho client this broker's login and TLS, before it connects."""
        if self.user is not None:
            client.username_pw_set(self.user, self.password)
        if self.tls:
            client.tls_set_context(self.tls_context())

    def tls_context(self) -> ssl.SSLContext:
        """Certificate and host name checked, against --mqtt-ca's CA or the system's."""
        try:
            return ssl.create_default_context(cafile=self.ca_file)
        except OSError as e:  # missing, unreadable, or no PEM certificate in it
            raise UserError(f"--mqtt-ca {self.ca_file}: {e.strerror or e}") from None

    def refusal(self, reason) -> str:
        """A refused CONNACK as a message; for a login, what to check."""
        if not login_refused(reason):
            return f"broker {self.url} refused the connection: {reason}"
        if self.user is None:
            fix = "give a user name, --mqtt mqtt[s]://USER@HOST, and its password"
        elif self.password is None:
            fix = f"give {self.user}'s password in ${PASSWORD_ENV} or --mqtt-password-file"
        else:
            fix = f"check the user name and the password (${PASSWORD_ENV} or --mqtt-password-file)"
        return f"broker {self.url} refused the login ({reason}): {fix}"

    def certificate_refused(self) -> str | None:
        """For paho's on_connect_fail: a message when the connection failed on the broker's
        certificate, None when the broker was only away (worth trying again)."""
        error = sys.exc_info()[1]  # paho calls on_connect_fail inside its `except OSError`
        if not isinstance(error, ssl.SSLCertVerificationError):
            return None
        trusted = f"--mqtt-ca {self.ca_file}" if self.ca_file else "this host's CAs (or give --mqtt-ca FILE)"
        return (f"broker {self.url}: its certificate is refused ({error.verify_message}); it must "
                f"be signed by {trusted} and name {self.host}")


def login_refused(reason) -> bool:
    """A CONNACK that refuses the user name or password (or their absence)."""
    return reason.is_failure and reason.value in LOGIN_REFUSED


def read_password(password_file: str | None) -> str | None:
    """--mqtt-password-file's first line (without its line end), else $BZGATE_MQTT_PASSWORD."""
    if password_file is None:
        return os.environ.get(PASSWORD_ENV) or None
    try:
        with open(password_file, encoding="utf-8") as f:
            return f.readline().rstrip("\r\n")
    except (OSError, UnicodeDecodeError) as e:
        raise UserError(f"--mqtt-password-file {password_file}: cannot read it "
                        f"({getattr(e, 'strerror', None) or e})") from None

