# On-board driver for the journal tests, copied to a virtual board's flash as /journal_driver.py.
# main.py imports it: `open_journal()` for tests that then call the journal at the REPL,
# `append_until_cut()` for the power-cut test, `flush_timing()` for the flush task.
# Runs on the board's MicroPython only.
import json
import os
import time

import asyncio

import esp32

from bzcore import record
from gate import clock, secret
from gate.journal import Journal

ROOT = "/journal"
ID = b"\x13\x0c\xea\x64\x72\x13\x0c\x18\x5d\x86\x43\xdf"


def _boot_count():
    nvs = esp32.NVS("jdriver")
    try:
        boot = nvs.get_i32("boot") + 1
    except OSError:
        boot = 1
    nvs.set_i32("boot", boot)
    nvs.commit()
    return boot


def open_journal():
    key, _ = secret.load_key()
    return Journal(ROOT, key, _boot_count(), clock)


def sample(n):
    """The n-th record of a varied stream: (kind, payload) of each kind in turn."""
    which = n % 4
    if which == 0:
        return record.sighting(ID, n, n + 5, -60 - n % 30, n % 500, record.ANDROID, record.ADV)
    if which == 1:
        return record.decision(record.ALLOW if n % 3 else record.DENY, record.BUTTON,
                               record.ENFORCE, ID if n % 3 else None, -55, record.IOS, n % 300)
    if which == 2:
        return record.count(n % 7, n % 11, n * 13, n % 5)
    return record.event(record.SCAN_RESTART, n, b"driver %d" % n)


def append(journal, count):
    first = journal.stats()["next_seq"]
    for n in range(first, first + count):
        kind, payload = sample(n)
        journal.append(kind, None, payload)


def flushed(journal):
    """(seq, MAC hex) of the last record on flash, or (-1, "") for none."""
    stats = journal.stats()
    seq = stats["next_seq"] - stats["pending"] - 1
    got = journal.read_from(seq, 1)
    return (seq, record.mac_of(got[0]).hex()) if got else (-1, "")


def append_until_cut():
    """Append batches of 1..48 records (a batch of 32 flushes by itself), flush, and report
    the last record on flash with its MAC, until the power goes."""
    journal = open_journal()
    print("RECOVERED %d" % journal.stats()["next_seq"])
    while True:
        append(journal, os.urandom(1)[0] % 48 + 1)
        journal.flush()
        print("FLUSHED %d %s" % flushed(journal))
        time.sleep_ms(os.urandom(1)[0] % 10)  # a gate's pace, not a benchmark's


def show(journal):
    print("STATS " + json.dumps(journal.stats()))


def fill(journal, extra):
    """Append until storage is full, then `extra` more; print how many appends were made."""
    made = 0
    while not journal.stats()["storage_full"]:
        append(journal, 32)
        made += 32
    append(journal, extra)
    print("APPENDED %d" % (made + extra))


async def _flush_timing():
    journal = open_journal()
    asyncio.create_task(journal.run())
    for count in (3, 32):
        append(journal, count)
        start = time.ticks_ms()
        while journal.stats()["pending"]:
            await asyncio.sleep_ms(20)
        print("ON FLASH %d %d" % (count, time.ticks_diff(time.ticks_ms(), start)))


def flush_timing():
    """How long 3 records, then a batch of 32, wait in RAM under the journal's flush task."""
    asyncio.run(_flush_timing())
