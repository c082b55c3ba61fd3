"""The report as HTML (one file, the chart inside), Markdown (the chart beside it) or xlsx (typed
cells, the chart on the sheet): the heading, the table (report/table.py), the chart, the notes."""

import base64
import html
import io

import openpyxl
from openpyxl.drawing.image import Image
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter

from bzgate.export.tables import xlsx_text
from bzgate.report import table
from bzgate.report.figures import Report
from bzgate.report.labels import LABELS
from bzgate.textsafety import looks_like_formula, markdown_text


def to_html(report: Report, lang: str, png: bytes) -> str:
    words, esc = LABELS[lang], html.escape
    head = "".join(f"<th>{esc(name)}</th>" for name in table.headers(report, lang))
    texts = table.text_rows(report, lang)
    body = "".join(
        f"<tr{' class=total' if index == len(texts) - 1 else ''}>"
        + "".join(f"<td>{esc(value)}</td>" for value in row) + "</tr>\n"
        for index, row in enumerate(texts))
    meta = "".join(f"<p><b>{esc(label)}:</b> {esc(value)}</p>"
                   for label, value in table.heading(report, lang))
    chart = base64.b64encode(png).decode("ascii")
    chart_title = table.chart_series(report, lang)[0]
    listed = "".join(f"<li>{esc(note)}</li>" for note in table.notes(report, lang))
    return f"""<!DOCTYPE html>
<html lang="{lang}"><head><meta charset="utf-8"><title>{esc(words['title'])}</title>
<style>
body {{ font-family: "Times New Roman", serif; margin: 2em; }}
h1 {{ text-align: center; font-size: 1.3em; }}
table {{ border-collapse: collapse; margin: 1em 0; }}
th, td {{ border: 1px solid #444; padding: 0.3em 0.6em; }}
th {{ background: #e8e8e8; }}
td {{ text-align: right; }} td:nth-child(2) {{ text-align: left; }}
tr.total td {{ font-weight: bold; }}
</style></head><body>
<h1>{esc(words['title'])}</h1>
{meta}
<table><thead><tr>{head}</tr></thead><tbody>
{body}</tbody></table>
<img alt="{esc(chart_title)}" src="data:image/png;base64,{chart}">
<h2>{esc(words['notes'])}</h2><ul>{listed}</ul>
</body></html>
"""


def to_markdown(report: Report, lang: str, chart_file: str | None) -> str:
    words = LABELS[lang]
    out = [f"# {words['title']}", ""]
    out += [f"**{label}:** {markdown_text(value)}  " for label, value in table.heading(report, lang)]
    names = table.headers(report, lang)
    out += ["", "| " + " | ".join(names) + " |",
            "|" + "|".join([":--", ":--"] + ["--:"] * (len(names) - 2)) + "|"]
    texts = table.text_rows(report, lang)
    for index, row in enumerate(texts):
        cells = [markdown_text(value) for value in row]
        if index == len(texts) - 1:
            cells = [f"**{cell}**" if cell else cell for cell in cells]
        out.append("| " + " | ".join(cells) + " |")
    if chart_file:
        out += ["", f"![{table.chart_series(report, lang)[0]}]({chart_file})"]
    out += ["", f"## {words['notes']}", ""] + [f"- {note}" for note in table.notes(report, lang)]
    return "\n".join(out) + "\n"


def _append(sheet, values) -> int:
    """A row at the sheet's end, typed (None: "–"), its number returned. Text that a spreadsheet
    would take for a formula (openpyxl makes one of any text starting with "=") stays text,
    quoted as Excel quotes typed text."""
    sheet.append(["–" if value is None else xlsx_text(value) if isinstance(value, str)
                  else value for value in values])
    for cell in sheet[sheet.max_row]:
        if isinstance(cell.value, str) and looks_like_formula(cell.value):
            cell.data_type = "s"
            cell.quotePrefix = True
    return sheet.max_row


def to_xlsx(report: Report, lang: str, png: bytes, out) -> None:
    words = LABELS[lang]
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = words["sheet"]
    _append(sheet, [words["title"]])
    sheet["A1"].font = Font(bold=True, size=14)
    for label, value in table.heading(report, lang):
        _append(sheet, [f"{label}:", value])
    sheet.append([])
    header_row = _append(sheet, table.headers(report, lang))
    rows = table.rows(report, lang)
    for row in rows:
        number = _append(sheet, row)
        for column in table.rate_columns(report):
            sheet.cell(number, column + 1).number_format = "0.0%"
    for cell in sheet[header_row]:
        cell.font = Font(bold=True)
        cell.fill = PatternFill("solid", fgColor="E8E8E8")
        cell.alignment = Alignment(wrap_text=True, vertical="center")
    for cell in sheet[sheet.max_row]:
        cell.font = Font(bold=True)
    for column in range(1, len(rows[0]) + 1):
        sheet.column_dimensions[get_column_letter(column)].width = (
            6 if column == 1 else 24 if column == 2 else 14)
    sheet.append([])
    _append(sheet, [words["notes"]])
    for note in table.notes(report, lang):
        _append(sheet, [f"- {note}"])
    sheet.add_image(Image(io.BytesIO(png)), f"A{sheet.max_row + 2}")
    book.save(out)
