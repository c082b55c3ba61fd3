"""The Wi-Fi uplink on a virtual gate: its journal reaches a real Mosquitto (a private one, on a
free port) through the board's Wi-Fi station and the host's loopback, through a broker restart
and a Wi-Fi drop, while the gate goes on deciding; its secrets never leave it.

The drops last seconds here, not a minute: the gate's logic is the same for any length (it
decides and journals, the uplink retries with backoff up to 32 s, then resumes from the ack).
"""

import json

import pytest
from gatekit import wait_until
from journalkit import board_key
from services import PrivateBroker
from uplinkkit import FAST, PASSWORD, Host, decide_through_outages, press, uplink_config, wifi_args

from bzcore import record, recordread
from bzgate.link.serial import LinkError


def test_the_journal_reaches_the_broker_through_a_broker_restart_and_a_wifi_drop(gate):
    with PrivateBroker() as broker:
        host = Host(broker.port, "bzgate", "test-gate")
        try:
            board = gate(config={**uplink_config(broker.port), **FAST}, board_args=wifi_args())
            assert host.wait_for(lambda: host.records and host.online[-1:] == [b"1"]), "never connected"
            journal = decide_through_outages(
                board, broker, lambda: host.wait_for(lambda: host.online[-1:] == [b"0"]),
                back=lambda: host.wait_for(lambda: host.online.count(b"1") >= 2, timeout=60))
            assert sum(b"verdict" in e for e in host.events) >= 3, "live decisions on the events topic"
            assert host.wait_for(lambda: len(host.records) >= len(journal), timeout=60), \
                (len(host.records), len(journal), board.status()["uplink"])
            stored = host.stored()
            assert stored[:len(journal)] == journal  # nothing lost, nothing changed, in order
            assert recordread.verify_chain(board_key(board.flash), stored) == (len(stored), None)
            assert host.online.count(b"1") >= 3  # connected, after the restart, after the drop
            assert board.status()["decisions"] == 13  # STATUS still fits its line with the uplink on
            acked = board.flash / "journal" / "acked"
            assert wait_until(lambda: int(acked.read_text()) >= len(journal) - 1, 15), \
                "the host's acks reach the journal, as LOG ACK does"
            print(f"\nuplink: {len(stored)} records in {host.batches} batches, {host.resent} "
                  f"resent across reconnects (stored once)")
        finally:
            host.close()


def test_a_batch_the_host_refused_is_sent_again_from_its_ack(gate):
    with PrivateBroker() as broker:
        host = Host(broker.port, "bzgate", "test-gate", refuse_seq=3)
        try:
            board = gate(config={**uplink_config(broker.port), **FAST}, board_args=wifi_args())
            press(board, 6)
            assert len(board.wait_records(record.DECISION, 4, timeout=20)) >= 4  # seq 3 and on
            assert host.wait_for(lambda: host.refused == 1, timeout=30), "seq 3 never came"
            with board.link() as link:
                journal = list(link.pull(0))
            assert host.wait_for(lambda: len(host.records) >= len(journal), timeout=60), \
                (sorted(host.records), len(journal), board.status()["uplink"])
            assert host.stored()[:len(journal)] == journal  # in order, the refused batch too
            assert board.status()["uplink"]["resends"] >= 1
        finally:
            host.close()


def test_secrets_are_never_echoed_and_a_config_read_back_keeps_them(gate):
    board = gate(config={**uplink_config(1), "mqtt": {**uplink_config(1)["mqtt"],
                                                        "username": "gate", "password": "mq-secret-7"}},
                 board_args=wifi_args())
    with board.link() as link:
        shown = link.config_get()
        assert shown["wifi"] == {"ssid": "gate-lan", "password": "***"}
        assert shown["mqtt"]["password"] == "***" and shown["mqtt"]["username"] == "gate"
        with pytest.raises(LinkError) as refused:
            link.config_set({"wifi": {"ssid": "gate-lan", "password": "too-sh"}})
        assert refused.value.data["errors"] == ["wifi.password: text of 8 to 63 characters (got not shown)"]
        link.config_set({"wifi": shown["wifi"], "site": "hall"})  # read back, written again
    on_flash = json.loads((board.flash / "config.json").read_text())
    assert on_flash["wifi"]["password"] == PASSWORD and on_flash["site"] == "hall"
    assert on_flash["mqtt"]["password"] == "mq-secret-7"
    console = board.control.console()
    assert PASSWORD not in console and "mq-secret-7" not in console


def test_a_board_without_heap_to_spare_keeps_deciding_without_the_uplink(gate):
    board = gate(config={**uplink_config(1), **FAST}, board_args=wifi_args("wroom-32"))
    status = board.status()
    assert "uplink-no-heap" in status["alarms"] and "uplink" not in status
    assert not status["safe_mode"]
    press(board, 1)
    assert len(board.wait_records(record.DECISION, 1)) == 1
    low = [e for e in board.of_kind(record.EVENT) if e["code"] == record.HEAP_LOW]
    assert low and low[0]["text"] == b"uplink" and low[0]["detail"] > 0
    print(f"\nWROOM-32 board: {low[0]['detail']} bytes spare (ESP32 terms) for the uplink")


def test_a_wroom_32_counts_what_its_wifi_station_will_take_before_starting_the_uplink(gate):
    """About 59 KB spare (a WROOM-32 given a bigger heap, its firmware in the ROMFS): more than the
    uplink's own 37 KB, less once the station and its socket have taken their 27 KB in bzgate's
    image (docs/esp32-notes.md, note 38)."""
    board = gate(config={**uplink_config(1), **FAST}, board_args=wifi_args("wroom-32") + ("--heap", "118K"))
    status = board.status()
    assert "uplink-no-heap" in status["alarms"] and "uplink" not in status
    assert wait_until(lambda: any(e["code"] == record.HEAP_LOW for e in board.of_kind(record.EVENT)), 12)
    low = [e for e in board.of_kind(record.EVENT) if e["code"] == record.HEAP_LOW]
    assert 37_000 < low[0]["detail"] < 37_000 + 32_768 + 4_096 - 9_600, low


def test_the_uplinks_check_counts_the_station_of_bzgates_image(gate):
    """Given 10 KB more (128K), a WROOM-32 running bzgate's image has about 69 KB spare: enough
    for the uplink there, whose Wi-Fi takes 9.6 KB less (64,264 needed), and not with the
    station of MicroPython's own image (73,864): a check that took one image for the other
    would refuse it."""
    board = gate(config={**uplink_config(1), **FAST},
                 board_args=wifi_args("wroom-32") + ("--heap", "128K"))
    assert wait_until(lambda: "uplink" in board.status(), 12), board.status()
    assert "uplink-no-heap" not in board.status()["alarms"]
