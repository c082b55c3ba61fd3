"""The board's key in NVS, and a journal that takes bad calls without raising, on the board."""

import json

from journalkit import JOURNAL_MAIN, board_key, start_journal_session

KEY_SESSION = "from gate import secret\n"
PROVISIONED = bytes(range(32))


def load_key(board):
    out = board.resume_exec("k, made = secret.load_key()\nprint('KEY', k.hex(), made)")
    key, made = out.split("KEY ", 1)[1].split()
    return bytes.fromhex(key), made == "True"


def test_a_board_without_a_key_makes_one_and_keeps_it_and_a_provisioned_key_is_used(tmp_path):
    flash = tmp_path / "flash"
    board = start_journal_session(flash, KEY_SESSION)
    try:
        made_key, made = load_key(board)
        assert made and len(made_key) == 32
        assert load_key(board) == (made_key, False)
        assert board_key(flash) == made_key  # committed to NVS, where provisioning reads it
        board.resume_exec("import esp32\nn = esp32.NVS('bzgate')\n"
                          f"n.set_blob('key', {PROVISIONED!r})\nn.commit()")
        assert load_key(board) == (PROVISIONED, False)
        board.resume_exec("n.set_blob('key', b'16 bytes only!!!')\nn.commit()")
        replaced, made = load_key(board)
        assert made and len(replaced) == 32 and replaced not in (made_key, PROVISIONED)
    finally:
        board.stop()


def test_bad_calls_are_counted_never_raised(tmp_path):
    board = start_journal_session(tmp_path / "flash", JOURNAL_MAIN)
    try:
        out = board.resume_exec(
            "j.append(record.EVENT, None, b'x' * 27)\n"      # payload too long
            "j.append(record.EVENT, 'soon', b'')\n"          # not a (seconds, valid) pair
            "kind, payload = record.count(1, 2, 3, 4)\nj.append(kind, None, payload)\n"
            "j.flush()\n"
            "print(len(j.read_from('x', 5)), len(j.read_from(0, None)), len(j.read_from(0, 5)))\n"
            "j.ack('x')\nj.ack(None)\nshow(j)")
    finally:
        board.stop()
    assert "Traceback" not in out, out
    reads, stats = out.split("STATS ")
    assert reads.split() == ["0", "0", "1"]
    stats = json.loads(stats)
    assert stats["rejected"] == 2 and stats["next_seq"] == 1 and stats["acked"] == -1


def test_a_journal_it_cannot_read_is_left_alone(tmp_path):
    flash = tmp_path / "flash"
    flash.mkdir()
    (flash / "journal").write_bytes(b"not a directory")
    board = start_journal_session(flash, JOURNAL_MAIN)
    try:
        out = board.resume_exec("append(j, 3)\nj.flush()\nshow(j)")
    finally:
        board.stop()
    stats = json.loads(out.split("STATS ")[1])
    assert stats["alarms"] == ["journal-unreadable"]
    assert stats["unwritten"] == 3 and stats["next_seq"] == 0
    assert (flash / "journal").read_bytes() == b"not a directory"
