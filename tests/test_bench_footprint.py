"""bench/footprint.py's reading of the name table: the newest qstr pool's room and the names in
it, from what micropython.qstr_info() says and the room a probe found left; and the pools an
ESP32 would make for as many names, and how many fewer would leave its newest pool out; and the
modules imported before a running gate's names are counted."""

from footprint import FIRMWARE, esp32_name_pools, newest_pool, port_modules


def test_the_newest_pool_follows_from_the_doubling_series():
    # the virtual board's first pool has room for 20; seven pools hold 20 * 127 = 2,540
    assert newest_pool(7, 1451, 1089) == {"newest_pool_room": 1280, "newest_pool_names": 191}
    assert newest_pool(1, 3, 17) == {"newest_pool_room": 20, "newest_pool_names": 3}
    assert newest_pool(2, 40, 20) == {"newest_pool_room": 40, "newest_pool_names": 20}


def test_counts_that_are_no_doubling_series_say_nothing():
    assert newest_pool(7, 1451, 1000) == {"newest_pool_room": None, "newest_pool_names": None}


def test_an_esp32_starts_its_pools_at_20_names_and_doubles():
    # 24 + 7 * 20 = 164 bytes: eleven 16-byte blocks
    assert esp32_name_pools(1) == {"esp32_pools": 1, "esp32_pool_room": 20, "esp32_pool_bytes": 176,
                                   "esp32_newest_pool_bytes": 176, "esp32_names_over": 1}
    assert esp32_name_pools(20)["esp32_pools"] == 1 and esp32_name_pools(21)["esp32_pools"] == 2
    # 894 names: pools of 20 ... 640 (room for 1,260), 176 + 304 + 592 + 1,152 + 2,272 + 4,512
    assert esp32_name_pools(894) == {"esp32_pools": 6, "esp32_pool_room": 1260, "esp32_pool_bytes": 9008,
                                     "esp32_newest_pool_bytes": 4512, "esp32_names_over": 274}
    assert esp32_name_pools(0) == {"esp32_pools": 0, "esp32_pool_room": 0, "esp32_pool_bytes": 0,
                                   "esp32_newest_pool_bytes": 0, "esp32_names_over": 0}


def test_names_over_the_pools_before_the_newest_are_what_would_leave_it_out():
    # 620 names fill the pools of 20 ... 320; the 621st makes the pool of 640 (4,512 bytes)
    assert esp32_name_pools(620)["esp32_pools"] == 5
    assert esp32_name_pools(621)["esp32_names_over"] == 1
    assert esp32_name_pools(621 + 177)["esp32_names_over"] == 178
    assert esp32_name_pools(621)["esp32_pool_bytes"] - esp32_name_pools(620)["esp32_pool_bytes"] == 4512


def test_the_names_counted_before_the_gate_runs_are_the_ports_not_the_firmwares():
    modules = port_modules(FIRMWARE)
    assert {"bluetooth", "machine", "network", "asyncio"} <= set(modules)
    assert not {"gate", "bzcore"} & set(modules)
