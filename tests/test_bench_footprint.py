"""bench/footprint.py's reading of the name table: the newest qstr pool's room and the names in
it, from what micropython.qstr_info() says and the room a probe found left; and the pools an
ESP32 would make for as many names."""

from footprint import esp32_name_pools, newest_pool


def test_the_newest_pool_follows_from_the_doubling_series():
    # the virtual board's first pool has room for 20; seven pools hold 20 * 127 = 2,540
    assert newest_pool(7, 1451, 1089) == {"newest_pool_room": 1280, "newest_pool_names": 191}
    assert newest_pool(1, 3, 17) == {"newest_pool_room": 20, "newest_pool_names": 3}
    assert newest_pool(2, 40, 20) == {"newest_pool_room": 40, "newest_pool_names": 20}


def test_counts_that_are_no_doubling_series_say_nothing():
    assert newest_pool(7, 1451, 1000) == {"newest_pool_room": None, "newest_pool_names": None}


def test_an_esp32_starts_its_pools_at_20_names_and_doubles():
    # 24 + 7 * 20 = 164 bytes: eleven 16-byte blocks
    assert esp32_name_pools(1) == {"esp32_pools": 1, "esp32_pool_room": 20, "esp32_pool_bytes": 176}
    assert esp32_name_pools(20)["esp32_pools"] == 1 and esp32_name_pools(21)["esp32_pools"] == 2
    # 894 names: pools of 20 ... 640 (room for 1,260), 176 + 304 + 592 + 1,152 + 2,272 + 4,512
    assert esp32_name_pools(894) == {"esp32_pools": 6, "esp32_pool_room": 1260, "esp32_pool_bytes": 9008}
    assert esp32_name_pools(0) == {"esp32_pools": 0, "esp32_pool_room": 0, "esp32_pool_bytes": 0}
