"""`bzgate ingest`: the gates' journals from an MQTT broker into the store, until Ctrl-C."""

import json
import logging

import click

from bzgate import store
from bzgate.link.broker import Broker, broker_options
from bzgate.commands.options import db_option, stop_like_ctrl_c
from bzgate.collect.uplink import Ingester, default_client_id
from bzgate.keys import KeyStore


@click.command("ingest")
@broker_options(required=True, about="The broker the gates publish to.")
@click.option("--topic-prefix", "prefix", default="bzgate", show_default=True, metavar="P",
              help="The gates' mqtt.topic_prefix: journals come on P/<gate_id>/journal.")
@db_option
@click.option("--keys", "keys_path", type=click.Path(dir_okay=False), metavar="FILE",
              help="The host key store (default: $BZGATE_KEYS, else ~/.config/bzgate/keys.json).")
@click.option("--client-id", metavar="ID",
              help="The MQTT session's id; the broker keeps batches for it while the ingester "
                   "is away. Give each ingester its own [default: bzgate-ingest-<hostname>].")
@click.option("--accept-gap", "accept_gaps", multiple=True, metavar="GATE_ID",
              help="Store this gate's journal past a gap once: its records before are lost for good "
                   "or in another database (a new store, say). The gap goes into the audit. "
                   "Repeat for more gates.")
@click.option("--json", "as_json", is_flag=True, help="On exit, print the counts as JSON.")
def ingest_command(broker: Broker, prefix: str, db: str | None, keys_path: str | None,
                   client_id: str | None, accept_gaps: tuple[str, ...], as_json: bool) -> None:
    """Take the gates' journal batches from MQTT, verify each board's MAC chain with its key,
    store them (nothing twice) and ack each gate after the commit, until Ctrl-C. Survives the
    broker going away; `bzgate status --db ...` shows how far each gate is behind.

    \b
    Examples:
      bzgate ingest --mqtt mqtt://127.0.0.1:1883 --db bzgate.db
      bzgate ingest --mqtt mqtt://broker:1883 --db postgresql://bzgate@dbhost/bzgate
      bzgate ingest --mqtt mqtts://ingest@broker --mqtt-password-file mqtt.pass
    """
    keys = KeyStore(keys_path)
    target = store.db_path(db)
    ingester = Ingester(broker, prefix, target, keys, client_id or default_client_id(), accept_gaps)
    logging.basicConfig(format="bzgate ingest: %(message)s", level=logging.INFO)
    click.echo(f"taking {prefix}/+/journal from {broker.url} into "
               f"{store.shown(target)} (Ctrl-C ends)", err=True)
    stop_like_ctrl_c()
    ingester.run()
    counts = ingester.counts
    if as_json:
        click.echo(json.dumps(counts))
    else:
        click.echo(", ".join(f"{n} {name}" for name, n in counts.items()))
