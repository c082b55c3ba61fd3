"""A streaming xlsx writer for exports: rows of text, integers, booleans and times go straight
into the zip as they come, so an export of millions of rows holds one row in memory.

openpyxl writes a cell at a time through an XML tree (about 40 µs a cell on this project's
machines): fine for a report, a quarter of an hour for a million rows. XlsxWriter's
constant_memory mode streams too, but writes the same cells about five times slower
(`bench/export.py` runs both). This writes the worksheet's XML text itself: inline strings (no
shared-string table to keep), numbers, booleans, and times as Excel serial days with a date
format. A string is always a text cell, never a formula; one that starts as a formula would
(bzgate.textsafety) is also marked quotePrefix, as Excel marks text typed after an apostrophe,
so that editing the cell keeps it text. A sheet holds at most SHEET_ROWS rows; a longer export
goes on in the next sheet, the header repeated.
"""

import zipfile
from xml.sax.saxutils import escape, quoteattr

from bzgate.textsafety import looks_like_formula

SHEET_ROWS = 1_048_576  # Excel's limit, header included
_UNIX_DAY_0 = 25569  # 1970-01-01 as an Excel serial day (1900 date system)

_NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_PKG = "http://schemas.openxmlformats.org/package/2006"
_XML = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
_STYLES = (f'{_XML}<styleSheet xmlns="{_NS}">'
           '<numFmts count="1"><numFmt numFmtId="164" formatCode="yyyy-mm-dd hh:mm:ss"/></numFmts>'
           '<fonts count="2"><font><sz val="11"/><name val="Calibri"/></font>'
           '<font><b/><sz val="11"/><name val="Calibri"/></font></fonts>'
           '<fills count="2"><fill><patternFill patternType="none"/></fill>'
           '<fill><patternFill patternType="gray125"/></fill></fills>'
           '<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>'
           '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/>'
           '</cellStyleXfs>'
           '<cellXfs count="4"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>'
           '<xf numFmtId="164" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>'
           '<xf numFmtId="0" fontId="1" fillId="0" borderId="0" xfId="0" applyFont="1"/>'
           '<xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0" quotePrefix="1"/>'
           '</cellXfs>'
           '<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles>'
           '</styleSheet>')
_DATE_STYLE, _HEADER_STYLE, _QUOTED_STYLE = 1, 2, 3
_KEPT = {"\r": "&#13;"}  # a bare CR would be read back as a newline (XML's line ends)


def _column_letters(n: int) -> list[str]:
    letters = []
    for index in range(1, n + 1):
        name = ""
        while index:
            index, rest = divmod(index - 1, 26)
            name = chr(65 + rest) + name
        letters.append(name)
    return letters


class Time(int):
    """Unix seconds to show as a date and time: the local or UTC clock chosen by the caller, who
    passes the seconds already shifted to it (t + the zone's offset)."""


def _cell(ref: str, value) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        style = f' s="{_QUOTED_STYLE}"' if looks_like_formula(value) else ""
        return (f'<c r="{ref}"{style} t="inlineStr"><is><t xml:space="preserve">'
                f'{escape(value, _KEPT)}</t></is></c>')
    if isinstance(value, bool):
        return f'<c r="{ref}" t="b"><v>{int(value)}</v></c>'
    if isinstance(value, Time):
        return f'<c r="{ref}" s="{_DATE_STYLE}"><v>{value / 86400 + _UNIX_DAY_0!r}</v></c>'
    return f'<c r="{ref}"><v>{value!r}</v></c>'


class Workbook:
    """with Workbook(file, title, header) as book: book.append(row) ... ; strings must already be
    free of the control characters xlsx cannot hold."""

    def __init__(self, file, title: str, header: list[str]):
        self._zip = zipfile.ZipFile(file, "w", zipfile.ZIP_DEFLATED, compresslevel=1)
        self._title, self._header = title, header
        self._letters = _column_letters(len(header))
        self._sheets: list[str] = []
        self._out = None
        self._row = SHEET_ROWS
        # the package's parts first, as Excel writes them; any .xml without an entry of its own
        # is a worksheet, so this does not wait for the number of sheets
        self._zip.writestr("[Content_Types].xml", (
            f'{_XML}<Types xmlns="{_PKG}/content-types">'
            '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.'
            'relationships+xml"/><Default Extension="xml" ContentType="application/vnd.'
            'openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
            '<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-'
            'officedocument.spreadsheetml.sheet.main+xml"/>'
            '<Override PartName="/xl/styles.xml" ContentType="application/vnd.openxmlformats-'
            'officedocument.spreadsheetml.styles+xml"/></Types>'))
        self._zip.writestr("_rels/.rels", (
            f'{_XML}<Relationships xmlns="{_PKG}/relationships"><Relationship Id="rId1" '
            f'Type="{_REL}/officeDocument" Target="xl/workbook.xml"/></Relationships>'))

    def __enter__(self):
        return self

    def __exit__(self, kind, *_):
        if kind is None:
            self.close()
        else:
            self._zip.close()

    def append(self, row: list) -> None:
        if self._row == SHEET_ROWS:
            self._new_sheet()
        self._row += 1
        number = self._row
        cells = "".join([_cell(f"{letter}{number}", value)
                         for letter, value in zip(self._letters, row)])
        self._out.write(f'<row r="{number}">{cells}</row>'.encode())

    def _new_sheet(self) -> None:
        self._end_sheet()
        self._sheets.append(self._title if not self._sheets
                            else f"{self._title} {len(self._sheets) + 1}")
        self._out = self._zip.open(f"xl/worksheets/sheet{len(self._sheets)}.xml", "w",
                                   force_zip64=True)
        self._out.write(f'{_XML}<worksheet xmlns="{_NS}"><sheetData>'.encode())
        self._row = 1
        header = "".join(f'<c r="{letter}1" s="{_HEADER_STYLE}" t="inlineStr"><is><t>'
                         f'{escape(name)}</t></is></c>'
                         for letter, name in zip(self._letters, self._header))
        self._out.write(f'<row r="1">{header}</row>'.encode())

    def _end_sheet(self) -> None:
        if self._out is not None:
            self._out.write(b"</sheetData></worksheet>")
            self._out.close()

    def close(self) -> None:
        if not self._sheets:  # no rows: the header alone
            self._new_sheet()
        self._end_sheet()
        count = len(self._sheets)
        sheets = "".join(f'<sheet name={quoteattr(name)} sheetId="{i}" '
                         f'r:id="rId{i}"/>' for i, name in enumerate(self._sheets, 1))
        links = "".join(f'<Relationship Id="rId{i}" Type="{_REL}/worksheet" '
                        f'Target="worksheets/sheet{i}.xml"/>' for i in range(1, count + 1))
        self._zip.writestr("xl/workbook.xml", (
            f'{_XML}<workbook xmlns="{_NS}" xmlns:r="{_REL}"><sheets>{sheets}</sheets></workbook>'))
        self._zip.writestr("xl/_rels/workbook.xml.rels", (
            f'{_XML}<Relationships xmlns="{_PKG}/relationships">{links}'
            f'<Relationship Id="rId{count + 1}" Type="{_REL}/styles" Target="styles.xml"/>'
            '</Relationships>'))
        self._zip.writestr("xl/styles.xml", _STYLES)
        self._zip.close()
