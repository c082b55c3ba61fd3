"""A virtual gate's uplink into `bzgate ingest` (the host's ingester, in a thread) through a
private, persistent Mosquitto that restarts mid-stream, with a Wi-Fi drop: the store (SQLite,
or PostgreSQL through a whole minute without Wi-Fi) equals the gate's journal, each record
verified against the board's key and stored once."""

from collectkit import db_records
from gatekit import wait_until
from ingestkit import retained_ack, running_ingester
from journalkit import board_key
from services import PrivateBroker
from uplinkkit import FAST, decide_through_outages, uplink_config, wifi_args

from bzgate.keys import KeyStore


def test_the_sqlite_store_equals_the_journal_after_a_broker_restart_and_a_wifi_drop(gate, tmp_path):
    ingest_through_outages(gate, tmp_path, tmp_path / "store.db", wifi_down_s=0)


def test_the_postgresql_store_equals_the_journal_after_a_minute_without_wifi(gate, tmp_path, pg_url):
    ingest_through_outages(gate, tmp_path, pg_url, wifi_down_s=60)


def ingest_through_outages(gate, tmp_path, db, wifi_down_s):
    broker = PrivateBroker(tmp_path)
    broker.start()
    try:
        board = gate(config={**uplink_config(broker.broker.port), **FAST}, board_args=wifi_args())
        assert wait_until(lambda: (board.flash / ".bzsim" / "nvs-bzgate.json").exists(), 10)
        keys = KeyStore(tmp_path / "keys.json")
        keys.put(board.control.status()["uid"], board_key(board.flash), gate_id="test-gate")
        with running_ingester(broker.broker, "bzgate", db, keys) as ingester:
            journal = decide_through_outages(board, broker, lambda: True, wifi_down_s)
            # the station retries with a back-off of up to 32 s once the access point is back
            assert wait_until(lambda: len(db_records(db)) >= len(journal), 90), \
                (len(db_records(db)), len(journal), ingester.counts)
            assert db_records(db)[:len(journal)] == journal
            assert ingester.counts["broken"] == 0
        ack = retained_ack(broker.broker, "bzgate", "test-gate")
        assert ack["seq"] >= len(journal) - 1
    finally:
        broker.stop()
