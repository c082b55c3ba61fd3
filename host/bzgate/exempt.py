"""An exempt entry given by hand: a visitor the gate lets in without a Bluezone phone, for a
reason the guard chooses, with the note that explains it kept in the audit (the gate's journal
holds the reason only: a record has no room for text).

    reply = give_exempt(link, "paper-declaration", None, by="guard-1", conn=conn)
    # {"verdict": "exempt", "reason": ..., "n": ..., "seq": ..., "board_id": ...}

Free of click: the `bzgate gate exempt` command and the monitor's guard sessions both call it,
each with its own link and connection. Its checks come before the gate is asked anything, so a
refused exempt opens no door.
"""

from bzcore import record
from bzgate.link.serial import GateLink
from bzgate.store import audit
from bzgate.store.dialect import Connection
from bzgate.textsafety import has_control

REASONS = tuple(record.REASON_NAMES[code] for code in sorted(record.REASON_NAMES)
                if code != record.REASON_NONE)
NOTE_REQUIRED = (record.REASON_NAMES[record.STAFF_OVERRIDE],)  # a person decided: say why
NOTE_MAX = 200  # characters


class ExemptError(ValueError):
    """An exempt refused before the gate was asked: an unknown reason, or a note that is
    missing where it is required, too long, or holds control characters."""


def checked_note(reason: str, note: str | None) -> str | None:
    """The note to keep (None when none is given), or ExemptError saying what is wrong with
    the reason or the note."""
    if reason not in REASONS:
        raise ExemptError(f"unknown reason {reason!r}: give one of {', '.join(REASONS)}")
    note = (note or "").strip() or None
    if note is None:
        if reason in NOTE_REQUIRED:
            raise ExemptError(f"a {reason} needs a note saying who decided it and why")
        return None
    if len(note) > NOTE_MAX:
        raise ExemptError(f"the note has {len(note)} characters; at most {NOTE_MAX}")
    if has_control(note):
        raise ExemptError("the note holds control characters (a line break, a tab, an escape): "
                          "write it on one line")
    return note


def give_exempt(link: GateLink, reason: str, note: str | None, by: str, conn: Connection) -> dict:
    """Let one visitor in for `reason` (one of REASONS): the gate's reply, after the audit row
    (action "exempt") holding the note and who gave it (`by`). ExemptError before the gate is
    asked; LinkError when the gate refuses ("bad-reason", "count-mode") or does not answer."""
    note = checked_note(reason, note)
    gate_id = link.config_get()["gate_id"]  # not HELLO: that would restart a monitor's session
    reply = link.exempt(reason)
    audit.record(conn, "exempt", {"board_id": reply.get("board_id"), "seq": reply.get("seq"),
                                  "gate_id": gate_id, "reason": reason, "note": note, "by": by})
    return reply
