"""`bzgate ingest`: the gates' journals from an MQTT broker into the store, until Ctrl-C."""

import json
import logging

import click

from bzgate import store
from bzgate.collect.uplink import BATCH_RECORDS, BATCH_S, Ingester, default_client_id
from bzgate.commands.options import (
    accept_gap_option,
    broker_options,
    db_option,
    json_option,
    keys_option,
    stop_like_ctrl_c,
    topic_prefix_option,
)
from bzgate.keys import KeyStore
from bzgate.link.broker import Broker


@click.command("ingest")
@broker_options(required=True)
@topic_prefix_option
@db_option
@keys_option
@click.option("--client-id", metavar="ID", show_default="bzgate-ingest-<hostname>",
              help="The MQTT session's id; the broker keeps batches for it while the ingester "
                   "is away. Give each ingester its own.")
@click.option("--group", metavar="NAME",
              help="Share the gates' batches with the other ingesters of this group (an MQTT "
                   "shared subscription): each batch goes to one of them. Without it, this "
                   "ingester takes every batch.")
@click.option("--batch-records", type=click.IntRange(1), default=BATCH_RECORDS, show_default=True,
              help="Records stored in one database transaction, at most.")
@click.option("--batch-ms", type=click.IntRange(1), default=int(BATCH_S * 1000), show_default=True,
              help="A transaction is committed at most this long after its first batch came.")
@accept_gap_option
@json_option
def ingest_command(broker: Broker, prefix: str, db: str | None, keys_path: str | None,
                   client_id: str | None, group: str | None, batch_records: int, batch_ms: int,
                   accept_gaps: tuple[str, ...], as_json: bool) -> None:
    """Take the gates' journal batches from MQTT (the broker the gates publish to, on
    P/<gate_id>/journal), verify each board's MAC chain with its key, store them (nothing
    twice, many batches per transaction) and ack each gate after the commit, until Ctrl-C;
    then print the counts. Survives the broker and the database going away; `bzgate status
    --db ...` shows how far each gate and each ingester is behind.

    \b
    Examples:
      bzgate ingest --mqtt mqtt://127.0.0.1:1883 --db bzgate.db
      bzgate ingest --mqtt mqtt://broker:1883 --db postgresql://bzgate@dbhost/bzgate
      bzgate ingest --mqtt mqtt://broker:1883 --db postgresql://bzgate@dbhost/bzgate \\
          --group central --client-id central-1     # and central-2, central-3, ...
      bzgate ingest --mqtt mqtts://ingest@broker --mqtt-password-file mqtt.pass
      bzgate ingest --mqtt mqtt://broker:1883 --accept-gap front --accept-gap back
    """
    keys = KeyStore(keys_path)
    target = store.db_path(db)
    ingester = Ingester(broker, prefix, target, keys, client_id or default_client_id(), accept_gaps,
                        group, batch_records, batch_ms / 1000)
    logging.basicConfig(format="bzgate ingest: %(message)s", level=logging.INFO)
    click.echo(f"taking {ingester.subscription} from {broker.url} into "
               f"{store.shown(target)} (Ctrl-C ends)", err=True)
    stop_like_ctrl_c()
    ingester.run()
    counts = ingester.counts
    if as_json:
        click.echo(json.dumps(counts))
    else:
        click.echo(", ".join(f"{n} {name}" for name, n in counts.items()))
