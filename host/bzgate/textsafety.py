"""Text that came from a board or a user, made safe for where it is shown.

Sites, gate ids, locations and notes are free text typed by people (or held by an older board
that took anything). Shown as they are, they can do harm:

    spreadsheet_text  a cell starting with = + - @, tab or CR is taken for a formula by Excel
                      and LibreOffice (CSV injection, OWASP): a leading apostrophe keeps it text
    terminal_text     control characters (newline, ESC for CSI/OSC sequences, DEL, C1) would
                      move the cursor, retitle the window or hide lines: shown as \\xNN escapes
    has_control       whether text holds such a control character (an exempt's note may not)
    markdown_text     a newline or a | would break a Markdown table row
"""

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def looks_like_formula(text: str) -> bool:
    return text.startswith(FORMULA_STARTS)


def spreadsheet_text(text: str) -> str:
    """For a CSV cell: the text, with an apostrophe in front when it would be a formula."""
    return "'" + text if looks_like_formula(text) else text


def _is_control(ch: str) -> bool:
    code = ord(ch)
    return code < 0x20 or 0x7F <= code < 0xA0


def has_control(text: str) -> bool:
    """Whether the text holds a control character (C0, DEL or C1)."""
    return any(_is_control(ch) for ch in text)


def terminal_text(text: str) -> str:
    """The text with every control character written as \\xNN (a backslash stays itself)."""
    if not has_control(text):
        return text
    return "".join(f"\\x{ord(ch):02x}" if _is_control(ch) else ch for ch in text)


def markdown_text(text: str) -> str:
    """For a Markdown table cell: controls escaped as for a terminal, | escaped."""
    return terminal_text(text).replace("|", "\\|")
