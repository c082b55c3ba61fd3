"""The organisation file (`bzgate report --org FILE`): who reports to whom, and its units with
their staff and gates, so that the report can count install figures per unit against its total
staff, as the provincial directives ask.

A CSV file in UTF-8 (a BOM is fine, as Excel writes one): first key/value rows, then a table.

    organisation,Sở Kế hoạch và Đầu tư        required: the reporting office (top left)
    recipient,Sở Thông tin và Truyền thông    required: who receives it (Nơi nhận)
    place,Hà Nội                              required: the place of the date line
    parent,UBND thành phố Hà Nội              optional: the body above the office
    code,SKHĐT                                optional: the office's code in "Số: …/BC-SKHĐT"
    signer_title,Giám đốc                     optional: the signature block's title
    signer,Nguyễn Văn A                       optional: the name under the signature
    unit,headcount,smartphones,gates          the table's header (smartphones is optional)
    Văn phòng,25,22,hq-front-1 hq-front-2     gate ids separated by spaces

Every mistake is reported at once, one line each, naming its row and column. A gate belongs to
one unit only; gates in no unit are reported as "other".
"""

import csv
import io
from dataclasses import dataclass, field
from pathlib import Path

from bzgate.errors import UserError

REQUIRED_KEYS = ("organisation", "recipient", "place")
OPTIONAL_KEYS = ("parent", "code", "signer_title", "signer")
TABLE_COLUMNS = ("unit", "headcount", "smartphones", "gates")
OPTIONAL_COLUMNS = ("smartphones",)


@dataclass
class Unit:
    name: str
    headcount: int
    smartphones: int | None
    gates: tuple[str, ...]


@dataclass
class Organisation:
    organisation: str
    recipient: str
    place: str
    parent: str = ""
    code: str = ""
    signer_title: str = ""
    signer: str = ""
    units: list[Unit] = field(default_factory=list)

    @property
    def has_smartphones(self) -> bool:
        return bool(self.units) and self.units[0].smartphones is not None

    def unit_of(self, gate: str) -> str | None:
        """The unit a gate belongs to, None for a gate in no unit ("other")."""
        for unit in self.units:
            if gate in unit.gates:
                return unit.name
        return None


class _Errors(list):
    def add(self, row: int, column: str, message: str) -> None:
        self.append(f"row {row}, column {column}: {message}")


def _header(rows, errors: _Errors) -> tuple[dict[str, str], set[str], int | None]:
    """The key/value rows up to the table's header: the values, the keys seen (with a value or
    not), and the header's index."""
    values: dict[str, str] = {}
    seen: set[str] = set()
    for index, (number, cells) in enumerate(rows):
        key = cells[0]
        if key == TABLE_COLUMNS[0]:
            return values, seen, index
        if key not in REQUIRED_KEYS + OPTIONAL_KEYS:
            errors.add(number, "1", f"{key!r} is not a key: use {', '.join(REQUIRED_KEYS)}, "
                                    f"{', '.join(OPTIONAL_KEYS)}, then the table from "
                                    f"{','.join(TABLE_COLUMNS)}")
        elif key in seen:
            errors.add(number, "1", f"{key} is given twice")
        elif len(cells) < 2 or not cells[1]:
            errors.add(number, "2", f"{key} needs a value")
        else:
            values[key] = cells[1]
        seen.add(key)
    return values, seen, None


def _count(text: str, number: int, column: str, errors: _Errors) -> int | None:
    if text.isascii() and text.isdigit() and int(text) > 0:
        return int(text)
    errors.add(number, column, f"a whole number above 0 is needed, got {text!r}")
    return None


def _units(header: list[str], number: int, rows, errors: _Errors) -> list[Unit]:
    unknown = [name for name in header if name not in TABLE_COLUMNS]
    missing = [name for name in TABLE_COLUMNS if name not in header + list(OPTIONAL_COLUMNS)]
    for name in unknown:
        errors.add(number, str(header.index(name) + 1),
                   f"{name!r} is not a column: use {','.join(TABLE_COLUMNS)}")
    for name in missing:
        errors.add(number, name, "this column is missing from the table's header")
    if unknown or missing:
        return []
    units, owners = [], {}
    for number, cells in rows:
        cell = dict(zip(header, cells + [""] * (len(header) - len(cells))))
        name = cell["unit"]
        if not name:
            errors.add(number, "unit", "the unit needs a name")
        elif name in (unit.name for unit in units):
            errors.add(number, "unit", f"{name!r} is listed twice")
        headcount = _count(cell["headcount"], number, "headcount", errors)
        smartphones = None
        if "smartphones" in header:
            smartphones = _count(cell["smartphones"], number, "smartphones", errors)
            if smartphones and headcount and smartphones > headcount:
                errors.add(number, "smartphones", f"{smartphones} is more than the headcount "
                                                  f"({headcount})")
        gates = tuple(cell["gates"].split())
        if not gates:
            errors.add(number, "gates", "at least one gate id is needed (separated by spaces)")
        for gate in gates:
            if gate in owners:
                errors.add(number, "gates", f"gate {gate!r} is already in {owners[gate]!r} "
                                            "(a gate belongs to one unit)")
            else:
                owners[gate] = name
        units.append(Unit(name, headcount or 0, smartphones, gates))
    if not units:
        errors.add(number, "unit", "the table has no units under its header")
    return units


def parse(text: str) -> Organisation:
    """The organisation in `text`; a UserError listing every mistake otherwise."""
    rows = [(number, [cell.strip() for cell in cells])
            for number, cells in enumerate(csv.reader(io.StringIO(text)), 1)]
    rows = [(number, cells) for number, cells in rows if any(cells)]
    errors = _Errors()
    values, seen, table = _header(rows, errors)
    last_row = rows[-1][0] if rows else 1
    for key in REQUIRED_KEYS:
        if key not in seen:
            errors.add(last_row if table is None else rows[table][0], "1",
                       f"{key} is missing: a row {key},<value> before the table")
    units = []
    if table is None:
        errors.add(last_row, "1", f"no table: a header row {','.join(TABLE_COLUMNS)} "
                                  "and a row per unit")
    else:
        number, header = rows[table]
        while not header[-1]:  # a spreadsheet's empty cells after the last column
            header = header[:-1]
        units = _units(header, number, rows[table + 1:], errors)
    if errors:
        raise UserError("\n".join(errors))
    return Organisation(**values, units=units)


def load(path: Path) -> Organisation:
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except OSError as e:
        raise UserError(f"cannot read {path}: {e.strerror}") from None
    except UnicodeDecodeError as e:
        raise UserError(f"{path}: not UTF-8 (byte {e.start + 1}): save it as CSV UTF-8") from None
    try:
        return parse(text)
    except UserError as e:
        found = e.message.splitlines()
        raise UserError(f"{path}: {len(found)} {'mistake' if len(found) == 1 else 'mistakes'}, "
                        "fix and run again:\n" + "\n".join(f"  {line}" for line in found)) from None
