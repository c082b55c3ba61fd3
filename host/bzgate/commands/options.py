"""What the commands share on the command line: the rows to cover, the output file, and how a
long-running command is stopped."""

import io
import os
import signal
import sys
from contextlib import contextmanager
from pathlib import Path

import click

from bzgate import store
from bzgate.errors import UserError


def db_option(command):
    """--db: an SQLite file or a PostgreSQL URL, for every command that opens the store."""
    return click.option("--db", metavar="FILE|URL",
                        help="The database: an SQLite file, or postgresql://USER@HOST/NAME "
                             "(default: $BZGATE_DB, else bzgate.db).")(command)


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


def stop_like_ctrl_c() -> None:
    """Make Ctrl-C and a service manager's SIGTERM both end a long-running command as Ctrl-C does
    (KeyboardInterrupt), even when it was started with SIGINT ignored (a background job, a
    supervisor), where Python would otherwise leave Ctrl-C without effect."""
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, _interrupted)


def _interrupted(_signum, _frame) -> None:
    raise KeyboardInterrupt
