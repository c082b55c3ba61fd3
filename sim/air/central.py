"""One board's radio as the air sees it: its scan, its connect attempt and its connections.

The rules are NimBLE's on ESP32 (see the `bluetooth` shim): one scan at a time, ended by its
duration, by a stop or by a connect (each scan ends with exactly one SCAN_DONE), and deaf
while the board's own advertising event is on air; one connect
attempt at a time, which ends connected, failed at its deadline, or cancelled (both reported
as CONNECT_FAILED, which the shim turns into a disconnect with addr_type 0xFF); GATT
procedures on a connection run one after another, each costing connection intervals.
"""

import random

from bzsim.air import wire
from bzsim.air.gatt import STATUS_OK
from bzsim.air.radio import ADV_EVENT_S, ScanWindow

CONN_INTERVAL_S = 0.030  # iPhones accept 30 ms; each ATT round trip costs about one interval
CONNECT_SETUP_S = 0.010  # CONNECT_IND to the first connection event
STATUS_NOT_CONNECTED = 7  # BLE_HS_ENOTCONN: the link dropped under a GATT procedure


class Scan:
    def __init__(self, gen, window: ScanWindow, active: bool):
        self.gen = gen
        self.window = window
        self.active = active
        self.started = window.started


class Attempt:
    def __init__(self, seq, addr_type, addr, fault):
        self.seq = seq
        self.addr_type = addr_type
        self.addr = addr
        self.fault = fault  # None, "timeout" (never connects) or "fail" (link drops later)


class Connection:
    def __init__(self, handle, device, addr_type, addr, fault):
        self.handle = handle
        self.device = device
        self.addr_type = addr_type
        self.addr = addr
        self.fault = fault
        self.busy_until = 0.0


class Central:
    def __init__(self, air, session, seed: int):
        self.air = air
        self.session = session
        self.rng = random.Random()  # the RSSI noise of what it hears
        self.fault_rng = random.Random()  # a connect's fault: drawn per attempt, in order
        self.reseed(seed)
        self.scan = None
        self.attempt = None
        self.connections = {}
        self._next_handle = 1
        self.scanned_s = 0.0  # scans that have ended
        self.deaf_s = 0.0  # scan time lost to the board's own advertising events
        self.missed = 0  # adverts a scan window held that went by during one
        self.heard = 0  # adverts delivered to the board (what a test waiting on a scan counts)
        self._tx_at = -1.0

    # ---- scanning -------------------------------------------------------------------

    def scan_start(self, t, gen, duration_ms, interval_us, window_us, active):
        self._end_scan()
        self.scan = Scan(gen, ScanWindow(t, interval_us, window_us), bool(active))
        if duration_ms:
            self.air.at(t + duration_ms / 1000, lambda when: self._end_scan(gen))

    def scan_stop(self, t, gen):
        self._end_scan(gen)

    def _end_scan(self, gen=None):
        scan = self.scan
        if scan is not None and (gen is None or scan.gen == gen):
            self.scan = None
            self.scanned_s += self.air.elapsed() - scan.started
            self.session.send("SCAN_DONE", bytes((scan.gen,)))

    def transmitting(self, t):
        """The board's own advertising event starts at t."""
        self._tx_at = t
        if self.scan is not None:
            self.deaf_s += ADV_EVENT_S

    def reseed(self, seed: int) -> None:
        """The board's draws from the scenario's seed and its name. Faults have their own
        stream, so the n-th connect gets the same fault however many adverts came before."""
        self.rng.seed(f"{seed}/central/{self.session.name}")
        self.fault_rng.seed(f"{seed}/faults/{self.session.name}")

    def listening_share(self, t) -> float:
        """Of the time this board scanned, the share its receiver was not busy advertising."""
        scanned = self.scanned_s + (t - self.scan.started if self.scan is not None else 0.0)
        return 1.0 if scanned <= 0 else max(0.0, 1.0 - self.deaf_s / scanned)

    def hear(self, t, device, advert, addr_type, addr, level):
        """An advert on air at t, received by this board at RSSI `level`."""
        attempt = self.attempt
        if attempt is not None and attempt.fault != "timeout" and device.connectable \
                and addr == attempt.addr and advert.adv_type in (0, 1):
            self.attempt = None
            self.air.at(t + CONNECT_SETUP_S,
                        lambda when: self._establish(when, attempt, device))
        scan = self.scan
        if scan is None or not scan.window.listening(t):
            return
        if 0.0 <= t - self._tx_at < ADV_EVENT_S:
            self.missed += 1
            return
        self.heard += 1
        self.session.send("SCAN_RESULT", wire.scan_result(
            scan.gen, addr_type, addr, advert.adv_type, level, advert.data))
        if scan.active and advert.resp and advert.adv_type in (0, 2):
            self.session.send("SCAN_RESULT", wire.scan_result(
                scan.gen, addr_type, addr, 4, level, advert.resp))

    # ---- connecting -----------------------------------------------------------------

    def connect(self, t, seq, addr_type, addr, timeout_ms):
        self._end_scan()  # NimBLE stops the scan before initiating
        if self.attempt is not None:  # the shim refuses this; a raw client gets a failure
            self.session.send("CONNECT_FAILED", bytes((seq,)))
            return
        faults = self.air.faults
        r = self.fault_rng.random()
        fault = None
        if r < faults.gatt_timeout_share:
            fault = "timeout"
        elif r < faults.gatt_timeout_share + faults.gatt_fail_share:
            fault = "fail"
        attempt = Attempt(seq, addr_type, addr, fault)
        self.attempt = attempt
        self.air.at(t + (timeout_ms or 2000) / 1000, lambda when: self._give_up(attempt))

    def cancel(self, t, seq):
        if self.attempt is not None and self.attempt.seq == seq:
            self._give_up(self.attempt)

    def _give_up(self, attempt):
        if self.attempt is attempt:
            self.attempt = None
            self.session.send("CONNECT_FAILED", bytes((attempt.seq,)))

    def _establish(self, t, attempt, device):
        handle = self._next_handle
        self._next_handle += 1
        conn = Connection(handle, device, attempt.addr_type, attempt.addr, attempt.fault)
        conn.busy_until = t
        self.connections[handle] = conn
        self.session.send("CONNECTED", wire.connected(attempt.seq, handle, attempt.addr_type,
                                                      attempt.addr))

    def disconnect(self, t, handle):
        conn = self.connections.get(handle)
        if conn is not None:
            self._after(conn, t, 1, lambda when: self._drop(conn))

    def _drop(self, conn):
        if self.connections.pop(conn.handle, None) is conn:
            self.session.send("DISCONNECTED", wire.disconnected(conn.handle, conn.addr_type,
                                                                conn.addr))

    def drop_all(self):
        for conn in list(self.connections.values()):
            self._drop(conn)
        self.attempt = None

    # ---- GATT client ----------------------------------------------------------------

    def _after(self, conn, t, round_trips, action):
        """Run action once `round_trips` connection intervals after the link is free."""
        conn.busy_until = max(conn.busy_until, t) + round_trips * CONN_INTERVAL_S
        self.air.at(conn.busy_until, action)

    def _procedure(self, t, handle, results, finish):
        """A GATT procedure: results then a DONE, or a dropped link (fault or out of range)."""
        conn = self.connections.get(handle)
        if conn is None:
            finish(STATUS_NOT_CONNECTED)
            return

        def run(when):
            if conn.handle not in self.connections:
                finish(STATUS_NOT_CONNECTED)
            elif conn.fault == "fail" or not self.air.in_range(conn.device, self.session, when):
                finish(STATUS_NOT_CONNECTED)
                self._drop(conn)
            else:
                for name, payload in results(conn.device.gatt, when):
                    self.session.send(name, payload)
                finish(STATUS_OK)

        self._after(conn, t, 2, run)

    def discover_services(self, t, handle, uuid):
        def results(gatt, when):
            return [("SERVICE_RESULT", wire.service_result(handle, s.start, s.end, s.uuid))
                    for s in (gatt.services(uuid) if gatt else [])]

        self._procedure(t, handle, results,
                        lambda status: self.session.send("SERVICE_DONE", wire.done(handle, status)))

    def discover_chars(self, t, handle, start, end, uuid):
        def results(gatt, when):
            return [("CHAR_RESULT", wire.char_result(handle, c.end, c.value_handle, c.props,
                                                      c.uuid))
                    for c in (gatt.characteristics(start, end, uuid) if gatt else [])]

        self._procedure(t, handle, results,
                        lambda status: self.session.send("CHAR_DONE", wire.done(handle, status)))

    def read(self, t, handle, value_handle):
        outcome = {}

        def results(gatt, when):
            status, value = gatt.read(value_handle, when) if gatt else (0x101, b"")
            outcome["status"] = status
            return [("READ_RESULT", wire.read_result(handle, value_handle, value))] \
                if status == STATUS_OK else []

        def finish(status):
            self.session.send("READ_DONE", wire.read_done(
                handle, value_handle, status or outcome.get("status", STATUS_OK)))

        self._procedure(t, handle, results, finish)
