# ESP32 additions to `os` for the virtual board (never deployed).
from uos import *  # noqa: F401,F403  (the built-in module)


def sync():
    """A no-op on LittleFS, as on the port: only flush()/close() commit data."""

