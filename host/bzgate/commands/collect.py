"""`bzgate collect` and `bzgate purge`: gates' journals into the database, and old personal
data out of it."""

import json
import sys
import time

import click

from bzcore import config as gate_config
from bzgate import store
from bzgate.collect.board import EXIT_GATE, EXIT_USAGE, CollectError, collect
from bzgate.commands.options import (
    accept_gap_option,
    db_option,
    json_option,
    keys_option,
    listed_ports,
    port_options,
)
from bzgate.errors import UserError
from bzgate.keys import KeyStore
from bzgate.link.ports import PROBE_TIMEOUT
from bzgate.link.serial import DEFAULT_TIMEOUT, RETRIES, GateLink, LinkError
from bzgate.store import audit
from bzgate.textsafety import terminal_text

DAY = 86400


@click.command("collect")
@port_options
@db_option
@keys_option
@accept_gap_option
@json_option
def collect_command(ports: tuple, all_ports: bool, db: str | None, keys_path: str | None,
                    accept_gaps: tuple[str, ...], as_json: bool) -> None:
    """Collect gates' journals: verify each record's MAC chain with the board's key, store
    them, and only then let the gate reclaim them. Running it again stores nothing twice.
    With --json, one summary per gate.

    \b
    Examples:
      bzgate collect --port /dev/ttyUSB0 --db bzgate.db
      bzgate collect --all --json
      bzgate collect --port /dev/ttyUSB0 --accept-gap front
    """
    if not ports and not all_ports:
        raise UserError("name a gate's port with --port PATH, or use --all")
    conn = store.open_store(db)
    keys = KeyStore(keys_path)
    targets = [(port, True) for port in dict.fromkeys(ports)]
    if all_ports:
        targets += [(port, False) for port in listed_ports() if port not in ports]
    summaries, status = [], 0
    for port, named in targets:
        summary, code = _collect_port(conn, keys, port, named, accept_gaps)
        if summary is not None:
            summaries.append(summary)
            if not as_json and code == 0:
                click.echo(terminal_text(_describe(summary)))  # the gate's id as it says it
        status = max(status, code)
    if not summaries and all_ports and status == 0:
        raise UserError("no gate answered on any serial port: is one plugged in and running?",
                        exit_code=EXIT_GATE)
    if as_json:
        click.echo(json.dumps({"collections": summaries}))
    sys.exit(status)


def _collect_port(conn, keys: KeyStore, port: str, named: bool, accept_gaps: tuple[str, ...]):
    """(summary or None for a port that is not a gate, exit status) of one port."""
    try:
        with GateLink(port, timeout=DEFAULT_TIMEOUT if named else PROBE_TIMEOUT,
                      retries=RETRIES if named else 1, exclusive=True) as link:
            hello = link.hello()
            link.timeout, link.retries = DEFAULT_TIMEOUT, RETRIES  # a gate: be patient with it
            return _run(conn, link, hello, keys, port, accept_gaps)
    except LinkError as e:
        if e.code == "busy":  # a monitor collects as it goes: no second process on its port
            message = (f"port {e.message}: it collects from that gate itself (its page has "
                       "\"collect now\"); stop it first to collect from here")
            click.echo(f"bzgate: {message}", err=True)
            return {"port": port, "result": "busy", "message": message}, EXIT_USAGE if named else 0
        if not named:
            return None, 0
        click.echo(terminal_text(f"bzgate: {port}: no gate answers ({e})"), err=True)
        return {"port": port, "result": "gate-error", "message": str(e)}, EXIT_GATE


def _run(conn, link: GateLink, hello: dict, keys: KeyStore, port: str,
         accept_gaps: tuple[str, ...]):
    accept_gap = str(hello.get("gate_id", "")) in accept_gaps
    with _Progress(terminal_text(f"{hello.get('gate_id', '?')} {port}")) as progress:
        try:
            return collect(conn, link, hello, keys, port, accept_gap, progress), 0
        except CollectError as e:
            click.echo(terminal_text(f"bzgate: {port}: {e.message}"), err=True)
            return e.summary, e.exit_code


class _Progress:
    """A progress bar on a terminal (stderr), nothing otherwise."""

    def __init__(self, label: str):
        self.label, self.bar = label, None

    def __enter__(self) -> "_Progress":
        return self

    def __call__(self, done: int, total: int) -> None:
        if not sys.stderr.isatty():
            return
        if self.bar is None:
            self.bar = click.progressbar(length=max(total, done), label=self.label, file=sys.stderr)
            self.bar.__enter__()
        self.bar.length = max(self.bar.length or 0, done)
        self.bar.update(done - self.bar.pos)

    def __exit__(self, *exc) -> None:
        if self.bar is not None:
            self.bar.__exit__(*exc)


def _describe(summary: dict) -> str:
    stored = summary["stored"]
    kinds = ", ".join(_plural(stored[table], table[:-1])
                      for table in ("sightings", "decisions", "counts", "events") if stored[table])
    text = f"{summary['gate_id']} (board {summary['board_id']}) on {summary['port']}: "
    if not stored["records"]:
        return text + f"nothing new (next seq {summary['next_seq']})"
    text += (f"{_plural(stored['records'], 'record')} stored, seq {summary['from_seq']} to "
             f"{summary['next_seq'] - 1} ({kinds})")
    if stored["clock_invalid"]:
        text += (f"; {stored['clock_invalid']} made before the gate's clock was set "
                 "(bzgate gate time-set sets it)")
    if stored["unreadable"]:
        text += f"; {stored['unreadable']} genuine but unreadable, kept as signed bytes only"
    if summary.get("gap"):
        text += f"; seqs {summary['gap'][0]} to {summary['gap'][1]} were missing (accepted)"
    return text


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


@click.command("purge")
@click.option("--older-than", "days", type=click.IntRange(min=1), metavar="DAYS",
              default=gate_config.defaults()["retention_days"], show_default=True,
              help="Delete sightings and decisions older than this many days.")
@db_option
@json_option
def purge_command(days: int, db: str | None, as_json: bool) -> None:
    """Delete personal data (sightings and decisions, with their signed records and evidence)
    older than DAYS; counts and events stay, and the next collection resumes as before. Prints
    the counts deleted.

    \b
    Examples:
      bzgate purge --db bzgate.db
      bzgate purge --older-than 14 --json
    """
    conn = store.open_store(db)
    now = int(time.time())
    cutoff = now - days * DAY
    with store.transaction(conn):
        deleted = store.purge(conn, cutoff, today=now // DAY)
    audit.record(conn, "purge", {"older_than_days": days, "cutoff": cutoff, "deleted": deleted})
    if as_json:
        click.echo(json.dumps({"older_than_days": days, "cutoff": cutoff, "deleted": deleted}))
        return
    click.echo(f"deleted {deleted['sightings']} sightings, {deleted['decisions']} decisions and "
               f"{deleted['evidence']} evidence spans older than {days} days")
