"""bzcore.record properties on CPython (its case table runs in test_core_cases.py, on both
interpreters): the portable HMAC equals CPython's hmac, any tampering breaks the chain where it
happens, and decoding never raises."""

import hashlib
import hmac

from hypothesis import given, settings
from hypothesis import strategies as st

from bzcore import record, recordread


@settings(max_examples=500)
@given(st.binary(max_size=200), st.binary(max_size=300))
def test_hmac_equals_cpython_hmac(key, msg):
    assert record.hmac_sha256(key, msg) == hmac.new(key, msg, hashlib.sha256).digest()


KEY = bytes(range(32))
BOOT_ID = 3
NO_ID = bytes(12)  # how a record says "no ID": an all-zero ID reads back as None


def _clamped(value, low, high):
    """The payload fields saturate at their width (bzcore.record's builders)."""
    return min(max(value, low), high)


def _read_id(ident):
    return None if ident in (None, NO_ID) else ident


def _sighting(ident, first, last, rssi, count, platform, source):
    return record.sighting(ident, first, last, rssi, count, platform, source), {
        "id": _read_id(ident), "first_seen": _clamped(first, 0, 2**32 - 1),
        "last_seen": _clamped(last, 0, 2**32 - 1), "max_rssi": _clamped(rssi, -128, 127),
        "count": _clamped(count, 0, 0xFFFF), "platform": platform, "source": source}


def _decision(verdict, trigger, mode, ident, rssi, platform, latency_ms, reason):
    return record.decision(verdict, trigger, mode, ident, rssi, platform, latency_ms, 1, reason), {
        "verdict": verdict, "trigger": trigger, "mode": mode, "id": _read_id(ident),
        "rssi": None if rssi is None else _clamped(rssi, -128, 126), "platform": platform,
        "latency_ms": _clamped(latency_ms, 0, 0xFFFF), "presses": 1, "reason": reason}


def _count(near, present, adverts, drops):
    return record.count(near, present, adverts, drops), {
        "near": _clamped(near, 0, 0xFFFF), "present": present,
        "adverts": _clamped(adverts, 0, 2**32 - 1), "drops": drops}


def _event(code, detail, text):
    return record.event(code, detail, text), {
        "code": code, "detail": _clamped(detail, -2**31, 2**31 - 1),
        "text": text[:record.EVENT_TEXT_MAX]}


ids_or_none = st.one_of(st.none(), st.binary(min_size=12, max_size=12))
# ((kind, payload), the fields it must read back as)
payloads = st.one_of(
    st.builds(_sighting, st.binary(min_size=12, max_size=12), st.integers(-1, 2**33),
              st.integers(-1, 2**33), st.integers(-300, 300), st.integers(-1, 2**17),
              st.sampled_from(list(record.PLATFORM_NAMES)), st.sampled_from(list(recordread.SOURCE_NAMES))),
    st.builds(_count, st.integers(-1, 2**17), st.integers(0, 9), st.integers(0, 2**33),
              st.integers(0, 9)),
    st.builds(_event, st.integers(0, 255), st.integers(-2**40, 2**40), st.binary(max_size=30)),
    st.builds(_decision, st.sampled_from(list(record.VERDICT_NAMES)),
              st.sampled_from(list(record.TRIGGER_NAMES)), st.sampled_from(list(recordread.MODE_NAMES)),
              ids_or_none, st.one_of(st.none(), st.integers(-300, 300)),
              st.sampled_from(list(record.PLATFORM_NAMES)), st.integers(0, 2**20),
              st.sampled_from(list(record.REASON_NAMES))),
)


def chain_of(items, first_seq=0, prev=record.GENESIS):
    out = []
    for k, ((kind, payload), _fields, t, valid) in enumerate(items):
        raw = record.encode(KEY, prev, first_seq + k, kind, t, valid, BOOT_ID, payload)
        prev = record.mac_of(raw)
        out.append(raw)
    return out


entries = st.lists(st.tuples(payloads, st.integers(0, 2**32 - 1), st.booleans()).map(
    lambda e: (e[0][0], e[0][1], e[1], e[2])), min_size=2, max_size=12)
journals = entries.map(chain_of)


@given(entries)
def test_a_journal_verifies_and_reads_back_what_was_written(items):
    records = chain_of(items)
    assert recordread.verify_chain(KEY, records) == (len(records), None)
    for seq, (raw, ((kind, _payload), fields, t, valid)) in enumerate(zip(records, items)):
        rec = record.decode(raw)
        assert (rec.seq, rec.kind, rec.time, rec.clock_valid, rec.boot_id) == (seq, kind, t, valid, BOOT_ID)
        assert recordread.payload_fields(rec.kind, rec.payload) == fields


@given(journals, st.data())
def test_a_changed_byte_breaks_the_chain_at_its_record(records, data):
    index = data.draw(st.integers(0, len(records) - 1))
    pos = data.draw(st.integers(0, record.RECORD_SIZE - 1))
    changed = bytearray(records[index])
    changed[pos] ^= data.draw(st.integers(1, 255))
    records[index] = bytes(changed)
    assert recordread.verify_chain(KEY, records)[0] == index


@given(journals, st.data())
def test_deleting_inserting_or_reordering_breaks_the_chain(records, data):
    a = data.draw(st.integers(0, len(records) - 1))
    b = data.draw(st.integers(0, len(records) - 1).filter(lambda k: k != a))
    deleted = records[:a] + records[a + 1:]
    inserted = records[:b] + [records[a]] + records[b:]
    swapped = list(records)
    swapped[a], swapped[b] = swapped[b], swapped[a]
    for tampered in (deleted, inserted, swapped):
        good, why = recordread.verify_chain(KEY, tampered)
        assert tampered[:good] == records[:good]
        # Only a cut at the end leaves a whole chain: the host sees it as a journal ending
        # before the board's next seq.
        assert why is not None or (tampered is deleted and a == len(records) - 1)


@settings(max_examples=1000)
@given(st.binary(max_size=60), st.integers(-1, 6))
def test_decoding_any_bytes_never_raises(raw, kind):
    rec = record.decode(raw)
    assert rec is None or len(raw) == record.RECORD_SIZE
    recordread.payload_fields(kind, raw[:record.PAYLOAD_SIZE])
