"""What an ingester writes of many boards at once, in its transaction, besides their records
(store.store_many): their journal rows taken and read, and their uplink rows.

    positions = take_journals(conn, [(board_id, gate_id), ...], now)   # {board: Position}
    note_uplinks(conn, [UplinkNote(...), ...], now)

A statement for all boards rather than a few for each: an ingester's transaction holds the
batches of hundreds of gates, and round trips to the database would be most of its time.
executemany sends all its rows in one round trip on PostgreSQL; the journal rows are taken by
one INSERT ... RETURNING, so they are not read again.
"""

from typing import NamedTuple

from bzcore import record

# The journal row created, or taken as it is (site and firmware kept): on PostgreSQL the update
# locks the row until the commit, so another ingester's batch of the board waits for this one.
# Rows are taken in the order of the VALUES.
_TAKE = ("INSERT INTO journals (board_id, gate_id, site, first_collected, last_collected) "
         "VALUES {rows} ON CONFLICT (board_id) DO UPDATE SET "
         "gate_id = excluded.gate_id, last_collected = excluded.last_collected "
         "RETURNING board_id, next_seq, last_mac, site")

# One row per board for the batches of this transaction: the seq seen only grows (batches
# replayed late do not hide the lag); counts add up; the problem is the last batch's.
_NOTE = ("INSERT INTO uplink (board_id, gate_id, seen_seq, stored_seq, last_batch, batches, refused, "
         "problem) VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (board_id) DO UPDATE SET "
         "gate_id = excluded.gate_id, stored_seq = excluded.stored_seq, "
         "seen_seq = CASE WHEN excluded.seen_seq > uplink.seen_seq THEN excluded.seen_seq "
         "ELSE uplink.seen_seq END, last_batch = excluded.last_batch, "
         "batches = uplink.batches + excluded.batches, refused = uplink.refused + excluded.refused, "
         "problem = excluded.problem")


class Position(NamedTuple):
    """Where a board's journal stands: the next seq to store and the last stored record's MAC."""
    next_seq: int
    last_mac: bytes
    site: str


class UplinkNote(NamedTuple):
    board_id: str
    gate_id: str
    seen_seq: int
    stored_seq: int
    batches: int
    refused: int
    problem: str | None


def take_journals(conn, boards: list[tuple[str, str]], now: int) -> dict[str, Position]:
    """Each (board, gate)'s journal row (each board once), created or taken, in board-id order
    (two ingesters taking rows in one order cannot deadlock), and where it stands."""
    boards = sorted(boards)
    if not boards:
        return {}
    rows = conn.execute(_TAKE.format(rows=", ".join(["(?, ?, ?, ?, ?)"] * len(boards))), [
        value for board_id, gate_id in boards for value in (board_id, gate_id, "", now, now)])
    return {board_id: Position(next_seq, record.GENESIS if mac is None else bytes(mac), site)
            for board_id, next_seq, mac, site in rows.fetchall()}


def note_uplinks(conn, notes: list[UplinkNote], now: int) -> None:
    """The boards' uplink rows (store.uplinks reads them) after this transaction's batches."""
    if notes:
        conn.executemany(_NOTE, [(n.board_id, n.gate_id, n.seen_seq, n.stored_seq, now, n.batches,
                                  n.refused, n.problem) for n in notes])
