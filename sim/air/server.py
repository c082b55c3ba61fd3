"""The simulated air: one process (or thread) that every virtual board's radio connects to.

Boards connect over TCP (sim/link.py framing) and speak the message set defined in
sim/shims/bluetooth.py. The air keeps one clock, starting at the scenario's `start` when the
air starts and running at real speed; it moves the visitors, sends each advert to every board
that hears it (RSSI from distance, path loss and noise; a scan hears only inside its duty
cycle window), runs connections and GATT reads with simulated connection time, and reports
events (a visitor pressing a gate's button, boards joining and leaving).

Python control API (for tests, the demo and the board bridge):

    air = Air(scenario.load("office.json")).start()   # or Air(None): a quiet office
    air.address            -> "127.0.0.1:PORT" for BZSIM_AIR
    air.now()              -> scenario time, Unix seconds (float, UTC)
    air.elapsed()          -> seconds since the air started
    air.phones()           -> [{"name", "platform", "gate", "present", "advertising", "app",
                                "addr_type", "address", "id", "advertised_id", "position"}]
                              (id and advertised_id: upper hex of 12-byte IDs, or the v1 code;
                              address: the random address it advertises from now; app: "open",
                              "background" or "none")
    air.boards()           -> [{"name", "mac", "gate", "position", "scanning", "advertising",
                                "listening", "missed"}]
                              (listening: the share of its scan time a board's receiver was
                              not taken by its own advertising; missed: adverts lost so)
    air.history(phone)     -> the phone's Bluezone history file (text, docs/protocol.md §5.4):
                              the IDs it heard in adverts, gates' checkpoint beacons included
                              (bzsim.air.history)
    events = air.subscribe()   a queue.Queue of event dicts:
                              {"event": "press", "t": unix, "gate": name, "phone": name,
                               "platform": the phone's scenario platform, "app": "open" |
                               "background" | "none" (at that press), "attempt": 1 or 2}
                              {"event": "visitor", "t": unix, "gate", "phone", "platform",
                               "outcome": "entered" | "turned-away" | "gave-up", "attempts": n}
                              (visitors queue at their gate and react to its relay and red LED:
                              bzsim.air.visitors)
                              {"event": "board", "t": unix, "board": name, "joined": bool}
                              {"event": "wifi", "t": unix, "gate": name, "up": bool}
                              (a gate's access point going or coming back in an outage)
    air.gate_signal(board, relay, red, green)   as if that board's outputs changed (1: on)
    air.gates()            -> the scenario's gate names ([] for a quiet office)
    air.bad_frames         -> how many malformed frames boards sent (each ignored)
    air.pace()             -> whether the air keeps real time: {"t": its clock (elapsed()),
                              "played_to": the scenario time of the last thing it did,
                              "behind_s": how long the oldest thing due has waited (0: none),
                              "sent": adverts put on air so far, "cpu_s": CPU time its loop
                              thread took}; cpu_s / played_to is the share of a core the
                              scenario costs (it keeps up while well under 1)
    Air(scenario, hold_visitors=True) ... air.release_visitors(crowd_s=None)
                              nobody comes until released (boards boot first); then the
                              scenario's phones come with their times counted from that
                              moment, and the crowd for crowd_s seconds (None: without end)
    air.stop()

Over TCP, a client that sends SUBSCRIBE gets the same events as EVENT frames (JSON), one that
sends WIFI_QUERY gets the access point at a board's gate (bzsim.air.wifi), one that sends
GATES_QUERY the scenario's gate names (GATES, a JSON list; `ask_gates(address)`), and a board
bridge sends GATE_SIGNAL (JSON {"board", "relay", "red", "green"}, 1 = on) on its SUBSCRIBE
connection whenever those outputs change: the gate's answer its visitor reacts to.
`start_air(path)` starts a private air in a thread; `spawn_air(path)` runs `bzgate sim air`
as a subprocess. Both return something with `.address` and `.stop()`.
"""

import contextlib
import heapq
import itertools
import json
import os
import queue
import socket
import struct
import subprocess
import sys
import threading
import time

from bzsim.air import link, wire
from bzsim.air import wifi as air_wifi
from bzsim.air.central import Central
from bzsim.air.devices import ADV_DELAY_S, BoardBeacon
from bzsim.air.history import Histories
from bzsim.air.radio import body_loss, distance, heard, rssi
from bzsim.air.scenario import Faults, load
from bzsim.air.visitors import Visitors, press_event
from bzsim.air.world import World

TICK_S = 0.005  # the longest the loop sleeps before looking at the inbox again
SEND_TIMEOUT_S = 2.0  # a board that stops reading is dropped rather than stalling the air
BODIES_EVERY_S = 0.1  # how often the list of phones that may stand in the way is brought up to date
GATE_SIGNALS = ("relay", "red", "green")

# A visitor who presses without queueing (path linger) reaches for the button this long after
# arrival (or halfway through a shorter stay); queueing visitors: bzsim.air.visitors.
PRESS_AFTER_S = 1.0


class Session:
    """One TCP client: a board (after HELLO), or a listener/subscriber without a position."""

    def __init__(self, air, sock, number):
        self.sock = sock
        self.name = f"client-{number}"
        self.mac = None
        self.gate = None
        self.position = air.world.gate_position("")
        self.beacon = None
        self.subscribed = False
        self.alive = True
        self.central = None

    def send(self, name, payload=b""):
        if not self.alive:
            return
        try:
            self.sock.sendall(link.encode(wire.MSG[name], payload))
        except OSError:
            self.alive = False


class Air:
    def __init__(self, scenario=None, listen=("127.0.0.1", 0), hold_visitors=False):
        """hold_visitors: nobody comes until release_visitors() (a board can boot first)."""
        self._hold_visitors = hold_visitors
        self.world = World(scenario, int(time.time()), held=hold_visitors)
        self.histories = Histories(self.world.start, self.world.seed)
        self.faults = scenario.faults if scenario else Faults()
        self.bad_frames = 0
        self._server = socket.create_server(listen)
        host, port = self._server.getsockname()[:2]
        self.address = f"{host}:{port}"
        self._inbox = queue.Queue()
        self._timers = []
        self._order = itertools.count()
        self._sessions = []
        self._subscribers = []
        self._stopping = threading.Event()
        self._mono0 = None
        self._threads = []
        self.visitors = Visitors(self.at, self._publish)
        self._active = []  # phones in the air, or still to come; pruned once they have left
        self._bodies_at = None
        self._bodies = []
        self._played_to = 0.0
        self._sent = 0
        self._cpu_s = 0.0

    # ---- control API ------------------------------------------------------------------

    def start(self):
        self._mono0 = time.monotonic()
        if not self._hold_visitors:
            self._visitors_come(0.0)
        for fixture in self.world.fixtures:
            self._schedule_adverts(fixture, fixture.first_advert_after(0.0))
        self._announce_outages()
        for kind in self.world.noise_rates():
            self._noise(kind, 0.0)
        for target in (self._accept, self._loop):
            thread = threading.Thread(target=target, name=f"air-{target.__name__}", daemon=True)
            thread.start()
            self._threads.append(thread)
        return self

    def stop(self):
        self._stopping.set()
        with contextlib.suppress(OSError):
            self._server.shutdown(socket.SHUT_RDWR)  # wakes the accept() in progress
        self._server.close()
        for session in list(self._sessions):
            session.alive = False
            session.sock.close()
        for thread in self._threads:
            thread.join(timeout=2)

    def elapsed(self) -> float:
        return time.monotonic() - self._mono0

    def now(self) -> float:
        return self.world.start + self.elapsed()

    def history(self, phone_name: str) -> str:
        return self.histories.text(phone_name)

    def subscribe(self) -> queue.Queue:
        events = queue.Queue()
        self._subscribers.append(events)
        return events

    def phones(self):
        t = self.elapsed()
        out = []
        for phone in list(self.world.phones):
            current = phone.id_at(t)
            shown = phone.advertised_id(t)
            addr_type, addr = phone.address(t)
            out.append({
                "name": phone.name, "platform": phone.platform, "gate": phone.gate,
                "present": phone.path.present(t), "advertising": phone.advertising(t),
                "addr_type": addr_type, "address": addr.hex(":").upper(), "app": phone.app(t),
                "id": current.hex().upper() if current else phone.spec.v1_code,
                "advertised_id": shown.hex().upper() if shown else None,
                "position": phone.path.position(t)})
        return out

    def boards(self):
        return [{"name": s.name, "mac": s.mac.hex(":").upper(), "gate": s.gate,
                 "position": s.position, "scanning": s.central.scan is not None,
                 "advertising": s.beacon is not None and s.beacon.advert(0) is not None,
                 "listening": s.central.listening_share(self.elapsed()), "missed": s.central.missed,
                 "heard": s.central.heard}
                for s in list(self._sessions) if s.mac is not None]

    def gate_signal(self, board: str, relay: int, red: int, green: int = 0) -> None:
        """As if the board called `board` showed these outputs (1: on) from now: what its
        bridge sends as GATE_SIGNAL (for tests without a board)."""
        self._inbox.put((None, "gate_signal",
                         {"board": board, "relay": relay, "red": red, "green": green}))

    def release_visitors(self, crowd_s=None) -> None:
        """With hold_visitors: the scenario's visitors come from now (phones' times counted
        from this moment, the crowd from now, for crowd_s seconds or without end)."""
        self._inbox.put((None, "release", crowd_s))

    def _visitors_come(self, t, crowd_s=None):
        if self._hold_visitors:
            self.world.release(t, crowd_s)
        for phone in self.world.phones:
            self._enter(phone, t)
        self.at(t, self._crowd_arrival)

    def pace(self) -> dict:
        now = self.elapsed()
        due = next(iter(self._timers), None)  # iter: the loop may empty the heap meanwhile
        return {"t": now, "played_to": self._played_to, "sent": self._sent,
                "behind_s": max(0.0, now - due[0]) if due else 0.0, "cpu_s": self._cpu_s}

    def gates(self) -> list:
        """The scenario's gate names ([] for a quiet office)."""
        scenario = self.world.scenario
        return [gate.name for gate in scenario.gates] if scenario else []

    # ---- clock and timers -------------------------------------------------------------

    def at(self, when: float, action):
        """Run action(when) on the air's thread at scenario-relative time `when`."""
        heapq.heappush(self._timers, (when, next(self._order), action))

    def _loop(self):
        cpu0 = time.thread_time()
        while not self._stopping.is_set():
            now = self.elapsed()
            while self._timers and self._timers[0][0] <= now:
                when, _, action = heapq.heappop(self._timers)
                self._played_to = when
                action(when)
            self._cpu_s = time.thread_time() - cpu0
            wait = TICK_S if not self._timers else min(TICK_S, max(0.0, self._timers[0][0] - now))
            try:
                session, mtype, payload = self._inbox.get(timeout=wait)
            except queue.Empty:
                continue
            self._handle(session, mtype, payload, self.elapsed())

    # ---- devices ----------------------------------------------------------------------

    def _enter(self, phone, now=0.0):
        self._active.append(phone)
        self._schedule_adverts(phone, phone.first_advert_after(max(now, phone.path.appears)))
        if phone.visitor is not None:
            self.visitors.start(phone.visitor, now)
        elif phone.spec.press:
            reach = min(PRESS_AFTER_S, phone.spec.dwell_s / 2)
            self.at(phone.spec.arrive_s + reach,
                    lambda when: self._publish(press_event(phone, when, 1), when))

    def _bodies_near(self, device, t):
        """Where the visitors other than `device` stand at t (whose bodies may be in the way)."""
        if self._bodies_at is None or not 0 <= t - self._bodies_at < BODIES_EVERY_S:
            self._active = [p for p in self._active if p.path.leaves >= t]
            self._bodies = [p for p in self._active if p.path.appears <= t]
            self._bodies_at = t
        return [p.path.position(t) for p in self._bodies if p is not device]

    def _level(self, device, where, bodies, shadow, session):
        """The RSSI of one packet from `device` at `where` as `session`'s board hears it."""
        body_db = body_loss(where, session.position, bodies) if bodies else 0.0
        return rssi(device.power_1m, distance(where, session.position), shadow,
                    session.central.rng, body_db)

    def _schedule_adverts(self, device, first, epoch=None):
        def emit(when):
            if device.path.leaves < when or (epoch is not None and device.epoch != epoch):
                return
            self._transmit(device, when)
            if not device.once:
                self.at(device.next_advert_after(when), emit)

        self.at(first, emit)

    def _transmit(self, device, t):
        advert = device.advert(t)
        if advert is None:
            return
        self._sent += 1
        addr_type, addr = device.address(t)
        where = device.path.position(t)
        shadow = device.shadow.at(t)
        self.histories.heard(self.world.phones, device, advert, t, where, shadow)
        bodies = None
        for session in list(self._sessions):
            if session.central is None:
                continue
            if session.beacon is device:
                session.central.transmitting(t)
                continue
            if bodies is None:
                bodies = self._bodies_near(device, t)
            level = self._level(device, where, bodies, shadow, session)
            if heard(level):
                session.central.hear(t, device, advert, addr_type, addr, level)

    def in_range(self, device, session, t) -> bool:
        if not device.path.present(t):
            return False
        where = device.path.position(t)
        return heard(self._level(device, where, self._bodies_near(device, t),
                                 device.shadow.at(t), session))

    def _crowd_arrival(self, when):
        # The next visitor is drawn when this one appears: arrivals only move forward, so
        # nobody appears in the past.
        phone = self.world.next_crowd_phone()
        if phone is not None:
            self._enter(phone, when)
            self.at(max(when, phone.path.appears), self._crowd_arrival)

    def _noise(self, kind, after):
        upcoming = self.world.next_noise(kind, after)
        if upcoming is None:
            return
        t, device = upcoming

        def emit(when):
            self._transmit(device, when)
            self._noise(kind, when)

        self.at(t, emit)

    def _announce_outages(self):
        # For the air's log only: each board runs its own gate's outages (bzsim.air.wifi).
        for gate in self.world.scenario.gates if self.world.scenario else ():
            for when, up in air_wifi.changes(gate.wifi.outages) if gate.wifi else ():
                event = {"event": "wifi", "gate": gate.name, "up": up}
                self.at(when, lambda t, event=event: self._publish(event, t))

    def _publish(self, event, t):
        event["t"] = round(self.world.start + t, 3)
        for events in list(self._subscribers):
            events.put(dict(event))
        text = json.dumps(event).encode()
        for session in list(self._sessions):
            if session.subscribed:
                session.send("EVENT", text)

    # ---- boards -----------------------------------------------------------------------

    def _accept(self):
        for number in itertools.count(1):
            try:
                sock, _ = self._server.accept()
            except OSError:
                return
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDTIMEO,
                            struct.pack("ll", int(SEND_TIMEOUT_S), 0))
            session = Session(self, sock, number)
            threading.Thread(target=self._read, args=(session,), daemon=True,
                             name=f"air-read-{number}").start()

    def _read(self, session):
        self._inbox.put((session, "join", None))
        while session.alive:
            try:
                frame = link.read_frame(session.sock)
            except OSError:
                frame = None
            if frame is None:
                break
            self._inbox.put((session, *frame))
        self._inbox.put((session, None, None))

    def _handle(self, session, mtype, payload, t):
        if mtype == "gate_signal":
            self._signal(payload, t)
            return
        if mtype == "release":
            self._visitors_come(t, payload)
            return
        if mtype == "join":
            session.central = Central(self, session, self.world.seed)
            self._sessions.append(session)
            return
        if mtype is None:
            self._leave(session, t)
            return
        try:
            name, head, tail = wire.parse_request(mtype, payload)
        except wire.BadFrame:
            self.bad_frames += 1
            return
        handler = getattr(self, "_on_" + name.lower())
        handler(session, t, head, tail)

    def _leave(self, session, t):
        if session in self._sessions:
            self._sessions.remove(session)
            session.alive = False
            session.sock.close()
            if session.mac is not None:
                self._publish({"event": "board", "board": session.name, "joined": False}, t)

    def _on_hello(self, session, t, head, tail):
        (mac,) = head
        session.mac = mac
        session.name = tail.decode("utf-8", "replace") or session.name
        scenario = self.world.scenario
        gate = scenario.gate(session.name) if scenario else None
        if scenario is not None and gate is None:
            gate = scenario.gates[0]
            print(f"air: no gate named {session.name!r}; placing it at gate {gate.name!r}",
                  file=sys.stderr)
        session.gate = gate.name if gate else None
        session.position = self.world.gate_position(session.gate or "")
        session.central.reseed(self.world.seed)
        self._publish({"event": "board", "board": session.name, "joined": True}, t)

    def _on_subscribe(self, session, t, head, tail):
        session.subscribed = True

    def _on_gate_signal(self, session, t, head, tail):
        try:
            fields = json.loads(tail)
        except ValueError:
            fields = None
        if not (isinstance(fields, dict) and isinstance(fields.get("board"), str)
                and all(fields.get(k) in (0, 1) for k in GATE_SIGNALS)):
            self.bad_frames += 1
            return
        self._signal(fields, t)

    def _signal(self, fields, t):
        """A board's relay/red/green outputs changed: its gate's visitor at the scanner reacts."""
        gate = self.world.gate(fields["board"])
        if gate is not None:
            self.visitors.signal(gate.name, {k: int(fields[k]) for k in GATE_SIGNALS}, t)

    def _on_gates_query(self, session, t, head, tail):
        session.send("GATES", json.dumps(self.gates()).encode())

    def _on_wifi_query(self, session, t, head, tail):
        gate = self.world.gate(tail.decode("utf-8", "replace"))
        session.send("WIFI_PLAN", air_wifi.answer(gate, self.elapsed()))

    def _on_scan_start(self, session, t, head, tail):
        session.central.scan_start(t, *head)

    def _on_scan_stop(self, session, t, head, tail):
        session.central.scan_stop(t, *head)

    def _on_connect(self, session, t, head, tail):
        seq, addr_type, addr, timeout_ms = head
        session.central.connect(t, seq, addr_type, addr, timeout_ms)

    def _on_connect_cancel(self, session, t, head, tail):
        session.central.cancel(t, *head)

    def _on_disconnect(self, session, t, head, tail):
        session.central.disconnect(t, *head)

    def _on_discover_services(self, session, t, head, tail):
        session.central.discover_services(t, head[0], tail)

    def _on_discover_chars(self, session, t, head, tail):
        session.central.discover_chars(t, *head, tail)

    def _on_read(self, session, t, head, tail):
        session.central.read(t, *head)

    def _on_advertise(self, session, t, head, tail):
        interval_us, connectable, adv_len = head
        if len(tail) < adv_len:
            self.bad_frames += 1
            return
        if session.beacon is None:
            session.beacon = BoardBeacon(session.name, session.position,
                                         session.mac or bytes(6), self.world.seed)
        beacon = session.beacon
        beacon.epoch += 1
        if interval_us == 0:
            beacon.stop()
            return
        beacon.set(interval_us / 1e6, bool(connectable), tail[:adv_len], tail[adv_len:])
        self._schedule_adverts(beacon, t + beacon.rng.uniform(0, ADV_DELAY_S), beacon.epoch)


def ask_gates(address: str, timeout: float = 5.0) -> list:
    """The gate names of the air at `address` ([] for a quiet office); OSError when it cannot be
    reached or does not answer."""
    host, port = address.rsplit(":", 1)
    with socket.create_connection((host, int(port)), timeout=timeout) as sock:
        sock.sendall(link.encode(wire.MSG["GATES_QUERY"]))
        frame = link.read_frame(sock)
    if frame is None or frame[0] != wire.MSG["GATES"]:
        raise ConnectionError("the air did not answer with its gates")
    gates = json.loads(frame[1])
    if not isinstance(gates, list) or not all(isinstance(g, str) for g in gates):
        raise ConnectionError("the air's gates are not a list of names")
    return gates


def start_air(scenario_path=None, listen=("127.0.0.1", 0)) -> Air:
    """A private air running in this process (a quiet office without a scenario)."""
    return Air(load(scenario_path) if scenario_path else None, listen).start()


class AirProcess:
    """`bzgate sim air` as a subprocess; its address is the first line it prints."""

    def __init__(self, scenario_path=None, listen="127.0.0.1:0"):
        command = [sys.executable, "-m", "bzsim.air.cli", "--listen", listen]
        if scenario_path:
            command += ["--scenario", os.fspath(scenario_path)]
        self.process = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
        self.address = self.process.stdout.readline().strip()
        if not self.address:
            self.process.wait()
            raise RuntimeError(f"air exited with status {self.process.returncode}")

    def stop(self):
        self.process.terminate()
        self.process.wait(timeout=5)


def spawn_air(scenario_path=None) -> AirProcess:
    return AirProcess(scenario_path)
