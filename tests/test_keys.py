"""The host key store: private, atomic, refuses what it cannot trust, never shows a key."""

import json
import os
import stat

import pytest

from bzgate.errors import UserError
from bzgate.keys import KeyStore, default_path

KEY = bytes(range(32))


def test_a_stored_key_comes_back_and_the_file_is_private(tmp_path):
    store = KeyStore(tmp_path / "conf" / "keys.json")
    store.put("240AC4000001", KEY, gate_id="front")
    assert KeyStore(store.path).get("240ac4000001") == KEY
    assert stat.S_IMODE(store.path.stat().st_mode) == 0o600
    assert stat.S_IMODE(store.path.parent.stat().st_mode) == 0o700
    assert store.boards()["240ac4000001"]["gate_id"] == "front"
    assert "key" not in store.boards()["240ac4000001"]


def test_an_unknown_board_has_no_key(tmp_path):
    assert KeyStore(tmp_path / "keys.json").get("240ac4000002") is None


def test_a_store_others_can_read_is_refused(tmp_path):
    store = KeyStore(tmp_path / "keys.json")
    store.put("240ac4000001", KEY)
    os.chmod(store.path, 0o644)
    with pytest.raises(UserError, match="chmod 600"):
        store.get("240ac4000001")


@pytest.mark.parametrize("text", ["{not json", '{"boards": {"a": {"key": "00"}}}', '{"boards": []}', "[]"])
def test_a_damaged_store_is_a_clear_error(tmp_path, text):
    path = tmp_path / "keys.json"
    path.write_text(text)
    os.chmod(path, 0o600)
    with pytest.raises(UserError, match="damaged"):
        KeyStore(path).get("a")


def test_replacing_a_key_leaves_no_temporary_file_and_keeps_the_others(tmp_path):
    store = KeyStore(tmp_path / "keys.json")
    store.put("aa", KEY)
    store.put("bb", KEY)
    store.put("aa", bytes(32))
    assert store.get("aa") == bytes(32) and store.get("bb") == KEY
    assert [p.name for p in tmp_path.iterdir()] == ["keys.json"]
    assert json.loads(store.path.read_text())["version"] == 1


def test_the_default_place_follows_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("BZGATE_KEYS", str(tmp_path / "k.json"))
    assert default_path() == tmp_path / "k.json"
    monkeypatch.delenv("BZGATE_KEYS")
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))
    assert default_path() == tmp_path / "bzgate" / "keys.json"


def test_a_checkpoint_key_is_kept_with_the_board_and_never_listed(tmp_path):
    store = KeyStore(tmp_path / "keys.json")
    store.put("240AC4000001", KEY, gate_id="front")
    store.put("240ac4000002", KEY, gate_id="back")
    cp = bytes(range(100, 132))
    store.put_checkpoint("240AC4000001", cp, 1600387200)
    assert store.checkpoints() == {"240ac4000001": {"gate_id": "front", "key": cp, "day": 1600387200}}
    assert "checkpoint_key" not in store.boards()["240ac4000001"]
    assert cp.hex() not in json.dumps(store.boards())
    store.put("240ac4000001", bytes(32), gate_id="front")  # a new journal key (keys import)
    assert store.checkpoints()["240ac4000001"]["key"] == cp


def test_a_checkpoint_key_needs_a_known_board_and_a_utc_midnight(tmp_path):
    store = KeyStore(tmp_path / "keys.json")
    with pytest.raises(UserError, match="provision configure"):
        store.put_checkpoint("240ac4000009", KEY, 1600387200)
    store.put("240ac4000001", KEY)
    with pytest.raises(ValueError):
        store.put_checkpoint("240ac4000001", KEY, 1600387201)
    with pytest.raises(ValueError):
        store.put_checkpoint("240ac4000001", KEY[:31], 1600387200)


@pytest.mark.parametrize("entry", [{"checkpoint_key": "00" * 31, "checkpoint_day": 1600387200},
                                   {"checkpoint_key": "00" * 32, "checkpoint_day": 1600387201},
                                   {"checkpoint_key": "00" * 32}])
def test_a_damaged_checkpoint_key_is_a_clear_error(tmp_path, entry):
    path = tmp_path / "keys.json"
    path.write_text(json.dumps({"boards": {"a": {"key": "00" * 32, **entry}}}))
    os.chmod(path, 0o600)
    with pytest.raises(UserError, match="damaged"):
        KeyStore(path).checkpoints()


def test_a_store_kept_open_sees_what_another_process_wrote_and_a_damage_since(tmp_path):
    path = tmp_path / "keys.json"
    running = KeyStore(path)  # as an ingester keeps it
    running.put("aabbccddeeff", b"\x01" * 32)
    assert running.get("aabbccddeeff") == b"\x01" * 32
    KeyStore(path).put("aabbccddeeff", b"\x02" * 32)  # `bzgate keys import` meanwhile
    KeyStore(path).put("112233445566", b"\x03" * 32)
    assert running.get("aabbccddeeff") == b"\x02" * 32 and running.get("112233445566") == b"\x03" * 32
    path.write_text("{")
    with pytest.raises(UserError, match="damaged"):
        running.get("aabbccddeeff")
