"""Properties of bzcore.adv.classify over any bytes a radio could hand over."""

from hypothesis import given, settings
from hypothesis import strategies as st

from bzcore import adv, advwalk, beacon, beaconread, ids

packet = st.binary(max_size=31)
# AD structures that look like the real thing more often than random bytes do.
ad = st.one_of(
    st.binary(min_size=1, max_size=29).map(lambda body: bytes([len(body)]) + body),
    st.sampled_from([b"\x02\x01\x02", b"\x03\x03\x56\x4e", b"\x03\x02\x56\x4e", b"\x00",
                     b"\x14\xff\x4c\x00\x01" + bytes(16), b"\x11\x07" + bytes(16)]),
)
structured = st.lists(ad, max_size=6).map(b"".join).map(lambda b: b[:31])


@settings(max_examples=3000)
@given(st.one_of(packet, structured), st.one_of(st.none(), packet, structured))
def test_classify_never_raises(data, scan_rsp):
    result = adv.classify(data, scan_rsp)
    assert result.kind in advwalk.KINDS
    assert adv.classify(memoryview(data), scan_rsp) == result
    if result.kind == adv.KIND_ANDROID:
        assert len(result.id) == ids.ID_BYTES and result.platform == adv.PLATFORM_ANDROID


def android_advert(ident: bytes, flags: int) -> bytes:
    return bytes([2, 1, flags, 15, 0xFF, 0xB5, 0x22]) + ident + b"\x03\x03\x56\x4e"


@given(st.binary(min_size=12, max_size=12), st.integers(0, 255))
def test_android_advert_gives_back_its_id(ident, flags):
    result = adv.classify(android_advert(ident, flags))
    assert result == (adv.KIND_ANDROID, adv.PLATFORM_ANDROID, ident, False)


@given(st.binary(min_size=12, max_size=12), st.binary(max_size=31))
def test_android_id_in_scan_response(ident, noise):
    # The ID in the advert wins whatever the scan response holds.
    assert adv.classify(android_advert(ident, 0x1A), noise).id == ident


@given(st.text(alphabet="0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz",
               min_size=6, max_size=6),
       st.sampled_from([(a, b) for a in range(1, 6) for b in range(1, 6) if a != b]))
def test_v1_names_round_trip(code, digits):
    name = advwalk.encode_v1_name(code, *digits)
    assert adv.decode_v1_name(name.encode()) == code


@given(st.integers(0, 4102444800), st.sampled_from([96, 144, 48, 288, 1440]))
def test_slot_window_holds_the_time(t, max_ids):
    valid_from, valid_to = ids.slot_window(t, max_ids)
    assert valid_from <= t < valid_to == valid_from + ids.slot_seconds(max_ids)
    assert ids.day_start(t) + ids.slot_index(t, max_ids) * ids.slot_seconds(max_ids) == valid_from


# Status adverts of the version this code reads (Flags, the manufacturer AD of company 0xFFFF,
# then version, gate hash, mode, alarms, flags and counts), now and then with a mode past the last.
current_status = st.tuples(st.binary(min_size=4, max_size=4), st.integers(0, len(beacon.MODES)),
                           st.binary(min_size=8, max_size=8)).map(
    lambda p: b"\x02\x01\x06\x11\xff\xff\xff" + bytes([beacon.VERSION]) + p[0] + bytes([p[1]]) + p[2])


@settings(max_examples=3000)
@given(st.one_of(packet, structured, current_status,
                 st.binary(max_size=20).map(lambda tail: b"\x02\x01\x06" + bytes([len(tail) + 3])
                                            + b"\xff\xff\xff" + tail)))
def test_decode_status_never_raises_and_reads_only_its_own_version(data):
    result = beaconread.decode_status(data)
    if result is None:
        return
    if result["version"] != beacon.VERSION:
        # A later version: its number alone, so a host can say it cannot read it; never an
        # older or unknown one passed off as decoded.
        assert result == {"version": result["version"]} and result["version"] > beacon.VERSION
        return
    # What a host decodes, sent again, decodes the same: no field is lost or invented.
    again = beacon.status_advert("x", result["mode"], result["alarms"], result["counts"],
                                 result["clock_valid"], result["checkpoint"])
    assert beaconread.decode_status(again) == {**result, "gate_hash": beacon.gate_hash("x")}
