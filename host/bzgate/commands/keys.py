"""`bzgate keys import`: a key a board made itself into the host key store."""

import click

from bzgate.commands.options import board_port_option, keys_option
from bzgate.keys import KeyStore
from bzprov import boardkey
from bzprov.mpremote import BoardError


@click.group("keys")
def keys() -> None:
    """The host key store: each board's journal key.

    \b
    Examples:
      bzgate keys import --port /dev/ttyUSB0
    """


@keys.command("import")
@board_port_option
@keys_option
def keys_import(port, keys_path) -> None:
    """Take the key a board made itself (read over mpremote) into the host key store.

    \b
    Examples:
      bzgate keys import --port /dev/ttyUSB0 --keys keys.json
    """
    board_id, key = boardkey.read_key(port, "reset")
    if key is None:
        raise BoardError(f"{port}: board {board_id} holds no key yet (its gate has never run)")
    store = KeyStore(keys_path)
    known = store.get(board_id)
    if known == key:
        click.echo(f"board {board_id}: the host store already holds this key")
        return
    store.put(board_id, key, source="board")
    click.echo(f"board {board_id}: key {'replaced' if known else 'imported'} in {store.path}")
