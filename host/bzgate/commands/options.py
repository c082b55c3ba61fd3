"""What the commands share on the command line, each option written once (one help text, its
default shown by click): the database, the key store, JSON and file output, the rows to cover,
the gates' ports, the MQTT broker, the BLE radio; and how a long-running command is stopped."""

import functools
import io
import os
import signal
import sys
from contextlib import contextmanager
from pathlib import Path

import click

from bzgate import store
from bzgate.ble.radio import AIR_ENV
from bzgate.errors import UserError
from bzgate.link.broker import PASSWORD_ENV, Broker, read_password
from bzgate.link.ports import usb_ports, virtual_ports
from bzgate.store import audit

db_option = click.option(
    "--db", metavar="FILE|URL", show_default="$BZGATE_DB, else bzgate.db",
    help="The database: an SQLite file, or postgresql://USER@HOST/NAME.")

keys_option = click.option(
    "--keys", "keys_path", type=click.Path(dir_okay=False), metavar="FILE",
    show_default="$BZGATE_KEYS, else ~/.config/bzgate/keys.json",
    help="The host key store: each board's journal key.")

json_option = click.option("--json", "as_json", is_flag=True, help="Print JSON for scripts.")

output_option = click.option(
    "-o", "--output", type=click.Path(dir_okay=False, path_type=Path), metavar="FILE",
    help="Write to this file instead of standard output.")

accept_gap_option = click.option(
    "--accept-gap", "accept_gaps", multiple=True, metavar="GATE_ID",
    help="Store this gate's journal past a gap once: its older records are gone from the gate "
         "and were never stored here (lost for good, or in another database). The gap goes "
         "into the audit. Repeat for more gates.")

gate_id_option = click.option("--gate-id", required=True,
                              help="The gate's id, 1-32 letters, digits, . _ - (its records "
                                   "carry it).")


def gate_site_option(required: bool):
    """--site of a gate being set up: the site its records carry."""
    return click.option("--site", required=required, default=None if required else "",
                        help="The gate's site, up to 64 characters (its records carry it).")


def guards_option(required: bool):
    """--guards FILE: who may log in to the monitor's page (made by `bzgate guards add`)."""
    return click.option("--guards", "guards_path", required=required,
                        type=click.Path(dir_okay=False), metavar="FILE",
                        help="The guards file: names and password hashes of the guards who may "
                             "log in to the monitor's page (bzgate guards add).")


def selection_options(command):
    """--from, --to, --site, --gate: shared by export and report."""
    for option in reversed((
            click.option("--from", "start", metavar="DATE|TIME",
                         help="From this local day (2020-09-18) or time (2020-09-18T08:00, "
                              "2020-09-18T01:00Z)."),
            click.option("--to", "end", metavar="DATE|TIME",
                         help="Up to this local day (included) or time (excluded)."),
            click.option("--site", "sites", multiple=True, metavar="SITE",
                         help="Only this site (again for more)."),
            click.option("--gate", "gates", multiple=True, metavar="GATE",
                         help="Only this gate id (again for more)."),
            db_option)):
        command = option(command)
    return command


board_port_option = click.option("--port", required=True, metavar="PATH",
                                 help="The board's serial port, e.g. /dev/ttyUSB0.")


def port_options(command):
    """--port (repeatable) and --all: the gates collect, status and monitor talk to."""
    command = click.option("--all", "all_ports", is_flag=True,
                           help="Also every ESP32 board on USB and every running virtual board "
                                "that answers as a gate.")(command)
    return click.option("--port", "ports", multiple=True, metavar="PATH",
                        help="A gate's serial port, e.g. /dev/ttyUSB0 (repeat for several "
                             "gates).")(command)


def listed_ports() -> list[str]:
    """Serial ports that may hold a gate: ESP32 boards on USB and running virtual boards."""
    return [port.device for port in usb_ports() + virtual_ports()]


def broker_options(required: bool):
    """--mqtt URL, --mqtt-password-file and --mqtt-ca, for each command that connects to the
    broker; the command gets them as one argument, `broker` (a Broker, None without --mqtt)."""
    def decorate(command):
        @functools.wraps(command)
        def with_broker(*args, broker_url, password_file, ca_file, **kwargs):
            if broker_url is None:
                if password_file or ca_file:
                    raise UserError("--mqtt-password-file and --mqtt-ca go with --mqtt")
                return command(*args, broker=None, **kwargs)
            broker = Broker.from_url(broker_url, read_password(password_file), ca_file)
            return command(*args, broker=broker, **kwargs)

        for option in reversed((
                click.option("--mqtt", "broker_url", required=required,
                             metavar="mqtt[s]://[USER@]HOST[:PORT]",
                             help="The MQTT broker; mqtts:// for TLS (port 8883 unless given). "
                                  "The password is never in the URL."),
                click.option("--mqtt-password-file", "password_file", metavar="FILE",
                             show_default=f"${PASSWORD_ENV}",
                             help="USER's broker password: the file's first line."),
                click.option("--mqtt-ca", "ca_file", metavar="FILE.pem",
                             help="With mqtts://: the CA that signed the broker's certificate "
                                  "(a private CA), instead of the system's CAs."))):
            with_broker = option(with_broker)
        return with_broker
    return decorate


topic_prefix_option = click.option(
    "--topic-prefix", "prefix", default="bzgate", show_default=True, metavar="P",
    help="The gates' mqtt.topic_prefix: their topics are P/<gate_id>/...")


def radio_options(command):
    """--adapter and --air: the radio of the BLE commands."""
    command = click.option("--air", metavar="HOST:PORT", show_default=f"${AIR_ENV}",
                           help="Use a simulated air instead of an adapter.")(command)
    return click.option("--adapter", default="hci0", show_default=True,
                        help="The Bluetooth adapter (BlueZ).")(command)


@contextmanager
def output_file(path: Path, binary: bool = False):
    """Writes to `path` only once the whole output is there: a failed export leaves no half
    file behind and an older file with the same name untouched until the new one is complete."""
    partial = path.with_name(path.name + ".partial")
    try:
        text = {} if binary else {"encoding": "utf-8", "newline": ""}
        with open(partial, "wb" if binary else "w", **text) as f:
            yield f
        os.replace(partial, path)
    except OSError as e:
        raise UserError(f"cannot write {path}: {e.strerror}") from None
    finally:
        partial.unlink(missing_ok=True)


@contextmanager
def text_output(path: Path | None):
    """A UTF-8 text stream to `path` (as output_file), or to standard output when None, whatever
    the terminal's locale: Vietnamese names must come out whole."""
    if path is not None:
        with output_file(path) as f:
            yield f
        return
    out = io.TextIOWrapper(sys.stdout.buffer, encoding="utf-8", newline="")
    try:
        yield out
    finally:
        out.detach()  # flushes, and leaves sys.stdout open


def open_existing(db: str | None):
    """The store to read from: a missing file is a wrong --db, not an empty database to make
    (a PostgreSQL URL names a server's database, which open_store checks)."""
    target = store.db_path(db)
    if isinstance(target, Path) and not target.is_file():
        raise UserError(f"no database at {target}: collect from the gates first, or give --db FILE")
    return store.open_store(target)


no_audit_option = click.option(
    "--no-audit", is_flag=True,
    help="Record nothing in the database's audit table: for a read-only copy of it. Said on "
         "standard error.")


def open_audited(db: str | None, no_audit: bool, action: str):
    """The store to read from for a command the audit table records, and the function that
    records it there (audit.record on it); with --no-audit one that records nothing, and that
    said on stderr. A database this user cannot write needs --no-audit: said before any work
    is done or any file written, not at the end."""
    conn = open_existing(db)
    if no_audit:
        click.echo(f"bzgate: --no-audit: nothing of this {action} is recorded in the audit table",
                   err=True)
        return conn, _unrecorded
    if conn.read_only:
        conn.close()
        raise UserError(f"{store.shown(conn.target)} is read-only: this {action} cannot be "
                        "recorded in its audit table; give --no-audit to go on without that "
                        "record, or use a copy this user can write")
    return conn, functools.partial(audit.record, conn)


def _unrecorded(action: str, detail: dict) -> None:
    """What --no-audit records: nothing."""


def stop_like_ctrl_c() -> None:
    """Make Ctrl-C and a service manager's SIGTERM both end a long-running command as Ctrl-C does
    (KeyboardInterrupt), even when it was started with SIGINT ignored (a background job, a
    supervisor), where Python would otherwise leave Ctrl-C without effect."""
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, _interrupted)


def _interrupted(_signum, _frame) -> None:
    raise KeyboardInterrupt
