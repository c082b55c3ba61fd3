"""The report as a Word file on the administrative form of Decree 30/2020/NĐ-CP (Appendix I):
A4 portrait, Times New Roman, the margins of the decree; at the top the reporting office (left)
and the national title and motto (right), the number and the place and date; the title BÁO CÁO
and its subject; the table, the chart and the notes; then the recipients and the signature.

Unit names, sites and gate ids come from users: in a Word file they are only ever run text,
which Word never evaluates (fields are separate elements this module does not write); control
characters, which XML cannot hold, become U+FFFD as in an xlsx cell."""

import io

from docx import Document
from docx.enum.section import WD_ORIENT
from docx.enum.table import WD_CELL_VERTICAL_ALIGNMENT, WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Cm, Mm, Pt

from bzgate.export.tables import xlsx_text
from bzgate.localtime import local_time
from bzgate.report import table
from bzgate.report.figures import Report
from bzgate.report.labels import LABELS, date_line

FONT = "Times New Roman"
BODY_PT, SMALL_PT, TABLE_PT, TABLE_HEAD_PT = 14, 12, 10, 9
TEXT_WIDTH = Mm(210 - 30 - 15)  # A4 less the left (30 mm) and right (15 mm) margins
HEAD_WIDTHS = (Cm(7.0), TEXT_WIDTH - Cm(7.0))  # the office; the national title
NUMBER_WIDTH = Cm(0.8)  # the data table's STT column; the unit's name takes what is left
WIDTHS = {"headcount": Cm(1.9)} | {name: Cm(1.25) for name in (
    "smartphones", "estimated", "busiest", *table.RATES)}  # "CCVCNLĐ", "100,0 %", "08:00–09:00"
NARROW = Cm(1.05)  # a count
NAME_MAX = Cm(4.0)  # the unit's name; the measures share what is left beyond it
CELL_MARGIN = Cm(0.06)
CENTER, RIGHT, JUSTIFY = WD_ALIGN_PARAGRAPH.CENTER, WD_ALIGN_PARAGRAPH.RIGHT, WD_ALIGN_PARAGRAPH.JUSTIFY


def _page(document) -> None:
    section = document.sections[0]
    section.orientation = WD_ORIENT.PORTRAIT
    section.page_width, section.page_height = Mm(210), Mm(297)
    section.top_margin, section.bottom_margin = Mm(20), Mm(20)
    section.left_margin, section.right_margin = Mm(30), Mm(15)
    normal = document.styles["Normal"]
    normal.font.name, normal.font.size = FONT, Pt(BODY_PT)
    fonts = normal.element.get_or_add_rPr().get_or_add_rFonts()
    for script in ("w:ascii", "w:hAnsi", "w:cs", "w:eastAsia"):
        fonts.set(qn(script), FONT)
    spacing = normal.paragraph_format
    spacing.space_before, spacing.space_after, spacing.line_spacing = Pt(0), Pt(0), 1.0


def _para(container, text: str = "", size: int = BODY_PT, bold=False, italic=False,
          align=CENTER, before: int = 0):
    paragraph = container.add_paragraph()
    paragraph.alignment = align
    paragraph.paragraph_format.space_before = Pt(before)
    if text:
        run = paragraph.add_run(xlsx_text(text))
        run.font.size, run.bold, run.italic = Pt(size), bold, italic
    return paragraph


def _rule(container, width, within) -> None:
    """A short centred line under the text above it, as the decree draws under the office's name,
    the motto and the subject: a bottom border on an empty paragraph, indented to `width`."""
    paragraph = container.add_paragraph()
    indent = (within - width) // 2
    paragraph.paragraph_format.left_indent = paragraph.paragraph_format.right_indent = indent
    paragraph.paragraph_format.line_spacing = Pt(2)
    borders = OxmlElement("w:pBdr")
    bottom = OxmlElement("w:bottom")
    for name, value in (("val", "single"), ("sz", "6"), ("space", "1"), ("color", "000000")):
        bottom.set(qn(f"w:{name}"), value)
    borders.append(bottom)
    paragraph._p.get_or_add_pPr().append(borders)


def _layout_table(document, widths, rows: int = 1):
    """A table without borders, for placing blocks side by side; its cells emptied."""
    grid = document.add_table(rows=rows, cols=len(widths))
    grid.autofit = False
    for column, width in zip(grid.columns, widths):
        column.width = width
    for row in grid.rows:
        for cell, width in zip(row.cells, widths):
            cell.width = width
            cell.paragraphs[0]._p.getparent().remove(cell.paragraphs[0]._p)
    return grid


def _head(document, report: Report, lang: str) -> None:
    words, org = LABELS[lang], report.org
    grid = _layout_table(document, HEAD_WIDTHS, rows=2)
    office, nation = grid.rows[0].cells
    if org.parent:
        _para(office, org.parent.upper(), size=13)
    _para(office, org.organisation.upper(), size=13, bold=True)
    _rule(office, Cm(2.2), HEAD_WIDTHS[0])
    _para(nation, words["nation"], size=SMALL_PT, bold=True)
    _para(nation, words["motto"], size=BODY_PT, bold=True)
    _rule(nation, Cm(6.1), HEAD_WIDTHS[1])
    number, place = grid.rows[1].cells
    _para(number, words["number"].format(code=org.code), size=13, before=6)
    _para(place, date_line(org.place, local_time(report.made).date(), lang), italic=True,
          before=6)


def _title(document, report: Report, lang: str) -> None:
    words = LABELS[lang]
    _para(document, words["form_title"], bold=True, before=18)
    _para(document, table.subject(report, lang), bold=True)
    _rule(document, Cm(4), TEXT_WIDTH)
    intro = _para(document, words["intro"].format(organisation=report.org.organisation),
                  align=JUSTIFY, before=12)
    intro.paragraph_format.first_line_indent = Cm(1)
    intro.paragraph_format.space_after = Pt(6)


def _cell_text(cell, text: str, size: int, bold: bool, align) -> None:
    paragraph = cell.paragraphs[0]
    paragraph.alignment = align
    run = paragraph.add_run(xlsx_text(text))
    run.font.size, run.bold = Pt(size), bold


def _widths(report: Report) -> list:
    measures = [WIDTHS.get(name, NARROW) for name in table.measures(report)]
    name = min(NAME_MAX, TEXT_WIDTH - NUMBER_WIDTH - sum(measures))
    extra = (TEXT_WIDTH - NUMBER_WIDTH - name - sum(measures)) // len(measures)
    return [NUMBER_WIDTH, name] + [width + extra for width in measures]


def _narrow_margins(grid) -> None:
    """Cell margins of 0.6 mm left and right: a dozen columns fit on a portrait page."""
    margins = OxmlElement("w:tblCellMar")
    for side in ("left", "right"):
        margin = OxmlElement(f"w:{side}")
        margin.set(qn("w:w"), str(CELL_MARGIN.twips))
        margin.set(qn("w:type"), "dxa")
        margins.append(margin)
    grid._tbl.tblPr.append(margins)


def _data(document, report: Report, lang: str) -> None:
    headers = table.headers(report, lang)
    texts = table.text_rows(report, lang)
    widths = _widths(report)
    grid = document.add_table(rows=1 + len(texts), cols=len(headers))
    grid.style = "Table Grid"
    grid.alignment = WD_TABLE_ALIGNMENT.CENTER
    grid.autofit = False
    _narrow_margins(grid)
    _para(document)  # Word needs a paragraph between two tables; it also spaces them
    for column, width in zip(grid.columns, widths):
        column.width = width
    for index, row in enumerate([headers] + texts):
        is_head, is_total = index == 0, index == len(texts)
        for column, (cell, text, width) in enumerate(zip(grid.rows[index].cells, row, widths)):
            cell.width = width
            cell.vertical_alignment = WD_CELL_VERTICAL_ALIGNMENT.CENTER
            align = (CENTER if is_head or column == 0 else
                     WD_ALIGN_PARAGRAPH.LEFT if column == 1 else RIGHT)
            _cell_text(cell, text, TABLE_HEAD_PT if is_head else TABLE_PT, is_head or is_total,
                       align)
    _repeat_header(grid.rows[0])


def _repeat_header(row) -> None:
    """The table's header again at the top of each page it runs onto."""
    header = OxmlElement("w:tblHeader")
    header.set(qn("w:val"), "true")
    row._tr.get_or_add_trPr().append(header)


def _notes(document, report: Report, lang: str, png: bytes) -> None:
    document.add_picture(io.BytesIO(png), width=Cm(12))
    document.paragraphs[-1].alignment = CENTER
    _para(document, f"{LABELS[lang]['notes']}:", size=13, bold=True, italic=True,
          align=JUSTIFY, before=6)
    for note in table.notes(report, lang):
        _para(document, f"- {note}", size=13, align=JUSTIFY, before=3)


def _signature(document, report: Report, lang: str) -> None:
    words, org = LABELS[lang], report.org
    _para(document, before=6)
    grid = _layout_table(document, HEAD_WIDTHS)
    recipients, signer = grid.rows[0].cells
    _para(recipients, words["recipients"], size=SMALL_PT, bold=True, italic=True,
          align=WD_ALIGN_PARAGRAPH.LEFT)
    for line in (f"- {org.recipient};", f"- {words['archive']}"):
        _para(recipients, line, size=TABLE_PT, align=WD_ALIGN_PARAGRAPH.LEFT)
    _para(signer, (org.signer_title or words["signer_title"]).upper(), bold=True)
    _para(signer, words["sign"], italic=True)
    for _ in range(3):
        _para(signer)
    _para(signer, org.signer, bold=True)


def to_docx(report: Report, lang: str, png: bytes, out) -> None:
    document = Document()
    _page(document)
    _head(document, report, lang)
    _title(document, report, lang)
    _data(document, report, lang)
    _notes(document, report, lang, png)
    _signature(document, report, lang)
    document.save(out)
