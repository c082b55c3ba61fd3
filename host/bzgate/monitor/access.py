"""Who is logged in to the monitor's page: a guard of the guards file (bzgate.monitor.guards),
by password, each login a server-side session (bzgate.monitor.sessions), guessing slowed by a
lockout (bzgate.monitor.lockout); every login, failed login, lockout and logout in the audit.

    access = Access(Guards("guards.json"), AuditLog(db))
    token, refusal = access.login("lan", "secret", "10.0.0.7")   # (token, None) or (None, why)
    access.session(token)   # the Session, or None: not logged in, expired, or no longer a guard
"""

from bzgate.monitor.auditlog import AuditLog
from bzgate.monitor.guards import Guards
from bzgate.monitor.lockout import LOCK_S, Lockout
from bzgate.monitor.sessions import Session, Sessions

WRONG = "wrong name or password"
LOCKED = (f"too many failed logins: this name or this computer is locked for {LOCK_S // 60} "
          "minutes; try again later, or ask IT")


class Access:
    def __init__(self, guards: Guards | None, audit: AuditLog):
        """guards None: nobody can log in (a monitor started without --guards)."""
        self.guards, self.audit = guards, audit
        self.sessions, self.lockout = Sessions(), Lockout()

    @property
    def enabled(self) -> bool:
        return self.guards is not None

    def login(self, name: str, password: str, address: str) -> tuple[str | None, str | None]:
        if self.guards is None:
            return None, "this monitor has no guards file: started without --guards"
        who = {"by": name, "address": address}
        if self.lockout.locked(name, address):
            self.audit.record("guard-login-locked", who)
            return None, LOCKED
        if not self.guards.check(name, password):
            locks = self.lockout.failed(name, address)
            self.audit.record("guard-login-failed", who)
            if locks:
                self.audit.record("guard-lockout", who)
            return None, LOCKED if locks else WRONG
        self.lockout.succeeded(name)
        self.audit.record("guard-login", who)
        return self.sessions.open(name), None

    def session(self, token: str | None) -> Session | None:
        session = self.sessions.get(token)
        if session is None or self.guards is None or session.guard not in self.guards.read():
            return None  # a guard removed from the file is logged out
        return session

    def logout(self, token: str | None) -> None:
        session = self.sessions.get(token)
        if session is not None:
            self.sessions.close(token)
            self.audit.record("guard-logout", {"by": session.guard})
