"""What every format of the report shows, as the provincial reports lay it out: the table (rows by
measures, typed, with a total row), the heading, the subject and the notes."""

import datetime as dt

from bzgate.localtime import local_time
from bzgate.report.figures import Line, Report
from bzgate.report.labels import LABELS, hour_span, integer, percent
from bzgate.store.selection import iso_week

MEASURES = ("people", "allowed", "no_app", "exempt", "compliance", "exits", "devices", "android",
            "ios", "busiest")
UNIT_MEASURES = ("headcount", "smartphones", "people", "allowed", "no_app", "exempt",
                 "compliance", "estimated", "rate", "smartphone_rate", "exits")
RATES = frozenset(("compliance", "rate", "smartphone_rate"))  # fractions, shown as percentages
_SMARTPHONE_MEASURES = frozenset(("smartphones", "smartphone_rate"))


def measures(report: Report) -> tuple[str, ...]:
    """The table's columns after the number and the row's name."""
    if report.by != "unit":
        return MEASURES
    if report.org.has_smartphones:
        return UNIT_MEASURES
    return tuple(name for name in UNIT_MEASURES if name not in _SMARTPHONE_MEASURES)


def headers(report: Report, lang: str) -> list[str]:
    words = LABELS[lang]
    return [words["no"], words["unit"][report.by]] + [words[name] for name in measures(report)]


def _row_name(report: Report, line: Line, lang: str) -> str:
    words = LABELS[lang]
    if report.by == "day":
        return dt.date.fromisoformat(line.unit).strftime(words["date"])
    if report.by == "unit" and line.unit is None:
        return words["other"]
    return line.unit or words["no_site"]


def _cells(report: Report, line: Line) -> list:
    """The measures, typed: counts as ints, rates as fractions, None where there is none."""
    return [hour_span(line.busiest_hour) if name == "busiest" else getattr(line, name)
            for name in measures(report)]


def rows(report: Report, lang: str) -> list[list]:
    """The table's rows, typed; the last is the total (no number)."""
    body = [[number, _row_name(report, line, lang), *_cells(report, line)]
            for number, line in enumerate(report.lines, 1)]
    return body + [["", LABELS[lang]["total"], *_cells(report, report.total)]]


def rate_columns(report: Report) -> list[int]:
    """The 0-based columns of `rows` that hold rates."""
    return [2 + index for index, name in enumerate(measures(report)) if name in RATES]


def text(value, is_rate: bool, lang: str) -> str:
    """A cell as people read it: '87,5 %', '1.234', '–' for none."""
    if is_rate:
        return percent(value, lang)
    if value is None:
        return "–"
    return integer(value, lang) if isinstance(value, int) else value


def text_rows(report: Report, lang: str) -> list[list[str]]:
    rates = set(rate_columns(report))
    return [[text(value, column in rates, lang) for column, value in enumerate(row)]
            for row in rows(report, lang)]


def _days(report: Report) -> tuple[dt.date, dt.date]:
    """The first and the last local day the report covers: the range asked for, else the
    records'."""
    selection = report.selection
    start = selection.start if selection.start is not None else report.first
    end = selection.end - 1 if selection.end is not None else report.last
    return local_time(start).date(), local_time(end).date()


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


def subject(report: Report, lang: str) -> str:
    """'Kết quả sử dụng ứng dụng Bluezone tuần 48 năm 2026 (từ 23/11 đến 29/11/2026)', or the
    days from and to when the range is not one ISO week."""
    words = LABELS[lang]
    start, end = _days(report)
    last = end.strftime(words["date"])
    week = iso_week(report.selection.start, report.selection.end)
    if week:
        first = start.strftime(words["day_month"] if start.year == end.year else words["date"])
        return words["subject_week"].format(week=week[1], year=week[0], start=first, end=last)
    return words["subject_range"].format(start=start.strftime(words["date"]), end=last)


def notes(report: Report, lang: str) -> list[str]:
    words = LABELS[lang]
    found = [words["note_compliance"], words["note_no_app"]]
    if report.by == "unit":
        found += [words["note_estimate"], words["note_total"]]
        if any(line.unit is None for line in report.lines):
            found.append(words["note_other"])
    else:
        found.append(words["note_devices"])
    found.append(words["note_time"])
    if report.unplaced:
        found.append(words["note_unplaced"].format(n=integer(report.unplaced, lang)))
    return found


def chart_series(report: Report, lang: str) -> tuple[str, list[str], list[float | None]]:
    """The chart's title, bar names and compliance rates: by unit for a unit report, else by
    local day."""
    words = LABELS[lang]
    if report.by == "unit":
        return (words["chart_title"]["unit"],
                [_row_name(report, line, lang) for line in report.lines],
                [line.compliance for line in report.lines])
    return (words["chart_title"]["day"],
            [dt.date.fromisoformat(line.unit).strftime(words["date"]) for line in report.daily],
            [line.compliance for line in report.daily])
