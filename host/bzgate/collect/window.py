"""What goes into one database transaction of `bzgate ingest`: the messages that arrive while
it fills, bounded by their records and by the time since the first came.

    window = gather(inbox, held, max_records=2000, max_s=0.2, idle_s=1.0)

A commit per message made the database's commit the cost of every batch of 20 records; a window
of many messages pays it once. The bound in time keeps the lag low when few messages come.
"""

import queue
import time
from dataclasses import dataclass

from bzcore import record


@dataclass
class Message:
    """One journal message as it came from the broker, and when it arrived (time.monotonic())."""
    gate_id: str
    payload: bytes
    mid: int
    qos: int
    arrived: float

    @property
    def records(self) -> int:
        return len(self.payload) // record.RECORD_SIZE


def gather(inbox: "queue.Queue[Message]", held: list[Message], max_records: int, max_s: float,
           idle_s: float) -> list[Message]:
    """`held` (messages offered again: they do not count against max_records, so they cannot
    crowd out the new ones they may wait for), then what waits in the inbox and what arrives,
    until max_records, or max_s after the first message arrived; [] when nothing came within
    idle_s."""
    window = list(held)
    deadline = time.monotonic() + max_s if window else None
    records = 0
    while records < max_records:
        try:
            message = inbox.get_nowait()  # what waits already goes in, however late it is
        except queue.Empty:
            timeout = idle_s if deadline is None else deadline - time.monotonic()
            if timeout <= 0:
                break
            try:
                message = inbox.get(timeout=timeout)
            except queue.Empty:
                break
        if deadline is None:
            deadline = message.arrived + max_s
        window.append(message)
        records += message.records
    return window
