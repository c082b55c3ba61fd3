"""Guessing a guard's password made slow: after FAILURES_MAX failed logins within WINDOW_S for
one name, or ADDRESS_FAILURES_MAX from one client address, that name (or address) is locked
for LOCK_S, whatever password comes, the right one too.

    lockout = Lockout()
    if lockout.locked(name, address): ...   # refuse without checking the password
    lockout.failed(name, address)           # True: this failure locked it
    lockout.succeeded(name)

An address gets more tries than a name: several guards log in from the same desk PC.
"""

import threading
import time
from collections import defaultdict, deque

FAILURES_MAX = 5
ADDRESS_FAILURES_MAX = 20
WINDOW_S = 300
LOCK_S = 300
KEYS_MAX = 10000  # names and addresses tracked at once: a flood of made-up names must not grow it


class Lockout:
    def __init__(self, clock=time.monotonic):
        self.clock = clock
        self._lock = threading.Lock()
        self._failures: dict[tuple, deque] = defaultdict(deque)
        self._until: dict[tuple, float] = {}

    def _keys(self, name: str, address: str) -> tuple:
        return ((("name", name), FAILURES_MAX), (("address", address), ADDRESS_FAILURES_MAX))

    def locked(self, name: str, address: str) -> bool:
        with self._lock:
            now = self.clock()
            return any(self._until.get(key, 0) > now for key, _ in self._keys(name, address))

    def failed(self, name: str, address: str) -> bool:
        """Counts a failure; True when it locks the name or the address."""
        with self._lock:
            now, locked = self.clock(), False
            if len(self._failures) > KEYS_MAX:
                self._forget(now)
            for key, most in self._keys(name, address):
                times = self._failures[key]
                times.append(now)
                while times and times[0] <= now - WINDOW_S:
                    times.popleft()
                if len(times) >= most:
                    self._until[key] = now + LOCK_S
                    times.clear()
                    locked = True
            return locked

    def succeeded(self, name: str) -> None:
        with self._lock:
            self._failures.pop(("name", name), None)

    def _forget(self, now: float) -> None:
        for key in [k for k, times in self._failures.items() if not times or times[-1] <= now - WINDOW_S]:
            del self._failures[key]
        for key in [k for k, until in self._until.items() if until <= now]:
            del self._until[key]
