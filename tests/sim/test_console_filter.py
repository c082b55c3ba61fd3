"""The console filter on its own: banners, the raw-REPL re-entry after a soft reboot, newlines."""

from bzsim.board.console import ESP32_BANNER, RAW_ENTERED, ConsoleFilter

UNIX_BANNER = (b"MicroPython 9458e3a23f on 2026-07-05; linux [GCC 14.2.1] version\r\n"
               b'Type "help()" for more information.\r\n')


def feed_bytewise(console: ConsoleFilter, data: bytes) -> bytes:
    return b"".join(console.feed(data[k : k + 1]) for k in range(len(data))) + console.flush()


def test_the_unix_banner_becomes_the_esp32_one_even_byte_by_byte():
    console = ConsoleFilter()
    assert feed_bytewise(console, b"boot\n" + UNIX_BANNER + b">>> ") == b"boot\r\n" + ESP32_BANNER + b">>> "
    assert not console.raw_repl


def test_a_soft_reboot_into_raw_repl_shows_no_banner_or_prompt():
    console = ConsoleFilter()
    console.swallow_to_raw = True
    out = feed_bytewise(console, b"from boot.py\n" + UNIX_BANNER + b">>> \r\n" + RAW_ENTERED + b">")
    assert out == b"from boot.py\r\n" + RAW_ENTERED + b">"
    assert console.raw_repl


def test_the_raw_repl_marker_split_across_reads_still_counts():
    console = ConsoleFilter()
    console.feed(b"\r\nraw REPL; CTR")
    console.feed(b"L-B to exit\r\n>")
    assert console.raw_repl
    console.feed(b"\r\n" + UNIX_BANNER + b">>> ")
    assert not console.raw_repl


def test_text_that_only_looks_like_a_banner_passes_unchanged():
    console = ConsoleFilter()
    out = console.feed(b"MicroPython rocks\nsecond line\nthird\n") + console.flush()
    assert out == b"MicroPython rocks\r\nsecond line\r\nthird\r\n"
