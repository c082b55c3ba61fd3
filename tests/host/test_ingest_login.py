"""`bzgate ingest` on brokers that want a login, with TLS or not (private Mosquittos): the right
password stores a gate's batches; a wrong or missing login and a broker certificate it cannot
check end the command with a clear message and status 1 instead of retrying forever; a
password in the URL, a missing password file or CA file are refused before anything connects.
No message ever shows the password."""

import subprocess
from dataclasses import replace

import pytest
from click.testing import CliRunner
from collectkit import KEY, db_records
from ingestkit import PyGate, ingest_args, ingest_env, ingest_process, unique
from services import PrivateBroker

from bzgate.link.broker import Broker, read_password
from bzgate.cli import main
from bzgate.keys import KeyStore

BOARD = bytes.fromhex("30aea4c1d2e3")
USERS = {"gate": "g4te-pass", "ingest": "1ngest-pass"}


@pytest.fixture
def keys(tmp_path):
    key_store = KeyStore(tmp_path / "keys.json")
    key_store.put(BOARD.hex(), KEY, gate_id="front")
    return key_store


def stored_through(broker: PrivateBroker, keys: KeyStore, db) -> tuple[list[str], list[bytes]]:
    """A gate's journal through the broker into `bzgate ingest` (each with its own login):
    the ingester's log and the journal."""
    prefix = unique("t")
    with ingest_process(broker.as_user("ingest"), prefix, db, keys) as ingester:
        gate = PyGate(broker.as_user("gate"), prefix, "front", BOARD, KEY, 50)
        try:
            assert gate.sync(timeout=30)
        finally:
            gate.close()
        assert ingester.stop() == 0, ingester.log
    assert ingester.counts["stored"] == 3 and ingester.counts["broken"] == 0
    return ingester.log, gate.journal


def test_the_right_password_stores_a_gates_batches_and_shows_only_the_user(tmp_path, keys):
    db = tmp_path / "p.db"
    with PrivateBroker(users=USERS) as private:
        log, journal = stored_through(private, keys, db)
    assert db_records(db) == journal
    assert f"from mqtt://ingest@127.0.0.1:{private.port} into" in log[0]
    assert not any(password in line for line in log for password in USERS.values())


def test_mqtts_with_the_brokers_ca_stores_a_gates_batches(tmp_path, keys):
    db = tmp_path / "t.db"
    with PrivateBroker(users=USERS, tls=True) as private:
        log, journal = stored_through(private, keys, db)
    assert db_records(db) == journal
    assert f"connected to mqtts://ingest@127.0.0.1:{private.port}" in "".join(log)


def ended(broker: Broker, tmp_path, keys) -> subprocess.CompletedProcess:
    """`bzgate ingest` run to its end (the test fails if it is still trying after 30 s)."""
    return subprocess.run(ingest_args(broker, unique("t"), tmp_path / "x.db", keys),
                          env=ingest_env(broker), capture_output=True, text=True, timeout=30)


@pytest.mark.parametrize("login, told", [
    (("ingest", "not-the-password"), "check the user name and the password"),
    (("intruder", USERS["ingest"]), "check the user name and the password"),
    (("ingest", None), "give ingest's password in $BZGATE_MQTT_PASSWORD or --mqtt-password-file"),
    ((None, None), "give a user name, --mqtt mqtt[s]://USER@HOST, and its password"),
], ids=["wrong-password", "unknown-user", "no-password", "anonymous"])
def test_a_refused_login_ends_ingest_with_a_clear_message(tmp_path, keys, login, told):
    with PrivateBroker(users=USERS) as private:
        user, password = login
        run = ended(replace(private.broker, user=user, password=password), tmp_path, keys)
    assert run.returncode == 1, run.stderr
    last = run.stderr.strip().splitlines()[-1]
    assert last.startswith(f"bzgate: broker mqtt://{user + '@' if user else ''}127.0.0.1:"
                           f"{private.port} refused the login (Not authorized): {told}"), last
    assert "lost the broker" not in run.stderr and run.stdout == ""
    assert not any(secret in run.stderr for secret in ("not-the-password", *USERS.values()))


def test_mqtts_without_the_brokers_ca_ends_on_its_certificate(tmp_path, keys):
    with PrivateBroker(users=USERS, tls=True) as private:
        run = ended(replace(private.as_user("ingest"), ca_file=None), tmp_path, keys)
    assert run.returncode == 1, run.stderr
    assert (f"bzgate: broker mqtts://ingest@127.0.0.1:{private.port}: its certificate is refused "
            "(unable to get local issuer certificate); it must be signed by this host's CAs "
            "(or give --mqtt-ca FILE) and name 127.0.0.1") in run.stderr


def test_mqtts_with_another_ca_ends_on_its_certificate(tmp_path, keys):
    with PrivateBroker(tls=True) as other, PrivateBroker(tls=True) as private:
        run = ended(replace(private.broker, ca_file=other.ca_file), tmp_path, keys)
    assert run.returncode == 1, run.stderr
    assert f"it must be signed by --mqtt-ca {other.ca_file}" in run.stderr


def refused(*args: str, env: dict | None = None):
    result = CliRunner().invoke(main, ["ingest", *args], env=env)
    assert result.exit_code == 2, result.output
    return result.stderr


def test_a_password_in_the_url_is_refused_without_repeating_it():
    said = refused("--mqtt", "mqtts://ingest:s3cr3t@broker:8883")
    assert "a password does not go in the URL" in said and "$BZGATE_MQTT_PASSWORD" in said
    assert "--mqtt-password-file" in said and "s3cr3t" not in said


def test_the_url_forms_and_their_mistakes(tmp_path):
    assert Broker.from_url("mqtts://ingest@broker") == Broker("broker", 8883, "ingest", tls=True)
    assert Broker.from_url("mqtt://broker").port == 1883
    assert Broker.from_url("mqtt://a%40b@[::1]:1884", "pw").url == "mqtt://a%40b@[::1]:1884"
    assert "give the broker as mqtt://[USER@]HOST:PORT" in refused("--mqtt", "http://broker")
    assert "a password needs a user name: mqtt://USER@broker" in refused(
        "--mqtt", "mqtt://broker", env={"BZGATE_MQTT_PASSWORD": "pw"})
    assert "--mqtt-ca is for a broker with TLS: mqtts://broker" in refused(
        "--mqtt", "mqtt://broker", "--mqtt-ca", "ca.pem")
    missing = tmp_path / "nowhere.pem"
    assert f"--mqtt-ca {missing}: No such file or directory" in refused(
        "--mqtt", "mqtts://broker", "--mqtt-ca", str(missing))
    not_pem = tmp_path / "ca.pem"
    not_pem.write_text("not a certificate\n")
    assert f"--mqtt-ca {not_pem}: " in refused(
        "--mqtt", "mqtts://broker", "--mqtt-ca", str(not_pem))
    assert f"--mqtt-password-file {missing}: cannot read it (No such file or directory)" in refused(
        "--mqtt", "mqtt://u@broker", "--mqtt-password-file", str(missing))
    assert "--mqtt-password-file" in refused("--mqtt", "mqtt://u@broker", "--mqtt-password-file",
                                             str(tmp_path))  # a folder


def test_the_password_file_gives_its_first_line_and_wins_over_the_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("BZGATE_MQTT_PASSWORD", "from-env")
    assert read_password(None) == "from-env"
    given = tmp_path / "mqtt.pass"
    given.write_bytes(b"p@ss word\r\nsecond line\n")
    assert read_password(str(given)) == "p@ss word"
    monkeypatch.setenv("BZGATE_MQTT_PASSWORD", "")
    assert read_password(None) is None
