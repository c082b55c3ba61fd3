"""`bzgate status`: the gates' states as a terminal table (or JSON) for IT staff, the same
tiles the monitor's page shows, from one HELLO, CONFIG GET and STATUS per gate; with --db, how
far behind each gate's MQTT uplink is (what `bzgate ingest` wrote to the store)."""

import json
import sys
import time

import click

from bzgate import store
from bzgate.store import ingesters
from bzgate.commands.options import db_option, json_option, listed_ports, open_existing, port_options
from bzgate.errors import UserError
from bzgate.monitor.gate import gate_tile
from bzgate.textsafety import terminal_text

EXIT_GATE = 1


def _row(tile: dict, merged: bool = False) -> list[str]:
    last = tile["last"] or {}
    state = "online" if tile["online"] else ("busy" if "busy" in tile["alarms"] else "offline")
    if tile["online"] and tile.get("checking"):
        state += ", checking"  # a press is waiting for a phone running Bluezone
    storage = "" if tile["storage_pct"] is None else f"{tile['storage_pct']} %"
    row = [tile["gate_id"] or "?", tile["site"], tile["port"], state, tile["mode"],
           str(last.get("verdict", "")).upper(), str(tile.get("decisions") or ""), storage,
           ", ".join(a for a in tile["alarms"] if a not in ("busy", "offline")) or tile["error"]]
    if merged:
        presses = tile.get("presses_merged")
        row.insert(7, "" if presses is None else str(presses))
    return row


HEADER = ["GATE", "SITE", "PORT", "STATE", "MODE", "LAST", "DECISIONS", "STORAGE", "ALARMS"]
MERGED = "MERGED"  # presses that joined a decision under way, when a gate counts them


def gate_table(tiles: list[dict]) -> str:
    """The gates' rows; the MERGED column when a gate reports presses_merged."""
    merged = any(tile.get("presses_merged") is not None for tile in tiles)
    header = [*HEADER[:7], MERGED, *HEADER[7:]] if merged else HEADER
    return table([_row(tile, merged) for tile in tiles], header)


def table(rows: list[list[str]], header: list[str] = HEADER) -> str:
    """Aligned columns; a gate's text (an older board's site may hold a newline or ESC) is
    shown with its control characters escaped, one line per row."""
    rows = [[terminal_text(cell) for cell in row] for row in rows]
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]
    return "\n".join("  ".join(cell.ljust(w) for cell, w in zip(row, widths)).rstrip()
                     for row in [header, *rows])


UPLINK_HEADER = ["GATE", "BOARD", "SEEN", "STORED", "LAG", "LAST BATCH", "BATCHES", "REFUSED",
                 "PROBLEM"]


def uplink_lags(db: str | None, now: int) -> tuple[list[dict], list[dict]]:
    """Each board's uplink row from the store, with its lag in records and the last batch's age;
    each ingester's heartbeat, with its age and its last commit's."""
    with open_existing(db) as conn:
        rows, beats = store.uplinks(conn), ingesters.ingesters(conn)
    for row in rows:
        row.update(lag=max(0, row["seen_seq"] - row["stored_seq"]), age_s=now - row["last_batch"])
    for beat in beats:
        beat.update(age_s=now - beat["seen"], commit_age_s=None if beat["last_commit"] is None
                    else now - beat["last_commit"])
    return rows, beats


def _uplink_row(row: dict) -> list[str]:
    return [row["gate_id"], row["board_id"], str(row["seen_seq"]), str(row["stored_seq"]),
            str(row["lag"]), f"{row['age_s']} s ago", str(row["batches"]), str(row["refused"]),
            row["problem"] or ""]


INGESTER_HEADER = ["INGESTER", "GROUP", "HOST", "BEAT", "LAST COMMIT", "LAG", "WAITING",
                   "TRANSACTIONS", "BATCHES", "RECORDS"]


def _ingester_row(beat: dict) -> list[str]:
    committed = "never" if beat["commit_age_s"] is None else f"{beat['commit_age_s']} s ago"
    lag = "" if beat["lag_ms"] is None else f"{beat['lag_ms']} ms"
    return [beat["client_id"], beat["group_name"] or "(all)", beat["host"], f"{beat['age_s']} s ago",
            committed, lag, str(beat["waiting"]), str(beat["transactions"]), str(beat["batches"]),
            str(beat["records"])]


@click.command("status")
@port_options
@db_option
@json_option
def status_command(ports: tuple, all_ports: bool, db: str | None, as_json: bool) -> None:
    """The gates' states: online (and checking while a press waits for a phone), mode, last
    decision, decisions since boot, presses merged into decisions, storage in use and alarms.
    A gate a running monitor holds shows as busy (its page has the rest).

    With --db, the gates whose journals come over MQTT (bzgate ingest): the last seq seen on
    the broker and the last stored, the lag between them, when the last batch came, and the
    last problem (a gap, a refused batch, a missing key). Then the ingesters that store into
    that database: their group, last heartbeat and commit, the lag of their last transaction
    (from a batch's arrival to its commit), the batches they hold not stored yet, and what
    they have stored since they started.

    With --json: {"gates": [...], "uplinks": [...], "ingesters": [...]}, each gate's full state.

    \b
    Examples:
      bzgate status --all
      bzgate status --port /dev/ttyUSB0 --json
      bzgate status --db postgresql://bzgate@dbhost/bzgate
    """
    if not ports and not all_ports and db is None:
        raise UserError("name a gate's port with --port PATH, use --all, or give the ingest "
                        "database with --db")
    targets = [(port, True) for port in dict.fromkeys(ports)]
    if all_ports:
        targets += [(port, False) for port in listed_ports() if port not in ports]
    tiles = [tile for port, named in targets if (tile := gate_tile(port, named)) is not None]
    if targets and not tiles:
        raise UserError("no gate answered on any serial port: is one plugged in and running?",
                        exit_code=EXIT_GATE)
    uplinks, beats = uplink_lags(db, int(time.time())) if db is not None else ([], [])
    if as_json:
        click.echo(json.dumps({"gates": tiles, "uplinks": uplinks, "ingesters": beats},
                              ensure_ascii=False))
    else:
        parts = [gate_table(tiles)] if tiles else []
        if db is not None:
            parts.append(table([_uplink_row(row) for row in uplinks], UPLINK_HEADER) if uplinks
                         else f"no gate has sent its journal over MQTT to {store.shown(store.db_path(db))} yet")
        if beats:
            parts.append(table([_ingester_row(beat) for beat in beats], INGESTER_HEADER))
        click.echo("\n\n".join(parts))
    offline = [tile for tile in tiles if not tile["online"] and "busy" not in tile["alarms"]]
    sys.exit(EXIT_GATE if offline else 0)
