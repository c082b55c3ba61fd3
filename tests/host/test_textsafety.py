"""Free text from boards and users is shown as text: never a formula, a terminal sequence or a
broken Markdown row."""

import pytest

from bzgate.textsafety import markdown_text, spreadsheet_text, terminal_text


@pytest.mark.parametrize("text", ["=HYPERLINK(\"http://x\",\"y\")", "+1", "-2+3", "@SUM(A1)",
                                  "\tcmd", "\rcmd"])
def test_a_cell_that_would_be_a_formula_gets_an_apostrophe(text):
    assert spreadsheet_text(text) == "'" + text


@pytest.mark.parametrize("text", ["Toà nhà A", "a=b", "", "'already"])
def test_plain_text_is_left_alone_in_a_spreadsheet(text):
    assert spreadsheet_text(text) == text


def test_control_characters_are_escaped_for_a_terminal():
    osc = "site\x1b]0;owned\x07\nline\x9b2J\x7f"
    shown = terminal_text(osc)
    assert shown == "site\\x1b]0;owned\\x07\\x0aline\\x9b2J\\x7f"
    assert not any(ord(c) < 0x20 or 0x7F <= ord(c) < 0xA0 for c in shown)


def test_vietnamese_text_passes_through_a_terminal_unchanged():
    assert terminal_text("Sở Thông tin và Truyền thông") == "Sở Thông tin và Truyền thông"


def test_a_markdown_cell_keeps_its_row():
    assert markdown_text("a|b\nc") == "a\\|b\\x0ac"
