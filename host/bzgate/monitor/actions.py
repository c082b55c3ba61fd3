"""What a logged-in guard may ask of the gates from the page, each in the audit with the
guard's name: collect now, and an exempt entry (the door opened for a visitor without a phone,
through bzgate.exempt on the gate's own session thread, which holds its serial link).

    actions = GateActions(sessions, AuditLog(db))
    actions.collect_now(None, by="lan")                       # the ports asked
    actions.exempt(port, "no-smartphone", None, by="lan")     # the gate's reply
"""

from bzgate.exempt import give_exempt
from bzgate.monitor.auditlog import AuditLog
from bzgate.monitor.gate import GateSession


class NoDoorHere(LookupError):
    """No serial gate on that port: unknown, or a Wi-Fi gate (it takes no door command over
    MQTT)."""


class GateActions:
    def __init__(self, sessions: dict[str, GateSession], audit: AuditLog):
        self.sessions, self.audit = sessions, audit

    def collect_now(self, port: str | None, by: str) -> list[str]:
        asked = [p for p in self.sessions if port in (None, "", p)]
        for p in asked:
            self.sessions[p].collect_now.set()
        if asked:
            self.audit.record("collect-now", {"by": by, "ports": asked})
        return asked

    def exempt(self, port: str, reason: str, note: str | None, by: str) -> dict:
        """ExemptError (a reason or note refused), LinkError (the gate refused or is away)."""
        session = self.sessions.get(port)
        if session is None:
            raise NoDoorHere(port)
        return session.call(lambda link, conn: give_exempt(link, reason, note, by=by, conn=conn))
