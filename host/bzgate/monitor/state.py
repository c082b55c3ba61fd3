"""What the monitor knows: one tile per gate and the last events across gates, shared by the
gate sessions (writers) and the web server (readers, through subscribe()).

    board = Board()
    board.add_gate("/dev/ttyUSB0", gate_id="front", site="Tòa nhà A")   # before it answers
    board.hello(port, hello, config); board.status(port, status); board.event(port, ev)
    q = board.subscribe()   # ("state" | "gate" | "event", dict) for every change

A gate is online while it replied within its offline threshold (OFFLINE_AFTER_S for a serial
link; an MQTT gate reports once a minute, so its source gives a longer one) and has not been
reported gone (went_offline: an MQTT last will); refresh() (called every second) turns the late
ones offline. Alarms are the gate's own (config-error, task-restart, heap-low,
journal-unreadable) plus what the host sees: offline, clock-invalid, storage-high (80 %),
storage-full, scanner-stalled, safe-mode and chain-error (a collection refused).
Today's counts (Vietnam's day): decisions in the database plus those seen live and not yet
collected; and from them, how many are inside now per site (bzgate.monitor.inside), with the
database's decisions of today at start (stored_at_start).

A press that finds no Bluezone phone near puts the gate into "checking" (a live
{"checking": {"n", "trigger", "wait_ms"}} event, or STATUS's "checking": true on a new session):
the tile's "checking" holds it until the next decision, the gate goes offline, or it is older
than its wait and CHECKING_GRACE_S (a decision event lost on the way). A DENY or NO_APP carries
no RSSI (None; gates from before sent 0, taken as None here too).

Each decision is shown once: the gate numbers them ("n", its count since boot), a live event,
the replay of those made while no stream ran and STATUS's last_decision may bring the same one,
and one numbered at or below the gate's count at the session's first STATUS is from before.
"""

import copy
import datetime as dt
import queue
import threading
import time
from collections import deque

from bzgate.localtime import LOCAL
from bzgate.monitor import inside

OFFLINE_AFTER_S = 30
STORAGE_HIGH = 0.8  # share of the journal's flash in use
STALL_SHOWN_S = 120  # a scan restarted for silence is an alarm this long
EVENTS_KEPT = 200
QUEUED_MAX = 1000  # changes waiting for one page
NUMBERS_KEPT = 64  # of each gate's decision numbers shown; a gate replays at most 16
VERDICTS = ("allow", "deny", "no-app", "exempt", "exit")
CHECKED = ("allow", "deny", "no-app")  # who had to show the app: compliance is their share
CHECKING_GRACE_S = 5.0  # past a check's wait, before the tile stops showing it
CHECKING_LONGEST_S = 15.0  # the longest wait a gate may be set to (config wait_s), when unknown
REFUSED = ("broken-chain", "gap", "rolled-back", "truncated")  # collect's refusals


def day_start(t: float) -> int:
    """Unix seconds of the start of t's day in Vietnam."""
    local = dt.datetime.fromtimestamp(t, LOCAL)
    return int(local.replace(hour=0, minute=0, second=0, microsecond=0).timestamp())


def status_alarms(status: dict) -> list[str]:
    """The alarms one STATUS reply shows by itself."""
    alarms = [str(a) for a in status.get("alarms") or []]
    storage = status.get("storage") or {}
    alarms += [str(a) for a in storage.get("alarms") or []]
    if not status.get("clock_valid", True):
        alarms.append("clock-invalid")
    if status.get("safe_mode"):
        alarms.append("safe-mode")
    used, free = storage.get("bytes", 0), storage.get("free_bytes", -1)
    if storage.get("storage_full"):
        alarms.append("storage-full")
    elif free >= 0 and used + free > 0 and used / (used + free) >= STORAGE_HIGH:
        alarms.append("storage-high")
    restarts = status.get("restarts") or [0, 0]
    if len(restarts) > 1 and restarts[1]:  # the radio had to be reset: its scan went silent
        alarms.append("scanner-stalled")
    return list(dict.fromkeys(alarms))


_STATUS_KINDS = {"mode": str, "clock_valid": bool, "safe_mode": bool, "decisions": int,
                 "alarms": list, "restarts": list, "storage": dict, "last_decision": dict,
                 "checking": bool, "presses_merged": int}
_STORAGE_KINDS = {"bytes": int, "free_bytes": int, "storage_full": bool, "alarms": list}


def status_problem(status: dict) -> str | None:
    """Why a status from outside the monitor's own links cannot be taken, or None: a field the
    tile uses, of the wrong kind (the board's state must not take it)."""
    for fields, kinds in ((status, _STATUS_KINDS), (status.get("storage") or {}, _STORAGE_KINDS)):
        for name, kind in kinds.items():
            if name in fields and not isinstance(fields[name], kind):
                return f"{name}: not a {kind.__name__}"
    restarts = status.get("restarts")
    if restarts is not None and not (len(restarts) == 2 and all(type(n) is int for n in restarts)):
        return "restarts: not [scan restarts, BLE resets]"
    return None


def new_tile(port: str, gate_id: str = "", site: str = "", source: str = "serial") -> dict:
    """source: "serial" (the monitor holds the link and collects) or "mqtt" (live events only;
    the journal comes through `bzgate ingest`)."""
    return {"port": port, "source": source, "gate_id": gate_id, "site": site, "board_id": "",
            "firmware": "", "online": False, "decisions": None, "seen": None, "mode": "", "clock_valid": None, "storage_pct": None,
            "last": None, "checking": None, "presses_merged": None,
            "today": dict.fromkeys(VERDICTS, 0), "compliance": None,
            "alarms": [], "collect": None, "error": ""}


def tile_from_status(tile: dict, status: dict) -> None:
    """A STATUS reply into a tile (the monitor's and `bzgate status`'s)."""
    storage = status.get("storage") or {}
    used, free = storage.get("bytes", 0), storage.get("free_bytes", -1)
    decisions = status.get("decisions")
    tile.update(mode=str(status.get("mode", "")), clock_valid=bool(status.get("clock_valid")),
                decisions=decisions if isinstance(decisions, int) else None,
                storage_pct=round(100 * used / (used + free)) if free >= 0 and used + free
                else None)
    if tile["last"] is None and isinstance(status.get("last_decision"), dict):
        tile["last"] = {**without_false_rssi(status["last_decision"]), "at": None}  # made before we watched
    if status.get("checking") is True:  # a press waiting for a phone; its event came before
        tile["checking"] = tile["checking"] or {"n": None, "trigger": None, "wait_ms": None,
                                                "at": None}
    elif "checking" in status:
        tile["checking"] = None
    merged = status.get("presses_merged")
    if type(merged) is int:
        tile["presses_merged"] = merged


def without_false_rssi(decision: dict) -> dict:
    """A decision as the page shows it: a DENY or NO_APP without a phone has no RSSI, which
    gates from before sent as 0."""
    if decision.get("rssi") == 0 and decision.get("id") is None \
            and decision.get("verdict") in ("deny", "no-app"):
        return {**decision, "rssi": None}
    return decision


class Board:
    def __init__(self, clock=time.time):
        self.clock = clock
        self._lock = threading.Lock()
        self._tiles: dict[str, dict] = {}
        self._private: dict[str, dict] = {}  # per port: counts stored, counts live, restarts
        self._events: deque = deque(maxlen=EVENTS_KEPT)
        self._subscribers: list[queue.Queue] = []
        self._at_start: dict = {}  # today's decisions in the database at start, by board
        self._at_start_day = day_start(clock())
        self._sites: dict[str, int] = {}

    # --- readers ----------------------------------------------------------------------
    def snapshot(self) -> dict:
        with self._lock:
            return self._state()

    def subscribe(self) -> queue.Queue:
        """A queue of changes, starting with the whole state."""
        q: queue.Queue = queue.Queue(maxsize=QUEUED_MAX)
        with self._lock:
            self._subscribers.append(q)
            q.put(("state", self._state()))
        return q

    def unsubscribe(self, q: queue.Queue) -> None:
        with self._lock:
            if q in self._subscribers:
                self._subscribers.remove(q)

    # --- writers (the gate sessions) ---------------------------------------------------
    def add_gate(self, port: str, gate_id: str = "", site: str = "", source: str = "serial",
                 offline_after: float = OFFLINE_AFTER_S) -> None:
        with self._lock:
            self._tiles.setdefault(port, new_tile(port, gate_id, site, source))
            self._private.setdefault(port, {"stored": dict.fromkeys(VERDICTS, 0),
                                            "live": dict.fromkeys(VERDICTS, 0),
                                            "day": day_start(self.clock()),
                                            "restarts": None, "stalled_at": None,
                                            "floor": None, "shown": set(), "last_n": None,
                                            "gone": False, "offline_after": offline_after,
                                            "collected": False})
            self._changed(port)

    def stored_at_start(self, by_board: dict) -> None:
        """Today's decisions already in the database (inside.stored_today)."""
        with self._lock:
            self._at_start, self._at_start_day = by_board, day_start(self.clock())
            self._count_inside()

    def hello(self, port: str, hello: dict, config: dict) -> None:
        with self._lock:
            tile = self._tiles[port]
            tile.update(gate_id=str(hello.get("gate_id") or tile["gate_id"]),
                        board_id=str(hello.get("board_id", "")),
                        firmware=str(hello.get("firmware", "")),
                        site=str(config.get("site", tile["site"])), error="")
            self._forget_numbers(port)  # the gate's count is taken again at STATUS
            tile["checking"] = None  # and whether it is checking
            self._seen(port)

    def status(self, port: str, status: dict) -> None:
        with self._lock:
            tile, private = self._tiles[port], self._private[port]
            tile_from_status(tile, status)
            if tile["checking"] and tile["checking"]["at"] is None:
                tile["checking"]["at"] = self.clock()
            restarts = status.get("restarts") or [0, 0]
            if private["restarts"] is not None and restarts[0] > private["restarts"]:
                private["stalled_at"] = self.clock()  # the gate restarted a silent scan
            private["restarts"] = restarts[0]
            private["status_alarms"] = status_alarms(status)
            self._missed_decisions(port, status)
            self._seen(port)

    def event(self, port: str, event: dict) -> None:
        """A live EV line: a decision, a check begun, or an alarm."""
        with self._lock:
            if "verdict" in event:
                if self._new_decision(port, event.get("n")):
                    self._decided(port, without_false_rssi(event))
            elif "checking" in event:
                self._checking(port, event["checking"])
            else:
                self._log(port, {"kind": "alarm", "alarm": str(event.get("alarm", ""))})
            self._seen(port)

    def replied(self, port: str) -> None:
        with self._lock:
            self._seen(port)

    def lost(self, port: str, why: str) -> None:
        with self._lock:
            self._tiles[port]["error"] = why
            self._changed(port)

    def went_offline(self, port: str, why: str) -> None:
        """The gate said it is gone (its MQTT last will): offline now, until it is heard again."""
        with self._lock:
            self._private[port]["gone"] = True
            self._tiles[port]["error"] = why
            self._changed(port)

    def counts_stored(self, port: str, today: dict, new: dict) -> None:
        """Today's decisions in the database after a collection, `new` of them stored by it:
        those were counted live already."""
        with self._lock:
            private = self._private[port]
            self._roll_day(port)
            private["stored"] = {v: int(today.get(v, 0)) for v in VERDICTS}
            private["live"] = {v: max(0, n - int(new.get(v, 0)))
                               for v, n in private["live"].items()}
            private["collected"] = True
            self._changed(port)

    def collected(self, port: str, summary: dict) -> None:
        with self._lock:
            result = str(summary.get("result", ""))
            stored = summary.get("stored") or {}
            self._tiles[port]["collect"] = {"result": result, "at": self.clock(),
                                            "records": int(stored.get("records", 0)),
                                            "message": str(summary.get("message", ""))}
            if result != "ok" or stored.get("records"):
                self._log(port, {"kind": "collect", "result": result,
                                 "records": int(stored.get("records", 0))})
            self._changed(port)

    def refresh(self) -> None:
        """Turn gates silent for OFFLINE_AFTER_S offline (and a new day's counts to zero)."""
        with self._lock:
            for port in self._tiles:
                self._roll_day(port)
                self._changed(port)

    # --- inside the lock ---------------------------------------------------------------
    def _seen(self, port: str) -> None:
        self._tiles[port].update(seen=self.clock(), error="")  # heard: what went wrong is over
        self._private[port]["gone"] = False
        self._changed(port)

    def _forget_numbers(self, port: str, floor: int | None = None) -> None:
        """A new session or a reboot: decisions numbered up to floor are from before."""
        self._private[port].update(floor=floor, shown=set(), last_n=None)

    def _highest(self, port: str) -> int | None:
        private = self._private[port]
        return max(private["shown"], default=private["floor"])

    def _new_decision(self, port: str, n) -> bool:
        """Whether the decision numbered n is still to be shown (and from now on, shown)."""
        private, highest = self._private[port], self._highest(port)
        if type(n) is not int:  # a gate that does not number them: the next one
            if highest is None:
                return True
            n = highest + 1
        if (private["floor"] is not None and n <= private["floor"]) or n in private["shown"]:
            return False
        private["shown"].add(n)
        if len(private["shown"]) > NUMBERS_KEPT:
            private["shown"].discard(min(private["shown"]))
        return True

    def _checking(self, port: str, check) -> None:
        """A press found no phone near: the gate checks until its decision numbered n."""
        if not isinstance(check, dict):
            return
        n, wait = check.get("n"), check.get("wait_ms")
        highest = self._highest(port)
        if type(n) is int and highest is not None and n <= highest:
            return  # a replay: that decision was shown already
        self._tiles[port]["checking"] = {
            "n": n if type(n) is int else None, "trigger": str(check.get("trigger") or ""),
            "wait_ms": wait if type(wait) is int else None, "at": self.clock()}

    def _decided(self, port: str, decision: dict) -> None:
        private, n = self._private[port], decision.get("n")
        tile = self._tiles[port]
        if type(n) is not int or private["last_n"] is None or n > private["last_n"]:
            private["last_n"] = n if type(n) is int else None
            tile["last"] = {**decision, "at": self.clock()}  # a replay is older
        checked = (tile["checking"] or {}).get("n")
        if type(n) is not int or checked is None or n >= checked:
            tile["checking"] = None  # the check's decision (or one after it): it is over
        verdict = str(decision["verdict"])
        if verdict in VERDICTS:
            self._roll_day(port)
            self._private[port]["live"][verdict] += 1
        self._log(port, {"kind": "decision", **decision})

    def _missed_decisions(self, port: str, status: dict) -> None:
        """The gate's last decision if no stream brought it (the gate replays the others when
        the next stream starts; a full queue loses the oldest, so this one stays shown)."""
        total, last = status.get("decisions"), status.get("last_decision")
        highest = self._highest(port)
        if type(total) is not int:
            return
        if highest is None or total < highest:  # a new session, a reboot
            self._forget_numbers(port, total)
        elif total > highest and isinstance(last, dict):
            if self._new_decision(port, last["n"] if type(last.get("n")) is int else total):
                self._decided(port, last)

    def _roll_day(self, port: str) -> None:
        private, today = self._private[port], day_start(self.clock())
        if private["day"] != today:
            private.update(day=today, stored=dict.fromkeys(VERDICTS, 0),
                           live=dict.fromkeys(VERDICTS, 0))
        if self._at_start_day != today:
            self._at_start, self._at_start_day = {}, today

    def _changed(self, port: str) -> None:
        """Work out the tile's derived fields; tell subscribers when the tile differs."""
        tile, private, now = self._tiles[port], self._private[port], self.clock()
        before = dict(tile)
        online = (not private["gone"] and tile["seen"] is not None
                  and now - tile["seen"] < private["offline_after"])
        alarms = list(private.get("status_alarms", [])) if online else ["offline"]
        if private["stalled_at"] is not None and now - private["stalled_at"] < STALL_SHOWN_S:
            alarms.append("scanner-stalled")
        if tile["collect"] and tile["collect"]["result"] in REFUSED:
            alarms.append("chain-error")
        today = {v: private["stored"][v] + private["live"][v] for v in VERDICTS}
        decided = sum(today[v] for v in CHECKED)
        check = tile["checking"]
        if check and (not online or now - check["at"] > CHECKING_GRACE_S + (
                check["wait_ms"] / 1000 if check["wait_ms"] is not None else CHECKING_LONGEST_S)):
            tile["checking"] = None
        tile.update(online=online, alarms=list(dict.fromkeys(alarms)), today=today,
                    compliance=round(100 * today["allow"] / decided) if decided else None)
        if online != before["online"] and before["seen"] is not None:
            self._log(port, {"kind": "online" if online else "offline"})
        # A writer's change or a derived field's; not each reply's time alone (the page shows
        # it once the gate is offline, which is a change of its own).
        shown = {key: value for key, value in tile.items() if key != "seen"}
        if shown != private.get("published"):
            private["published"] = copy.deepcopy(shown)
            self._publish("gate", dict(tile))
        self._count_inside()

    def _count_inside(self) -> None:
        sites = inside.by_site([(tile, tile["today"], self._private[port]["collected"])
                                for port, tile in self._tiles.items()], self._at_start)
        if sites != self._sites:
            self._sites = sites
            self._publish("sites", self._site_list())

    def _site_list(self) -> list[dict]:
        return [{"site": site, "inside": n} for site, n in self._sites.items()]

    def _log(self, port: str, entry: dict) -> None:
        tile = self._tiles[port]
        entry = {"at": self.clock(), "port": port, "gate_id": tile["gate_id"], "site": tile["site"],
                 **entry}
        self._events.appendleft(entry)
        self._publish("event", entry)

    def _state(self) -> dict:
        return {"gates": [dict(t) for t in self._tiles.values()], "events": list(self._events),
                "sites": self._site_list()}

    def _publish(self, kind: str, data: dict) -> None:
        for q in self._subscribers:
            try:
                q.put_nowait((kind, data))
            except queue.Full:  # a page that stopped reading: it starts over from the whole state
                with q.mutex:
                    q.queue.clear()
                q.put_nowait(("state", self._state()))
