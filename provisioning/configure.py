"""`bzgate provision configure`: one board's configuration, key, clock and inventory entry.

Order, so that no step leaves a key only one side knows:
1. the fields given are checked (bzprov.fields) before the board is touched;
2. the board says who it is, whether it holds a key (a hash of it with a fresh nonce) and its
   config.json; the given fields go over that configuration (bzprov.update: a field not given
   keeps the board's, a new board starts from the defaults), and each change is reported;
3. the key: the host store's for this board when it has one; else the board's own (made at a
   first boot, its journal already chained with it), taken into the host store; else 32 new
   random bytes, into the host store first; the checkpoint key K0 likewise: the host store's,
   else 32 new random bytes from today's UTC midnight, into the host store first;
4. key (when new to the board), K0 and config.json go onto the board, which resets into the gate;
5. over the host link: the gate answers with the new gate id, its clock is set to UTC, and a
   configuration the board cannot run is reported (the uplink on a board without PSRAM);
6. the inventory records the board.
"""

import os
import time
from dataclasses import dataclass

from bzcore import config as gate_config
from bzcore import ids
from bzgate.errors import UserError
from bzgate.keys import KEY_BYTES, KeyStore
from bzgate.link.serial import GateLink, LinkError
from bzprov import boardkey, mpremote, update
from bzprov.inventory import Inventory
from bzprov.mpremote import BoardError
from bzprov.verify import NO_HEAP_FOR_UPLINK

KEY_SOURCES = {"host store": "the one the host store holds for this board",
               "board": "the board's own, now in the host store too",
               "new": "a new one, in the host store and on the board"}
GATE_START_S = 30  # a board resets, boots and starts its gate within this


@dataclass
class Configured:
    board_id: str
    gate_id: str
    firmware: str
    key_source: str  # "host store", "board", "new"
    clock: int


def wait_for_gate(port: str, timeout: float = GATE_START_S) -> dict:
    """HELLO from a gate that is starting; BoardError when none answers in time."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            with GateLink(port, timeout=1.0, retries=0) as link:
                return link.hello()
        except LinkError as e:
            if time.monotonic() > deadline:
                raise BoardError(f"{port}: no gate answers after the reset ({e.message}); "
                                f"`mpremote connect {port} repl` shows why") from None
            time.sleep(0.5)


def _choose_key(port: str, store: KeyStore, facts: boardkey.BoardFacts, nonce: bytes) -> tuple[bytes | None, str]:
    """(key to write to the board or None, where the key comes from)."""
    host_key = store.get(facts.board_id)
    if host_key is not None:
        if facts.key_digest is None:
            return host_key, "host store"
        if facts.key_digest == boardkey.key_digest(nonce, host_key):
            return None, "host store"
        raise BoardError(f"{port}: board {facts.board_id} holds a key that differs from the host store's; "
                        f"its journal is chained with its own key, so configure will not overwrite it. "
                        f"`bzgate keys import --port {port}` takes the board's key, if you trust the board")
    if facts.key_digest is not None:
        board_id, key = boardkey.read_key(port)
        if board_id != facts.board_id or key is None:
            raise BoardError(f"{port}: the board changed while it was being configured")
        store.put(board_id, key, source="board")
        return None, "board"
    key = os.urandom(KEY_BYTES)
    store.put(facts.board_id, key, source="provisioning")
    return key, "new"


def _checkpoint_key(store: KeyStore, board_id: str, gate_id: str) -> tuple[bytes, int]:
    """(K0, its UTC midnight): the host store's for this board, else a new one stored first."""
    known = store.checkpoints().get(board_id.lower())
    if known is not None:
        key, day = known["key"], known["day"]
    else:
        key, day = os.urandom(KEY_BYTES), ids.day_start(int(time.time()))
    store.put_checkpoint(board_id, key, day, gate_id=gate_id)
    return key, day


def _updated_config(port: str, facts: boardkey.BoardFacts, given: dict, report) -> dict:
    """The given fields over the board's configuration, its changes reported; UserError (the
    gate started again as it was) when the result is not allowed."""
    current, problems = update.board_config(facts.config_text)
    for problem in problems:
        report(f"the board's config.json: {problem}")
    cfg, errors = update.updated(current, given)
    if errors:
        if current is not None:
            mpremote.run(port, "reset")  # reading it stopped the gate: it runs on unchanged
        raise UserError(f"{port}: {len(errors)} field(s) not allowed, the board's configuration is unchanged:\n  "
                        + "\n  ".join(errors))
    if current is None:
        report("config: none on the board yet, so the defaults and the fields given")
    for line in update.changes(current, cfg):
        report("config: " + line)
    return cfg


def configure(port: str, given: dict, store: KeyStore, inventory: Inventory, location: str | None = None,
              report=lambda line: None) -> Configured:
    """Configure the board on `port`: the fields given (checked by bzprov.fields) over what it
    has; a location of None keeps the inventory's."""
    nonce = os.urandom(16)
    facts = boardkey.read_board(port, nonce)
    report(f"board {facts.board_id} (MAC {facts.mac})")
    cfg = _updated_config(port, facts, given, report)
    key, source = _choose_key(port, store, facts, nonce)
    report("key: " + KEY_SOURCES[source])
    checkpoint = _checkpoint_key(store, facts.board_id, cfg["gate_id"])
    boardkey.write_board(port, key, gate_config.dumps(cfg), checkpoint)
    hello = wait_for_gate(port)
    if hello.get("board_id") != facts.board_id or hello.get("gate_id") != cfg["gate_id"]:
        raise BoardError(f"{port}: after the reset the gate says it is {hello.get('gate_id')} on board "
                        f"{hello.get('board_id')}, not {cfg['gate_id']} on {facts.board_id}")
    try:
        with GateLink(port) as link:
            clock = link.time_set()["time"]
            alarms = link.status()["alarms"]
    except LinkError as e:
        raise BoardError(f"{port}: setting the gate's clock or reading its alarms failed: {e}") from None
    if "uplink-no-heap" in alarms:
        report("warning: " + NO_HEAP_FOR_UPLINK)
    if location is None:
        location = inventory.boards().get(facts.board_id.lower(), {}).get("location", "")
    inventory.record(facts.board_id, mac=facts.mac, firmware=hello.get("firmware"), gate_id=cfg["gate_id"],
                     site=cfg["site"], location=location, port=port)
    return Configured(facts.board_id, cfg["gate_id"], str(hello.get("firmware")), source, clock)
