"""Logged-in guards of the monitor's page: a random token per login (the page's cookie), its
CSRF token (sent back by the page in a header on every POST), and an expiry kept here, on the
server, whatever the browser does with the cookie.

    sessions = Sessions(); token = sessions.open("lan")
    session = sessions.get(token)   # Session(guard, csrf, expires) or None once expired
    sessions.close(token)           # logout
"""

import secrets
import threading
import time
from dataclasses import dataclass

LIFETIME_S = 12 * 3600  # a guard's shift; then the page asks again
SESSIONS_MAX = 1000  # logins kept at once: the oldest go first


@dataclass(frozen=True)
class Session:
    guard: str
    csrf: str
    expires: float


class Sessions:
    def __init__(self, lifetime_s: float = LIFETIME_S, clock=time.monotonic):
        self.lifetime_s, self.clock = lifetime_s, clock
        self._lock = threading.Lock()
        self._open: dict[str, Session] = {}

    def open(self, guard: str) -> str:
        token = secrets.token_urlsafe(32)
        with self._lock:
            self._forget_expired()
            while len(self._open) >= SESSIONS_MAX:
                del self._open[next(iter(self._open))]
            self._open[token] = Session(guard, secrets.token_urlsafe(32),
                                        self.clock() + self.lifetime_s)
        return token

    def get(self, token: str | None) -> Session | None:
        with self._lock:
            session = self._open.get(token or "")
            if session is not None and session.expires <= self.clock():
                del self._open[token]
                return None
            return session

    def close(self, token: str | None) -> None:
        with self._lock:
            self._open.pop(token or "", None)

    def _forget_expired(self) -> None:
        now = self.clock()
        for token in [t for t, s in self._open.items() if s.expires <= now]:
            del self._open[token]
