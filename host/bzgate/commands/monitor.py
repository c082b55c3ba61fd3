"""`bzgate monitor`: the guards' live page of the gates, served on the local network.

The gates come from --port, --fleet FILE.csv (its rows' ports, gate ids and sites) and --all
(ESP32 boards on USB and virtual boards that answer HELLO, asked with the port's lock so
that a gate another monitor holds is not disturbed). Each gets a GateSession thread
(monitorgate). With --mqtt, the gates heard on the broker come too (monitormqtt: live events
only, their journals come through `bzgate ingest`). The shared state is a monitorstate.Board,
the page is monitorweb.

With --guards FILE, guards log in on the page to open a door for a visitor without a phone
(exempt), collect now, and see full IDs; without it nobody can, and the page is served on
loopback only: nothing opens a door or shows personal data to someone not logged in.
"""

import logging
import threading
import time
from pathlib import Path

import click

from bzgate import store
from bzgate.commands.options import (
    broker_options,
    db_option,
    guards_option,
    keys_option,
    listed_ports,
    port_options,
    stop_like_ctrl_c,
    topic_prefix_option,
)
from bzgate.errors import UserError
from bzgate.keys import KeyStore
from bzgate.link.broker import Broker
from bzgate.monitor import inside, webchecks
from bzgate.monitor.access import Access
from bzgate.monitor.actions import GateActions
from bzgate.monitor.auditlog import AuditLog
from bzgate.monitor.gate import GateSession, gate_tile
from bzgate.monitor.guards import Guards
from bzgate.monitor.mqtt import MqttSource
from bzgate.monitor.state import Board, day_start
from bzgate.monitor.web import MonitorServer
from bzprov.fleet import read_fleet

REFRESH_S = 1.0


def parse_listen(text: str) -> tuple[str, int]:
    host, sep, port = text.rpartition(":")
    if not sep or not port.isdigit() or not 0 <= int(port) <= 65535:
        raise UserError(f"--listen {text}: give HOST:PORT, e.g. 127.0.0.1:8080")
    return host.strip("[]") or "127.0.0.1", int(port)


def gates_named(ports: tuple, fleet: str | None, all_ports_too: bool) -> dict[str, tuple[str, str]]:
    """{port: (gate_id, site) known before the gate answers}, in the order given."""
    gates = {port: ("", "") for port in ports}
    if fleet:
        for row in read_fleet(Path(fleet)):
            gates[row.port] = (row.gate_id, str(row.config.get("site", "")))
    if all_ports_too:
        for port in listed_ports():
            tile = None if port in gates else gate_tile(port, named=False)  # None: not a gate
            if tile is not None:
                gates[port] = (tile["gate_id"], tile["site"])
    return gates


@click.command("monitor")
@port_options
@click.option("--fleet", type=click.Path(exists=True, dir_okay=False), metavar="FILE.csv",
              help="The gates of a fleet file (bzgate provision fleet): ports, names and sites.")
@click.option("--listen", default="127.0.0.1:8080", show_default=True, metavar="HOST:PORT",
              help="Where the page is served (0.0.0.0:8080 for tablets on the local network: "
                   "only with --guards).")
@click.option("--hostname", "hostnames", multiple=True, metavar="NAME",
              help="A name or address the page is opened under (gate-pc.local, 192.168.1.10), "
                   "besides the listen address and, on loopback, localhost; requests for other "
                   "names are refused. Repeat for more.")
@guards_option(required=False)
@broker_options(required=False)
@topic_prefix_option
@db_option
@keys_option
def monitor_command(ports: tuple, all_ports: bool, fleet: str | None, listen: str,
                    hostnames: tuple, guards_path: str | None, broker: Broker | None,
                    prefix: str, db: str | None, keys_path: str | None) -> None:
    """A live page for guards: each gate's last decision, today's counts and alarms, the last
    200 events. The monitor holds the gates' ports and collects their journals as it goes.
    With --mqtt, also the gates heard on that broker (Wi-Fi gates, on P/<gate_id>/events):
    their live events only; their journals come through `bzgate ingest`. With --guards, guards
    log in on the page to open a door (exempt), collect now and see full IDs.

    \b
    Examples:
      bzgate monitor --all --guards guards.json --listen 0.0.0.0:8080 --hostname gate-pc.local
      bzgate monitor --mqtt mqtt://127.0.0.1:1883 --port /dev/ttyUSB0
    """
    address = parse_listen(listen)
    if guards_path is None and not webchecks.is_loopback(address[0]):
        raise UserError(f"--listen {listen} serves the page beyond this computer: give --guards "
                        "FILE (bzgate guards add NAME) so that only guards who log in can open "
                        "a door or see IDs, or listen on 127.0.0.1")
    guards = Guards(guards_path) if guards_path else None
    if guards is not None and not guards.names():
        raise UserError(f"no guard in {guards_path}: add one with bzgate guards add NAME "
                        f"--guards {guards_path}")
    board = Board()
    mqtt_source = MqttSource(broker, prefix, board) if broker is not None else None
    gates = gates_named(ports, fleet, all_ports)
    if not gates and mqtt_source is None:
        raise UserError("no gate to watch: name ports with --port PATH, --fleet FILE.csv or --all, "
                        "or a broker with --mqtt mqtt://HOST:PORT")
    conn = store.open_store(db)  # created or migrated once, before the sessions' threads
    try:
        board.stored_at_start(inside.stored_today(conn, day_start(time.time())))
    finally:
        conn.close()
    keys = KeyStore(keys_path)
    sessions = {}
    for port, (gate_id, site) in gates.items():
        board.add_gate(port, gate_id, site)
        sessions[port] = GateSession(port, board, db, keys)

    audit = AuditLog(db)
    try:
        server = MonitorServer(address, board, GateActions(sessions, audit),
                               Access(guards, audit), hostnames)
    except OSError as e:
        raise UserError(f"cannot serve on {listen}: {e}") from None
    stop = threading.Event()
    for session in sessions.values():
        session.start()
    if mqtt_source is not None:
        logging.basicConfig(format="bzgate monitor: %(message)s")  # messages dropped, broker lost
        mqtt_source.start()
    threading.Thread(target=_refresh, args=(board, stop), name="refresh", daemon=True).start()
    host, port = server.server_address[:2]
    heard = f" and the gates on {broker.url} ({prefix}/+)" if broker is not None else ""
    logins = f"guards of {guards_path} log in" if guards else "no logins (no --guards)"
    click.echo(f"bzgate monitor: http://{host}:{port}/ watching {len(sessions)} gate(s){heard}; "
               f"{logins}; served as {', '.join(sorted(server.names))}; Ctrl-C stops it", err=True)
    stop_like_ctrl_c()
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        stop.set()
        for session in sessions.values():
            session.stop()
        if mqtt_source is not None:
            mqtt_source.stop()
        server.server_close()


def _refresh(board: Board, stop: threading.Event) -> None:
    while not stop.wait(REFRESH_S):
        board.refresh()

