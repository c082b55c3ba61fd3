"""The host's fast reading of records (bzgate.hostrecord) answers exactly what the firmware's
bzcore.record answers: over the record case table (tests/cases/records.json) and many random
records of every kind, well formed or not, and for chains changed in every byte."""

import json
import random
from pathlib import Path

import pytest

from bzcore import record, recordread, uplink, uplinkhost
from bzgate import hostrecord

CASES = json.loads((Path(__file__).parents[1] / "cases" / "records.json").read_text())
KEY = bytes(range(32))


def reference(raw):
    """What bzcore.record reads from raw, in hostrecord.unpacked's shape."""
    rec = record.decode(raw)
    if rec is None:
        return None
    fields = recordread.payload_fields(rec.kind, rec.payload)
    values = None if fields is None else tuple(fields[name] for name in hostrecord.FIELDS[rec.kind])
    if fields is not None:
        assert set(fields) == set(hostrecord.FIELDS[rec.kind])
    return rec.seq, rec.kind, rec.clock_valid, rec.time, values, rec.mac


def case_records() -> list[bytes]:
    """The case table's chain, each of its payloads in a record, and its non-records."""
    raws = [bytes.fromhex(case["record"]) for case in CASES["chain"]["records"]]
    prev = record.GENESIS
    for seq, case in enumerate(CASES["payloads"]):
        raws.append(record.encode(KEY, prev, seq, case["kind"], 1600387300 + seq, seq % 2, 7,
                                  bytes.fromhex(case["payload"])))
        prev = record.mac_of(raws[-1])
    return raws + [bytes.fromhex(case["hex"]) for case in CASES["not_records"]]


def random_records(rng: random.Random, n: int) -> list[bytes]:
    """Random 48-byte records: any kind (mostly known ones), any flags, any payload bytes,
    events of every text size, and IDs and RSSIs that mean "none"."""
    out = []
    for _ in range(n):
        raw = bytearray(rng.randbytes(48))
        raw[4] = rng.choice([1, 2, 3, 4, 1, 2, 3, 4, 0, 5, 255])
        raw[5] = rng.choice([0, 1, 1, 2, 3, 128])
        if rng.random() < 0.3:
            raw[14:26] = bytes(12)  # a sighting without ID
        if rng.random() < 0.3:
            raw[17:29] = bytes(12)  # a decision without ID
        if rng.random() < 0.3:
            raw[29] = 127  # a decision without RSSI
        if rng.random() < 0.3:
            raw[33] = 0  # a decision from before presses
        if raw[4] == record.EVENT:
            raw[19] = rng.randrange(0, 30)  # the text's size, past EVENT_TEXT_MAX too
        out.append(bytes(raw))
    return out


def test_the_case_table_reads_the_same():
    for raw in case_records():
        assert hostrecord.unpacked(raw) == reference(raw), raw.hex()


def test_random_records_read_the_same():
    rng = random.Random(20201)
    for raw in random_records(rng, 20_000):
        assert hostrecord.unpacked(raw) == reference(raw), raw.hex()


def test_records_of_the_wrong_size_are_not_records():
    for raw in (b"", bytes(47), bytes(49), memoryview(bytes(47))):
        assert hostrecord.unpacked(raw) is None and reference(raw) is None


def _chain(rng: random.Random, n: int) -> list[bytes]:
    raws, prev = [], record.GENESIS
    for seq, raw in enumerate(random_records(rng, n)):
        kind = raw[4] if raw[4] in record.KIND_NAMES else record.SIGHTING
        raws.append(record.encode(KEY, prev, seq, kind, int.from_bytes(raw[6:10], "big"),
                                  raw[5] & 1, 3, raw[14:40]))
        prev = record.mac_of(raws[-1])
    return raws


@pytest.mark.parametrize("start", [(record.GENESIS, None), (record.GENESIS, -1)])
def test_a_chain_verifies_the_same_whatever_is_changed_in_it(start):
    rng = random.Random(7)
    good = _chain(rng, 12)
    variants = [good, good[1:], good[:3] + good[4:], good[:5] + good[4:],
                [good[0], good[2], good[1]] + good[3:], good[:6] + [good[6][:47]] + good[7:]]
    for pos in range(record.RECORD_SIZE):
        changed = bytearray(good[5])
        changed[pos] ^= 1 << rng.randrange(8)
        variants.append(good[:5] + [bytes(changed)] + good[6:])
    for raws in variants:
        for key in (KEY, bytes(32), bytes(range(100))):  # a key longer than SHA-256's block too
            assert (hostrecord.verify_chain(key, raws, *start)
                    == recordread.verify_chain(key, raws, *start))


def test_a_chain_resumed_in_its_middle_verifies_the_same():
    good = _chain(random.Random(3), 8)
    for prev_seq in (3, 2, 4):
        args = (KEY, good[4:], record.mac_of(good[3]), prev_seq)
        assert hostrecord.verify_chain(*args) == recordread.verify_chain(*args)
    assert hostrecord.verify_chain(KEY, good[4:], record.mac_of(good[3]), 3) == (4, None)


def _batch_answer(decode, payload):
    try:
        return decode(payload)
    except ValueError as e:
        return "ValueError", str(e)


def test_batches_decode_the_same_whatever_is_changed_in_them():
    rng = random.Random(11)
    board = bytes.fromhex("a4cf12345678")
    raws = _chain(rng, uplink.MAX_RECORDS + 1)
    good = [uplink.encode_batch(board, raws[:k]) for k in (1, 2, uplink.MAX_RECORDS)]
    payloads = [*good, bytearray(good[1]), memoryview(good[1]), "text", b"", b"\x01", good[1][:-1],
                good[1] + bytes(48), good[2] + raws[-1], bytes([1, 0]) + raws[0],
                bytes([1, 33]) + bytes(33) + raws[0], good[1][:2] + good[1][8:],
                uplink.encode_batch(board, [raws[0], raws[2]]), uplink.encode_batch(board, raws[1:3])]
    for pos in range(len(good[1])):
        changed = bytearray(good[1])
        changed[pos] ^= 1 << rng.randrange(8)
        payloads.append(bytes(changed))
    for payload in payloads:
        assert _batch_answer(hostrecord.decode_batch, payload) == \
            _batch_answer(uplinkhost.decode_batch, payload), payload
