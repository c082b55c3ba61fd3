"""One thread per gate holding its serial link for the monitor: HELLO, STATUS every
STATUS_EVERY_S, live EVENTS streamed in between, and a collection (bzgate.collect.board: verified,
acked, stored) every COLLECT_EVERY_S or when asked. A lost link is opened again every RETRY_S.
Anything else asked of the gate (a guard's exempt) is a job run on this thread between streams,
within JOB_WAIT_S of being asked.

    session = GateSession(port, board, db_path, keys); session.start()
    session.collect_now.set(); session.call(lambda link, conn: ...); session.stop()

The port is opened with its flock (exclusive), so `bzgate collect` cannot fight for it.
"""

import queue
import threading
import time
from concurrent.futures import Future

import serial

from bzgate import store
from bzgate.collect.board import CollectError, collect
from bzgate.keys import KeyStore
from bzgate.link.ports import PROBE_TIMEOUT
from bzgate.link.serial import GateLink, LinkError
from bzgate.monitor.state import VERDICTS, Board, day_start, new_tile, status_alarms, tile_from_status

STATUS_EVERY_S = 3.0
COLLECT_EVERY_S = 60.0
RETRY_S = 2.0
LINK_TIMEOUT_S = 2.0
LINK_RETRIES = 2
JOB_WAIT_S = 1.0  # the longest a stream runs before a job waiting for the link is taken
CALL_TIMEOUT_S = 15.0  # a job not started by then is given up (the gate is not answering)


class GateSession(threading.Thread):
    def __init__(self, port: str, board: Board, db_path, keys: KeyStore):
        super().__init__(name=f"gate {port}", daemon=True)
        self.port, self.board, self.db_path, self.keys = port, board, db_path, keys
        self.collect_now = threading.Event()
        self._stopping = threading.Event()
        self._jobs: queue.Queue = queue.Queue()
        self._linked = threading.Event()  # a session with the gate is open

    def stop(self) -> None:
        self._stopping.set()

    def call(self, job, timeout: float = CALL_TIMEOUT_S):
        """job(link, conn) run on this thread: its result, or the exception it raised. LinkError
        "no-reply" when the gate is not linked now, or the job could not start within timeout
        (it never runs then: a door must not open minutes after it was asked)."""
        if not self._linked.is_set():
            raise LinkError("no-reply", f"{self.port}: the gate is not connected")
        future: Future = Future()
        self._jobs.put((job, future))
        try:
            return future.result(timeout)
        except TimeoutError:
            if future.cancel():
                raise LinkError("no-reply", f"{self.port}: the gate did not answer in time") from None
            return future.result()  # it had started: its own answer

    def run(self) -> None:
        conn = store.open_store(self.db_path)  # SQLite connections stay in their thread
        try:
            while not self._stopping.is_set():
                try:
                    with GateLink(self.port, timeout=LINK_TIMEOUT_S, retries=LINK_RETRIES,
                                  exclusive=True) as link:
                        try:
                            self._linked.set()
                            self._serve(conn, link)
                        finally:
                            self._linked.clear()
                except (LinkError, serial.SerialException, OSError) as e:
                    self.board.lost(self.port, str(e))
                except Exception as e:  # noqa: BLE001 - a reply nobody foresaw: watch on
                    self.board.lost(self.port, f"unexpected reply: {e!r}")
                self._stopping.wait(RETRY_S)
        finally:
            conn.close()

    def _serve(self, conn, link: GateLink) -> None:
        hello = link.hello()
        self.board.hello(self.port, hello, link.config_get())
        collect_due = 0.0
        while not self._stopping.is_set():
            self.board.status(self.port, link.status())
            if self.collect_now.is_set() or time.monotonic() >= collect_due:
                self.collect_now.clear()
                self._collect(conn, link, hello)
                collect_due = time.monotonic() + COLLECT_EVERY_S
            self._run_jobs(conn, link)
            self._stream(link, time.monotonic() + STATUS_EVERY_S)
            self.board.replied(self.port)

    def _woken(self) -> bool:
        return self._stopping.is_set() or self.collect_now.is_set() or not self._jobs.empty()

    def _stream(self, link: GateLink, until: float) -> None:
        """Live events until a time, or until something else is asked of the gate."""
        while (left := until - time.monotonic()) > 0 and not self._woken():
            for event in link.events(min(left, JOB_WAIT_S)):
                self.board.event(self.port, event)
                if self._woken():
                    break  # the next request ends the stream

    def _run_jobs(self, conn, link: GateLink) -> None:
        while True:
            try:
                job, future = self._jobs.get_nowait()
            except queue.Empty:
                return
            if not future.set_running_or_notify_cancel():
                continue  # given up by the one who asked
            try:
                future.set_result(job(link, conn))
            except Exception as e:  # noqa: BLE001 - the asker gets it, as if it ran there
                future.set_exception(e)
                if isinstance(e, (serial.SerialException, OSError)) or (
                        isinstance(e, LinkError) and e.code == "no-reply"):
                    raise  # the link is in doubt: a new session (a gate's refusal is not)

    def _collect(self, conn, link: GateLink, hello: dict) -> None:
        try:
            summary = collect(conn, link, hello, self.keys, self.port)
        except CollectError as e:
            summary = e.summary
        self.board.collected(self.port, summary)
        board_id = summary.get("board_id")
        if board_id:
            today = day_start(time.time())
            new = range(int(summary.get("from_seq", 0)), int(summary.get("next_seq", 0)))
            self.board.counts_stored(self.port, _verdicts(conn, board_id, today),
                                     _verdicts(conn, board_id, today, new))
        if summary.get("result") == "gate-error":
            raise LinkError("no-reply", str(summary.get("message", "")))


def _verdicts(conn, board_id: str, since: int, seqs: range | None = None) -> dict:
    """Decisions per verdict a board made since a time (within a span of seqs)."""
    sql = "SELECT verdict, count(*) FROM decisions WHERE board_id = ? AND time >= ?"
    args: list = [board_id, since]
    if seqs is not None:
        sql += " AND seq >= ? AND seq < ?"
        args += [seqs.start, seqs.stop]
    counts = dict(conn.execute(sql + " GROUP BY verdict", args).fetchall())
    return {v: counts.get(v, 0) for v in VERDICTS}


def gate_tile(port: str, named: bool = True) -> dict | None:
    """The tile of the gate on a port; None for an unnamed port where no gate answers."""
    tile = new_tile(port)
    try:
        with GateLink(port, timeout=3.0 if named else PROBE_TIMEOUT, retries=2 if named else 0,
                      exclusive=True) as link:
            hello = link.hello()
            config, status = link.config_get(), link.status()
    except LinkError as e:
        if not named and e.code != "busy":
            return None
        tile.update(error=e.message, alarms=["busy" if e.code == "busy" else "offline"])
        return tile
    tile.update(gate_id=str(hello.get("gate_id", "")), board_id=str(hello.get("board_id", "")),
                firmware=str(hello.get("firmware", "")), site=str(config.get("site", "")),
                online=True, decisions=status.get("decisions"), alarms=status_alarms(status))
    tile_from_status(tile, status)
    return tile
