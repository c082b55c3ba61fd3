"""The local services some tests need: PostgreSQL and Mosquitto on their standard loopback ports.

`service` is the one place that decides what a test does when one is missing: it skips with
the reason, except under CI (the CI variable set), where a missing service fails the test; CI
must never skip them. `pg_url` gives a test a fresh PostgreSQL database of its own, dropped
afterwards; `db_target` runs a test once on an SQLite file and once on such a database.

Every virtual board a test starts registers in a folder of the test run's own
(BZSIM_REGISTRY), so `--all` on this machine never finds a test's board, nor a test someone's."""

import os

import pytest
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
