"""`bzgate provision fleet FILE.csv`: many boards at once, one row per board.

Columns: `port` or `usb_serial` (one of them per row), `gate_id`, `site`, optional `location`
(kept in the inventory) and any configuration field (`mode`, `trigger`, `near_rssi`, ...).
A row's fields go over what its board has, as in configure: an empty cell keeps the board's
value (the default on a new board, which needs its site), except gate_id, which names the row.
Every row is checked before any board is touched: unknown columns, missing ones, bad values,
duplicate gate ids or ports, ports that cannot be found or opened; one line per mistake.

Boards run concurrently (threads, each driving its own mpremote processes), a progress line
per board and step, then a summary table. What each board finished is kept in FILE.csv.state
(JSON, written atomically): a re-run skips the steps a board already passed with the same row.
"""

import csv
import hashlib
import json
import os
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from bzcore import config as gate_config
from bzgate.errors import UserError
from bzgate.jsonfile import write_atomic
from bzgate.link.ports import port_of_usb_serial
from bzgate.link.serial import LinkError, open_port
from bzprov import fields

STEPS = ("deploy", "configure", "verify")
PORT_COLUMNS = ("port", "usb_serial")
REQUIRED = ("gate_id", "site")


@dataclass
class Row:
    line: int
    port: str
    config: dict
    location: str | None  # None: the inventory's stays
    fingerprint: str  # of the row's cells: a changed row is done again

    @property
    def gate_id(self) -> str:
        return self.config["gate_id"]


@dataclass
class Outcome:
    row: Row
    steps: dict = field(default_factory=dict)  # step -> "ok" | "skipped" | "FAILED"
    error: str = ""


def _columns_errors(header: list[str]) -> list[str]:
    known = set(PORT_COLUMNS) | set(gate_config.DEFAULTS) | set(fields.INVENTORY_FIELDS)
    errors = [f"column {name!r}: unknown (columns: {', '.join(sorted(known))})"
              for name in header if name not in known]
    errors += [f"column {name!r} is missing" for name in REQUIRED if name not in header]
    if not set(PORT_COLUMNS) & set(header):
        errors.append("a column 'port' or 'usb_serial' is needed to find each board")
    seen = set()
    errors += [f"column {name!r} appears twice" for name in header if name in seen or seen.add(name)]
    return errors


def _port_problem(port: str) -> str | None:
    """Why the port cannot be used, or None: opened and closed again, nothing sent (opening
    does not reset the board: bzgate.link.serial)."""
    if not os.path.exists(port):
        return f"port {port} does not exist: is the board plugged in?"
    try:
        open_port(port).close()
    except LinkError as e:
        return f"port {port} cannot be opened ({e.message})"
    return None


def _row(line: int, cells: dict, errors: list[str], ports_open: bool) -> Row | None:
    where = f"line {line}"
    port = (cells.pop("port", "") or "").strip()
    usb = (cells.pop("usb_serial", "") or "").strip()
    if not port and usb:
        port = port_of_usb_serial(usb) or ""
        if not port:
            errors.append(f"{where}: no board with USB serial {usb} is plugged in")
            return None
    elif not port:
        errors.append(f"{where}: no port (give port or usb_serial)")
    bad = [problem] if ports_open and port and (problem := _port_problem(port)) else []
    location = (cells.pop("location", "") or "").strip() or None
    given = {k: v for k, v in cells.items() if v is not None and v.strip() != ""}  # empty: keep the board's
    config, wrong = fields.given_fields(given)
    bad += wrong + fields.location_errors(location or "")
    if "gate_id" not in given:
        bad.append("gate_id: empty; each row names its gate")
    errors += [f"{where}: {message}" for message in bad]
    if not port or bad:
        return None
    text = json.dumps([port, location, config], sort_keys=True)
    return Row(line, port, config, location, hashlib.sha256(text.encode()).hexdigest()[:16])


def read_fleet(path: Path, ports_open: bool = False) -> list[Row]:
    """Every row, checked; UserError listing every mistake found. With ports_open, each port
    is opened too (not written to): a board not plugged in is a mistake before any is touched."""
    try:
        with open(path, newline="", encoding="utf-8-sig") as f:
            reader = csv.DictReader(f)
            header = [name.strip() for name in reader.fieldnames or []]
            reader.fieldnames = header
            errors = _columns_errors(header)
            if errors:
                raise UserError(f"{path}: " + "; ".join(errors))
            rows, first_line = [], {}
            for cells in reader:
                line = reader.line_num
                if None in cells:
                    errors.append(f"line {line}: more cells than columns")
                    continue
                for what in ("gate_id", "port", "usb_serial"):  # duplicates, even in rows with mistakes
                    value = (cells.get(what) or "").strip()
                    if value and (what, value) in first_line:
                        errors.append(f"line {line}: {what} {value} is already on line {first_line[what, value]}")
                    first_line.setdefault((what, value), line)
                row = _row(line, dict(cells), errors, ports_open)
                if row is not None:
                    rows.append(row)
    except (OSError, csv.Error, UnicodeDecodeError) as e:
        raise UserError(f"{path}: cannot read it as CSV ({e})") from None
    if not rows and not errors:
        errors.append("no boards in it")
    if errors:
        raise UserError(f"{path}: {len(errors)} mistake(s), no board touched:\n  " + "\n  ".join(errors))
    return rows


class State:
    """FILE.csv.state: {gate_id: {"row": fingerprint, "done": [steps]}}."""

    def __init__(self, fleet_file: Path):
        self.path = Path(str(fleet_file) + ".state")
        self._lock = threading.Lock()
        try:
            self._data = json.loads(self.path.read_text())
        except FileNotFoundError:
            self._data = {}
        except (OSError, ValueError) as e:
            raise UserError(f"{self.path} is damaged ({e}); remove it to start the fleet afresh") from None

    def done(self, row: Row) -> list[str]:
        entry = self._data.get(row.gate_id, {})
        return entry.get("done", []) if entry.get("row") == row.fingerprint else []

    def mark(self, row: Row, step: str) -> None:
        with self._lock:
            entry = self._data.get(row.gate_id, {})
            done = entry.get("done", []) if entry.get("row") == row.fingerprint else []
            self._data[row.gate_id] = {"row": row.fingerprint, "done": done + [step]}
            write_atomic(self.path, self._data)


def run_fleet(rows: list[Row], steps: list[str], state: State, do_step, parallel: int, echo) -> list[Outcome]:
    """do_step(step, row, progress) runs one step on one board (UserError: it failed)."""
    def board(row: Row) -> Outcome:
        outcome = Outcome(row)
        progress = lambda text: echo(f"[{row.gate_id}] {text}")  # noqa: E731
        done = state.done(row)
        for step in steps:
            if step in done:
                outcome.steps[step] = "skipped"
                continue
            progress(f"{step} ...")
            try:
                do_step(step, row, progress)
            except UserError as e:
                outcome.steps[step], outcome.error = "FAILED", e.format_message()
                progress(f"{step} FAILED: {outcome.error}")
                return outcome
            outcome.steps[step] = "ok"
            state.mark(row, step)
            progress(f"{step} ok")
        return outcome

    with ThreadPoolExecutor(max_workers=max(1, parallel)) as pool:
        return list(pool.map(board, rows))


def summary(outcomes: list[Outcome], steps: list[str]) -> list[str]:
    width = max([len("gate")] + [len(o.row.gate_id) for o in outcomes])
    lines = [f"{'gate':<{width}}  " + "  ".join(f"{s:<9}" for s in steps) + "  port"]
    for o in outcomes:
        cells = "  ".join(f"{o.steps.get(s, '-'):<9}" for s in steps)
        lines.append(f"{o.row.gate_id:<{width}}  {cells}  {o.row.port}" + (f"  ({o.error})" if o.error else ""))
    failed = sum(1 for o in outcomes if o.error)
    lines.append(f"{len(outcomes) - failed} of {len(outcomes)} boards done" + (f", {failed} failed" if failed else ""))
    return lines
