"""The ESP32 NimBLE behaviour the `bluetooth` shim must reproduce (docs/esp32-notes.md,
notes 1-9): each test fails on a shim that lacks the quirk it names."""

import pytest
from airkit import GATT_CLIENT, run_board
from scenariokit import phone, running_air, scenario

ABSENT = "c0ffee000001"  # nobody in the air has this address
# A scan while a connect is pending: NimBLE's ble_gap_disc refuses with BLE_HS_EBUSY, which
# extmod/nimble/modbluetooth_nimble.c raises as MP_EBUSY (MicroPython's errno module lacks the name).
EBUSY = 16


@pytest.fixture(scope="module")
def air(tmp_path_factory):
    phones = [phone("io", "ios"), phone("bg", "ios-background")]
    with running_air(tmp_path_factory.mktemp("air"), scenario(phones)) as running:
        yield running


def address_of(air, name):
    return next(p["address"] for p in air.phones() if p["name"] == name).replace(":", "")


def test_irq_memoryviews_are_invalid_after_the_handler(tmp_path, air):
    out, _ = run_board(tmp_path, air, """
kept = []
done = []
def irq(event, data):
    if event == 5 and not kept:
        kept.append((data[1], bytes(data[1]), data[4], bytes(data[4])))
    elif event == 6:
        done.append(1)
ble.irq(irq)
ble.gap_scan(800, 30000, 30000)
wait(lambda: done, 3000)
addr, addr_copy, adv, adv_copy = kept[0]
result(kind=str(type(adv)), addr_kept=bytes(addr) == addr_copy, adv_kept=bytes(adv) == adv_copy)
""")
    assert out == {"kind": "<class 'memoryview'>", "addr_kept": False, "adv_kept": False}


def test_every_advert_is_one_irq(tmp_path, air):
    out, _ = run_board(tmp_path, air, f"""
count = [0]
done = []
def irq(event, data):
    if event == 5 and bytes(data[1]) == bytes.fromhex("{address_of(air, 'io')}"):
        count[0] += 1
    elif event == 6:
        done.append(1)
ble.irq(irq)
ble.gap_scan(1500, 30000, 30000)
wait(lambda: done, 4000)
result(count=count[0])
""")
    assert out["count"] >= 8  # one iPhone advertising every ~105 ms for 1.5 s


def test_second_scan_raises_ealready_until_stopped(tmp_path, air):
    out, _ = run_board(tmp_path, air, """
import errno
done = []
ble.irq(lambda event, data: event == 6 and done.append(1))
ble.gap_scan(0, 30000, 30000)
try:
    ble.gap_scan(0, 30000, 30000)
    second = None
except OSError as e:
    second = e.errno
ble.gap_scan(None)
stopped = wait(lambda: done, 2000)
ble.gap_scan(200, 30000, 30000)
result(second=second, ealready=errno.EALREADY, stopped=stopped, dones=len(done) if wait(lambda: len(done) == 2, 2000) else len(done))
""")
    assert out["second"] == out["ealready"]
    assert out["stopped"] and out["dones"] == 2


def test_connect_stops_the_scan_with_scan_done(tmp_path, air):
    out, _ = run_board(tmp_path, air, f"""
events = []
def irq(event, data):
    events.append(event)
ble.irq(irq)
ble.gap_scan(0, 30000, 30000)
wait(lambda: 5 in events, 2000)
ble.gap_connect(1, bytes.fromhex("{address_of(air, 'io')}"))
wait(lambda: 7 in events, 3000)
time.sleep_ms(300)
after_done = events[events.index(6):]
result(after_done=after_done)
""")
    # SCAN_DONE first, then the connection, and no scan result once the scan is done.
    assert out["after_done"][:1] == [6] and 7 in out["after_done"]
    assert 5 not in out["after_done"]


def test_failed_connect_arrives_as_disconnect_with_addr_type_ff(tmp_path, air):
    out, _ = run_board(tmp_path, air, f"""
got = []
def irq(event, data):
    if event == 8:
        got.append((data[0], data[1], bytes(data[2]).hex(), time.ticks_ms()))
ble.irq(irq)
t0 = time.ticks_ms()
ble.gap_connect(1, bytes.fromhex("{ABSENT}"), 300)
wait(lambda: got, 2000)
conn, addr_type, addr, at = got[0]
result(addr_type=addr_type, addr=addr, after_ms=time.ticks_diff(at, t0), n=len(got))
""")
    assert out["addr_type"] == 0xFF and out["addr"] == "000000000000"
    assert out["after_ms"] >= 280 and out["n"] == 1


def test_pending_connect_blocks_the_next_until_cancelled(tmp_path, air):
    out, _ = run_board(tmp_path, air, f"""
import errno
events = []
def irq(event, data):
    events.append((event, data[1] if event in (7, 8) else None))
ble.irq(irq)
ble.gap_connect(1, bytes.fromhex("{ABSENT}"), 5000)
def attempt(call):
    try:
        call()
    except OSError as e:
        return e.errno
second = attempt(lambda: ble.gap_connect(1, bytes.fromhex("{address_of(air, 'io')}")))
scan = attempt(lambda: ble.gap_scan(0, 30000, 30000))
ble.gap_connect(None)
cancelled = wait(lambda: (8, 0xFF) in events, 1000)
third = attempt(lambda: ble.gap_connect(1, bytes.fromhex("{address_of(air, 'io')}")))
connected = wait(lambda: any(e == 7 for e, _ in events), 3000)
result(second=second, scan=scan, ealready=errno.EALREADY, cancelled=cancelled, third=third,
       connected=connected)
""")
    assert out["second"] == out["ealready"]
    assert out["scan"] == EBUSY  # scan and connect cannot overlap
    assert out["cancelled"] and out["third"] is None and out["connected"]


def test_read_done_always_follows_a_read(tmp_path, air):
    out, _ = run_board(tmp_path, air, GATT_CLIENT + f"""
client.connect("{address_of(air, 'io')}")
bad = client.read(0x0999)
good = client.read(client.find(IOS_CHAR))
client.close()
result(bad=bad, good=good)
""")
    value, status, events = out["bad"]
    assert value is None and status != 0 and events == [16]
    value, status, events = out["good"]
    assert len(value) == 24 and status == 0 and events == [15, 16]


def test_exception_in_the_handler_disables_all_further_events(tmp_path, air):
    out, console = run_board(tmp_path, air, """
calls = [0]
def irq(event, data):
    calls[0] += 1
    raise ValueError("handler bug")
ble.irq(irq)
ble.gap_scan(800, 30000, 30000)
time.sleep_ms(1200)
result(calls=calls[0])
""")
    assert out["calls"] == 1  # the scan's other results and its SCAN_DONE never arrive
    assert "Unhandled exception in IRQ callback handler" in console
    assert "handler bug" in console


def test_scan_duty_cycle_decides_how_much_is_heard(tmp_path, air):
    out, _ = run_board(tmp_path, air, """
count = [0]
done = []
def irq(event, data):
    if event == 5:
        count[0] += 1
    elif event == 6:
        done.append(1)
ble.irq(irq)
heard = {}
for name, args in (("continuous", (1500, 30000, 30000)), ("default", (1500,))):
    count[0] = 0
    del done[:]
    ble.gap_scan(*args)
    wait(lambda: done, 4000)
    heard[name] = count[0]
result(**heard)
""")
    # gap_scan's default 11.25 ms every 1.28 s listens under 1 % of the time.
    assert out["continuous"] >= 12
    assert out["default"] <= 3
