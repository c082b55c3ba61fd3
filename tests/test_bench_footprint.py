"""bench/footprint.py's reading of the name table: the newest qstr pool's room and the names in
it, from what micropython.qstr_info() says and the room a probe found left."""

from footprint import newest_pool


def test_the_newest_pool_follows_from_the_doubling_series():
    # the virtual board's first pool has room for 20; seven pools hold 20 * 127 = 2,540
    assert newest_pool(7, 1451, 1089) == {"newest_pool_room": 1280, "newest_pool_names": 191}
    assert newest_pool(1, 3, 17) == {"newest_pool_room": 20, "newest_pool_names": 3}
    assert newest_pool(2, 40, 20) == {"newest_pool_room": 40, "newest_pool_names": 20}


def test_counts_that_are_no_doubling_series_say_nothing():
    assert newest_pool(7, 1451, 1000) == {"newest_pool_room": None, "newest_pool_names": None}
