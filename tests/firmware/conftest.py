"""The firmware tests' own fixture (the `gate` fixture they share with tests/host is in
tests/conftest.py)."""

import pytest
from toolchain import install_packages


@pytest.fixture(scope="session")
def board_packages(tmp_path_factory):
    """A folder holding the firmware's packages as a board gets them (.mpy), for tests that run
    the interpreter on them directly."""
    flash = tmp_path_factory.mktemp("packages")
    install_packages(flash)
    return flash
