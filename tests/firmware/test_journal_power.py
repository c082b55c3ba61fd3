"""Power cuts at random instants while the journal appends: every record reported flushed
before a cut is on flash unchanged after it, the whole journal verifies on the host, and seq
carries on exactly after the last record on flash."""

import random
import re
import time

from journalkit import board_key, flash_records, segments, start_journal_board

from bzcore import record, recordread

CUTS = 200
MAIN = "import journal_driver\njournal_driver.append_until_cut()\n"
FLUSHED = re.compile(r"FLUSHED (\d+) ([0-9a-f]{16})")
RECOVERED = re.compile(r"RECOVERED (\d+)")


def next_seq_on_flash(flash):
    """The seq after the newest whole record in the journal's files (0 for none)."""
    for first, data in reversed(segments(flash)):
        if len(data) >= record.RECORD_SIZE:
            return first + len(data) // record.RECORD_SIZE
    return 0


def test_power_cuts_keep_every_flushed_record_and_seq_continues(tmp_path):
    rng = random.Random(4)
    flash = tmp_path / "flash"
    board = start_journal_board(flash, MAIN, "--flash-size", "4M")
    control = board.control
    reported = {}  # seq -> MAC hex, for records the board said were on flash
    recoveries = during_boot = 0
    try:
        since = 0
        for cut in range(CUTS):
            expected = next_seq_on_flash(flash)  # the power is off: the files are final
            if cut:
                since = control.status()["console_end"]
                control.power_on()
            if cut % 8 == 7:  # now and then, cut during boot and recovery
                time.sleep(rng.uniform(0, 0.08))
            else:
                control.wait_console("RECOVERED", timeout=10, since=since)
                time.sleep(rng.uniform(0, 0.1))
            control.power_off()
            console = control.console(since)
            assert "Traceback" not in console, console[:3000]
            for seq in RECOVERED.findall(console):
                assert int(seq) == expected, f"cut {cut}: recovered at {seq}, flash ends at {expected}"
                recoveries += 1
            during_boot += not RECOVERED.search(console)
            reported.update((int(seq), mac) for seq, mac in FLUSHED.findall(console))
    finally:
        board.stop()

    records = flash_records(flash)
    assert recordread.verify_chain(board_key(flash), records) == (len(records), None)
    assert [record.decode(raw).seq for raw in records] == list(range(len(records)))
    for seq, mac in reported.items():
        assert record.mac_of(records[seq]).hex() == mac, f"seq {seq} changed after a cut"
    assert recoveries >= CUTS * 3 // 4
    assert len(records) > 20 * CUTS  # appends happened between the cuts
    print(f"{CUTS} cuts ({during_boot} before recovery ended), {len(records)} records, "
          f"{len(reported)} reported flushed")
