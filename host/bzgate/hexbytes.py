"""Hex text as typed or pasted by people: `0201 02`, `02:01:02`, `0x020102` all mean the same."""

from bzgate.errors import UserError

_SEPARATORS = str.maketrans("", "", " \t:-_")


def parse_hex(text: str, what: str, size: int | None = None) -> bytes:
    cleaned = text.strip().translate(_SEPARATORS)
    if cleaned[:2].lower() == "0x":
        cleaned = cleaned[2:]
    try:
        value = bytes.fromhex(cleaned)
    except ValueError:
        raise UserError(f"{what} is not hex: {text!r}") from None
    if size is not None and len(value) != size:
        raise UserError(f"{what} must be {size} bytes ({size * 2} hex digits), got {len(value)}")
    return value
