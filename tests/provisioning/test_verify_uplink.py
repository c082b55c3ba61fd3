"""`provision verify`'s uplink check on virtual gates: a WROOM-32 configured for Wi-Fi and MQTT
fails it (no heap for the uplink: its records would stay on the board), a WROVER passes once an
ingester acks its journal and fails while nobody does, and a gate without the uplink passes
saying its journal is collected over USB; one whose Wi-Fi password is refused fails and says so."""

from services import PrivateBroker
from gatekit import wait_until
from uplinkkit import FAST, Host, uplink_config, wifi_args

from bzgate.keys import KeyStore
from bzprov import verify as verify_module
from bzprov.inventory import Inventory
from bzsim.shims import boardmemory

NOISE = {"other_adverts_per_s": 20}  # the BLE check passes at once


def uplink_check(board, where) -> verify_module.Check:
    checks = verify_module.verify(board.serial, KeyStore(where / "keys.json"),
                                  Inventory(where / "inventory.json"))
    return {check.name: check for check in checks}["uplink"]


def test_a_wroom_32_configured_for_the_uplink_fails_the_check_before_the_door_depends_on_it(gate, tmp_path):
    with PrivateBroker() as broker:
        board = gate(config={**uplink_config(broker.port), **FAST},
                     board_args=wifi_args(boardmemory.WROOM_32), noise=NOISE)
        check = uplink_check(board, tmp_path)
    assert not check.passed
    assert "too little heap" in check.detail and "WROVER" in check.detail


def test_a_wrover_passes_once_an_ingester_acks_its_journal(gate, tmp_path):
    with PrivateBroker() as broker:
        host = Host(broker.port, "bzgate", "test-gate")
        try:
            board = gate(config={**uplink_config(broker.port), **FAST},
                         board_args=wifi_args(boardmemory.WROVER), noise=NOISE)
            check = uplink_check(board, tmp_path)
        finally:
            host.close()
    assert check.passed, check.detail
    assert "RSSI -55 dBm" in check.detail and "acked up to seq" in check.detail


def test_a_wrover_whose_broker_has_no_ingester_fails_and_says_what_to_start(gate, tmp_path, monkeypatch):
    with PrivateBroker() as broker:
        board = gate(config={**uplink_config(broker.port), **FAST},
                     board_args=wifi_args(boardmemory.WROVER), noise=NOISE)
        assert wait_until(lambda: board.status()["uplink"]["up"], 30), "never reached the broker"
        monkeypatch.setattr(verify_module, "UPLINK_WAIT_S", 2)  # connected: the wait is the ingester's
        check = uplink_check(board, tmp_path)
    assert not check.passed
    assert "no ingester acked" in check.detail and "bzgate ingest" in check.detail


def test_a_gate_without_the_uplink_passes_and_says_how_its_journal_leaves(gate, tmp_path):
    board = gate(config=FAST, board_args=("--module", boardmemory.WROOM_32), noise=NOISE)
    check = uplink_check(board, tmp_path)
    assert check.passed and "collected over USB" in check.detail


def test_a_gate_whose_wifi_password_is_refused_fails_and_says_so(gate, tmp_path, monkeypatch):
    with PrivateBroker() as broker:
        config = uplink_config(broker.port)
        config["wifi"]["password"] = "not-the-password"
        board = gate(config={**config, **FAST}, board_args=wifi_args(boardmemory.WROVER), noise=NOISE)
        assert wait_until(lambda: board.status()["uplink"]["wifi"] == 202, 30), "no refused try"  # STAT_WRONG_PASSWORD
        monkeypatch.setattr(verify_module, "UPLINK_WAIT_S", 2)  # it has tried: what it saw is known
        check = uplink_check(board, tmp_path)
    assert not check.passed
    assert "not connected to the broker" in check.detail and "the Wi-Fi password was refused" in check.detail
