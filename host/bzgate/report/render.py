"""A report laid out as the provincial reports are: a heading, a table of units (rows) by
measures (columns) with a total row, the chart, notes. As HTML (one file, the chart inside),
Markdown (the chart beside it) or xlsx (typed cells, the chart on the sheet)."""

import base64
import datetime as dt
import html
import io

import openpyxl
from openpyxl.drawing.image import Image
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter

from bzgate.export.tables import xlsx_text
from bzgate.localtime import local_time
from bzgate.report.figures import Line, Report
from bzgate.report.labels import LABELS, hour_span, integer, percent

MEASURES = ("triggers", "allowed", "denied", "no_app", "compliance", "devices", "android", "ios",
            "busiest")


def headers(report: Report, lang: str) -> list[str]:
    words = LABELS[lang]
    return [words["no"], words["unit"][report.by]] + [words[measure] for measure in MEASURES]


def _unit_label(report: Report, line: Line, lang: str) -> str:
    words = LABELS[lang]
    if report.by == "day":
        return dt.date.fromisoformat(line.unit).strftime(words["date"])
    return line.unit or words["no_site"]


def _cells(line: Line) -> list:
    """The measures, typed: counts as ints, compliance as a fraction (None: nobody came)."""
    return [line.triggers, line.allowed, line.denied, line.no_app, line.compliance,
            line.devices, line.android, line.ios, hour_span(line.busiest_hour)]


def rows(report: Report, lang: str) -> list[list]:
    """The table's rows, typed; the last is the total (no number)."""
    body = [[number, _unit_label(report, line, lang), *_cells(line)]
            for number, line in enumerate(report.lines, 1)]
    return body + [["", LABELS[lang]["total"], *_cells(report.total)]]


def _text(value, lang: str) -> str:
    if isinstance(value, float) or value is None:
        return percent(value, lang)
    return integer(value, lang) if isinstance(value, int) else value


def heading(report: Report, lang: str) -> list[tuple[str, str]]:
    """(label, value) lines under the title: period, scope, when the report was made."""
    words = LABELS[lang]
    start = report.selection.start if report.selection.start is not None else report.first
    end = report.selection.end - 60 if report.selection.end is not None else report.last
    lines = [(words["period"], f"{local_time(start).strftime(words['datetime'])} – "
                               f"{local_time(end).strftime(words['datetime'])}")]
    scope = report.selection.sites + report.selection.gates
    if scope:
        lines.append((words["filters"], ", ".join(scope)))
    lines.append((words["made"], local_time(report.made).strftime(words["datetime"])))
    return lines


def notes(report: Report, lang: str) -> list[str]:
    words = LABELS[lang]
    found = [words["note_compliance"], words["note_devices"], words["note_time"]]
    if report.unplaced:
        found.append(words["note_unplaced"].format(n=integer(report.unplaced, lang)))
    return found


def to_html(report: Report, lang: str, png: bytes) -> str:
    words, esc = LABELS[lang], html.escape
    head = "".join(f"<th>{esc(name)}</th>" for name in headers(report, lang))
    table = rows(report, lang)
    body = "".join(
        f"<tr{' class=total' if index == len(table) - 1 else ''}>"
        + "".join(f"<td>{esc(_text(value, lang))}</td>" for value in row) + "</tr>\n"
        for index, row in enumerate(table))
    meta = "".join(f"<p><b>{esc(label)}:</b> {esc(value)}</p>"
                   for label, value in heading(report, lang))
    chart = base64.b64encode(png).decode("ascii")
    listed = "".join(f"<li>{esc(note)}</li>" for note in notes(report, lang))
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
<img alt="{esc(words['chart_title'])}" src="data:image/png;base64,{chart}">
<h2>{esc(words['notes'])}</h2><ul>{listed}</ul>
</body></html>
"""


def to_markdown(report: Report, lang: str, chart_file: str | None) -> str:
    words = LABELS[lang]
    out = [f"# {words['title']}", ""]
    out += [f"**{label}:** {value}  " for label, value in heading(report, lang)]
    names = headers(report, lang)
    out += ["", "| " + " | ".join(names) + " |",
            "|" + "|".join([":--", ":--"] + ["--:"] * len(MEASURES)) + "|"]
    table = rows(report, lang)
    for index, row in enumerate(table):
        texts = [_text(value, lang).replace("|", "\\|") for value in row]
        if index == len(table) - 1:
            texts = [f"**{text}**" if text else text for text in texts]
        out.append("| " + " | ".join(texts) + " |")
    if chart_file:
        out += ["", f"![{words['chart_title']}]({chart_file})"]
    out += ["", f"## {words['notes']}", ""] + [f"- {note}" for note in notes(report, lang)]
    return "\n".join(out) + "\n"


def to_xlsx(report: Report, lang: str, png: bytes, out) -> None:
    words = LABELS[lang]
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = words["sheet"]
    sheet.append([words["title"]])
    sheet["A1"].font = Font(bold=True, size=14)
    for label, value in heading(report, lang):
        sheet.append([f"{label}:", xlsx_text(value)])
    sheet.append([])
    sheet.append(headers(report, lang))
    header_row = sheet.max_row
    table = rows(report, lang)
    for row in table:
        sheet.append([xlsx_text(value) if isinstance(value, str) else "–" if value is None
                      else value for value in row])
    compliance = get_column_letter(3 + MEASURES.index("compliance"))
    for number in range(header_row + 1, sheet.max_row + 1):
        sheet[f"{compliance}{number}"].number_format = "0.0%"
    for cell in sheet[header_row]:
        cell.font = Font(bold=True)
        cell.fill = PatternFill("solid", fgColor="E8E8E8")
        cell.alignment = Alignment(wrap_text=True, vertical="center")
    for cell in sheet[sheet.max_row]:
        cell.font = Font(bold=True)
    for column in range(1, len(MEASURES) + 3):
        sheet.column_dimensions[get_column_letter(column)].width = 6 if column == 1 else 16
    sheet.append([])
    sheet.append([words["notes"]])
    for note in notes(report, lang):
        sheet.append([f"- {note}"])
    image = Image(io.BytesIO(png))
    sheet.add_image(image, f"A{sheet.max_row + 2}")
    book.save(out)
