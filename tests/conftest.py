"""Fixtures of every test folder: the local services some tests need, and the boards and peers
tests start, stopped after them.

`service` is the one place that decides what a test does when PostgreSQL or Mosquitto (on their
standard loopback ports) is missing: it skips with the reason, except under CI (the CI variable
set), where a missing service fails the test; CI must never skip them. `pg_url` gives a test a
fresh PostgreSQL database of its own, dropped afterwards; `db_target` runs a test once on an
SQLite file and once on such a database.

    def test_x(gate):          # gate(**gatekit.start_gate's args): a gate board and its air
        board = gate(config={"mode": "monitor"}, phones=[phone("an", "android")])
    def test_y(scripted):      # scripted(answer): a linkkit.ScriptedGate on a pty
        peer = scripted(lambda req_id, command, args, error: ok(req_id, {}))

Every virtual board a test starts registers in a folder of the test run's own
(BZSIM_REGISTRY), so `--all` on this machine never finds a test's board, nor a test someone's."""

import os

import pytest
from gatekit import start_gate, stop_gate
from linkkit import ScriptedGate
from services import DB_KINDS, SERVICES, missing, new_database, reachable


@pytest.fixture(scope="session", autouse=True)
def private_board_registry(tmp_path_factory):
    os.environ["BZSIM_REGISTRY"] = str(tmp_path_factory.mktemp("registry"))


@pytest.fixture(scope="session")
def service():
    """service(name): go on when the named local service answers; skip (fail under CI) when not."""
    def need(name: str) -> None:
        host, port = SERVICES[name]
        if reachable(host, port):
            return
        missing(f"{name} is not running on {host}:{port} (start it to run this test)")
    return need


@pytest.fixture
def pg_url(service, tmp_path):
    with new_database("postgresql", tmp_path, service) as url:
        yield url


@pytest.fixture(params=DB_KINDS)
def db_target(request, service, tmp_path):
    """The same test on an SQLite file and on a fresh PostgreSQL database (a URL)."""
    with new_database(request.param, tmp_path, service) as target:
        yield target


@pytest.fixture
def gate(tmp_path):
    started = []

    def start(**args):
        board = start_gate(tmp_path / f"gate{len(started)}", **args)
        started.append(board)
        return board

    yield start
    for board in started:
        stop_gate(board)


@pytest.fixture
def scripted():
    peers = []

    def start(answer):
        peers.append(ScriptedGate(answer))
        return peers[-1]

    yield start
    for peer in peers:
        peer.close()
