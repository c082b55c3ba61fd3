"""The journal on a virtual board's flash: full storage, ack, retention, the flush task and a
torn tail, checked on the host from the board's files with the board's key."""

import json
import re
import time

from journalkit import (JOURNAL_MAIN, board_key, flash_records, segments, start_journal_board,
                        start_journal_session)

from bzcore import record, recordread

T0 = 1_700_000_000
DAY = 86400


def stats(board, code=""):
    """Run code at the board's REPL (journal `j`), then the journal's stats."""
    out = board.resume_exec(code + "\nshow(j)")
    assert "Traceback" not in out, out
    return json.loads(out.rsplit("STATS ", 1)[1])


def first_seqs(flash):
    return [first for first, _ in segments(flash)]


def test_full_storage_keeps_unacked_records_counts_drops_and_ack_reclaims(tmp_path):
    flash = tmp_path / "flash"
    board = start_journal_session(flash, JOURNAL_MAIN, "--flash-size", "256K")
    try:
        out = board.resume_exec("fill(j, 100)")
        appended = int(re.search(r"APPENDED (\d+)", out).group(1))
        full = stats(board)
        assert full["storage_full"] and full["alarms"] == ["storage-full"]
        assert full["pending"] == 32  # the batch waits in RAM for space
        assert full["unwritten"] > 0
        assert full["next_seq"] + full["unwritten"] == appended  # every append accounted for
        key = board_key(flash)
        on_flash = flash_records(flash)
        assert len(on_flash) == full["next_seq"] - full["pending"] == full["records"]
        assert recordread.verify_chain(key, on_flash) == (len(on_flash), None)
        assert full["oldest_unacked"] == 0

        going_on = stats(board, "append(j, 10)")  # the gate keeps deciding: appends never raise
        assert going_on["unwritten"] == full["unwritten"] + 10
        assert first_seqs(flash)[0] == 0  # nothing unacked was overwritten or reclaimed

        last = len(on_flash) - 1
        acked = stats(board, f"j.ack({last})\nj.flush()")
        assert not acked["storage_full"] and acked["alarms"] == []
        assert acked["pending"] == 0 and acked["acked"] == last
        assert acked["oldest_unacked"] == last + 1
        after = flash_records(flash)
        first = first_seqs(flash)[0]
        assert first > 0  # acked segments were reclaimed for the batch
        assert recordread.verify_chain(key, after, record.mac_of(on_flash[first - 1]),
                                   first - 1) == (len(after), None)
        assert after[:last + 1 - first] == on_flash[first:]
        alarm = record.decode(after[-1])
        assert alarm.kind == record.EVENT and alarm.seq == full["next_seq"]
        assert recordread.payload_fields(alarm.kind, alarm.payload)["code"] == record.STORAGE_FULL
        assert recordread.payload_fields(alarm.kind, alarm.payload)["detail"] == going_on["unwritten"]

        since = board.control.status()["console_end"]
        board.control.power_off()
        board.control.power_on()
        board.control.wait_console(">>> ", timeout=10, since=since)  # this boot's main.py is done
        rebooted = stats(board)
        assert rebooted["acked"] == last and rebooted["next_seq"] == alarm.seq + 1
    finally:
        board.stop()


def test_retention_deletes_old_acked_segments_only(tmp_path):
    flash = tmp_path / "flash"
    board = start_journal_session(flash, JOURNAL_MAIN)
    try:
        stats(board, "append(j, 85)\nj.flush()")  # segment 0: before the clock was set
        stats(board, f"clock.set_utc({T0})\nappend(j, 170)\nappend(j, 10)\nj.flush()")
        assert first_seqs(flash) == [0, 85, 170, 255]
        assert not record.decode(flash_records(flash)[84]).clock_valid

        stats(board, f"j.ack(169)\nclock.set_utc({T0 + 20 * DAY})\nj.expire()")
        assert first_seqs(flash) == [0, 85, 170, 255]  # acked, but not 21 days old

        stats(board, f"clock.set_utc({T0 + 22 * DAY})\nj.expire()")
        assert first_seqs(flash) == [170, 255]  # segment 170 is old but not acked

        done = stats(board, "j.ack(264)\nj.expire()")
        assert first_seqs(flash) == [255]  # the newest segment carries seq and MAC on
        assert done["records"] == 10 and done["oldest_unacked"] is None
    finally:
        board.stop()


def test_flush_task_writes_within_5_s_or_at_32_records(tmp_path):
    board = start_journal_board(tmp_path / "flash",
                                "import journal_driver\njournal_driver.flush_timing()\n")
    try:
        console = board.control.wait_console("ON FLASH 32", timeout=15)
    finally:
        board.stop()
    waits = {int(n): int(ms) for n, ms in re.findall(r"ON FLASH (\d+) (\d+)", console)}
    assert 4000 <= waits[3] <= 5500
    assert waits[32] <= 500


def test_a_torn_tail_is_dropped_and_the_chain_goes_on(tmp_path):
    flash = tmp_path / "flash"
    board = start_journal_board(flash, "import journal_driver\njournal_driver.append_until_cut()\n")
    control = board.control
    try:
        control.wait_console("FLUSHED", timeout=15)  # a segment on flash before the first cut
        for tail in ("partial", "misplaced"):
            time.sleep(0.1)
            control.power_off()
            first, data = segments(flash)[-1]
            whole = len(data) // record.RECORD_SIZE
            torn = data[-record.RECORD_SIZE:]  # a whole record, but not the one that fits here
            if tail == "partial":
                torn = torn[:20]
            (flash / "journal" / f"{first:010d}.seg").write_bytes(data + torn)
            since = control.status()["console_end"]
            control.power_on()
            console = control.wait_console("FLUSHED", timeout=10, since=since)
            assert f"RECOVERED {first + whole}" in console, (tail, console)
        control.power_off()
    finally:
        board.stop()
    records = flash_records(flash)
    assert recordread.verify_chain(board_key(flash), records) == (len(records), None)
