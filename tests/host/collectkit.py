"""Gates with a known journal for collect tests: records written into a virtual board's flash
with a known key (also put in the board's NVS, as provisioning does) before the gate boots,
which then goes on appending to that journal.

    board, keys = start_journal_gate(tmp, records=2400)
    db_records(db_path) == flash_records(board.flash)      # the database holds the journal
"""

import json
from pathlib import Path

from gatekit import start_gate, stop_gate
from journalkit import SEGMENT_SUFFIX

from bzcore import record
from bzgate import store
from bzgate.keys import KeyStore

KEY = bytes(range(100, 132))
T0 = 1_790_000_000  # 2026-09-21: records made with a valid clock
SEGMENT = 85  # records per segment file (gate.journal.SEGMENT_RECORDS)
ANDROID_ID = bytes.fromhex("130CEA6472130C185D8643DF")


def payload_for(seq: int) -> tuple[int, bytes]:
    """Mostly sightings, every 10th a decision, every 50th a count, every 100th an event."""
    if seq % 100 == 99:
        return record.event(record.CONFIG_ERROR, 0, "near_rssi")
    if seq % 50 == 49:
        return record.count(3, 5, 1200, 0)
    if seq % 10 == 9:
        return record.decision(record.ALLOW, record.BUTTON, record.ENFORCE, ANDROID_ID, -48,
                               record.ANDROID, 12)
    ident = seq.to_bytes(4, "big") * 3
    return record.sighting(ident, T0 + seq, T0 + seq + 20, -55, 4, 1 + seq % 2, 1 + seq % 3 // 2)


def journal_bytes(key: bytes, count: int, first: int = 0, prev_mac: bytes = record.GENESIS,
                  clock_valid=lambda seq: True) -> list[bytes]:
    out = []
    for seq in range(first, first + count):
        kind, payload = payload_for(seq)
        raw = record.encode(key, prev_mac, seq, kind, T0 + seq, clock_valid(seq), 1, payload)
        prev_mac = record.mac_of(raw)
        out.append(raw)
    return out


def signed_records(key: bytes, payloads: list) -> list[bytes]:
    """A journal of these (kind, payload)s from seq 0, chained with `key`, a second apart."""
    raws, mac = [], record.GENESIS
    for seq, (kind, payload) in enumerate(payloads):
        raws.append(record.encode(key, mac, seq, kind, T0 + seq, True, 1, payload))
        mac = record.mac_of(raws[-1])
    return raws


def write_journal(flash: Path, raws: list[bytes], first: int = 0) -> None:
    """Segment files as gate.journal writes them (each seq at its position), from the segment
    of seq `first` on (the older ones reclaimed)."""
    folder = flash / "journal"
    folder.mkdir(parents=True, exist_ok=True)
    for start in range(first - first % SEGMENT, len(raws), SEGMENT):
        (folder / f"{start:010d}{SEGMENT_SUFFIX}").write_bytes(b"".join(raws[start:start + SEGMENT]))


def start_journal_gate(where: Path, records: int, first: int = 0):
    """(GateBoard, KeyStore holding its key) of a gate whose journal holds seqs `first` to
    `records`-1 written with KEY (every 7th before its clock was set)."""
    flash = where / "flash"
    (flash / ".bzsim").mkdir(parents=True, exist_ok=True)
    (flash / ".bzsim" / "nvs-bzgate.json").write_text(json.dumps({"key": ["b", KEY.hex()]}))
    write_journal(flash, journal_bytes(KEY, records, clock_valid=lambda seq: seq % 7 != 3), first)
    board = start_gate(where, config={"site": "Tòa nhà A"})
    keys = KeyStore(where / "keys.json")
    try:
        with board.link() as link:
            keys.put(link.hello()["board_id"], KEY, gate_id="test-gate")
    except BaseException:
        print(board.control.console())  # why the gate did not answer
        stop_gate(board)
        raise
    return board, keys


def db_records(db: Path) -> list[bytes]:
    """The signed records the database holds, in seq order."""
    with store.open_store(db) as conn:
        return [bytes(row[0]) for row in conn.execute("SELECT raw FROM records ORDER BY seq")]


def segment_path(flash: Path, seq: int) -> Path:
    return flash / "journal" / f"{seq - seq % SEGMENT:010d}{SEGMENT_SUFFIX}"
