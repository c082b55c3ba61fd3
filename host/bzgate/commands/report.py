"""`bzgate report`: the gate report for agencies, as HTML, Markdown, xlsx, or a Word file in the
administrative layout."""

import time
from importlib import resources
from pathlib import Path

import click

from bzgate.commands.options import (no_audit_option, open_audited, output_file, output_option,
                                     selection_options, text_output)
from bzgate.errors import UserError
from bzgate.report import chart as reportchart
from bzgate.report import docxform
from bzgate.report import figures as report
from bzgate.report import org as reportorg
from bzgate.report import render as reportrender
from bzgate.report import table as reporttable
from bzgate.report.labels import LANGS
from bzgate.store.selection import Selection, week_bounds

EXIT_NOTHING = 1  # the command was right, the range holds nothing to report
ORG_TEMPLATE = "org-template.csv"
BINARY_FORMATS = ("xlsx", "docx")


def _print_org_template(ctx: click.Context, _param, value: bool) -> None:
    if value and not ctx.resilient_parsing:
        click.echo(resources.files("bzgate.report").joinpath(ORG_TEMPLATE)
                   .read_text(encoding="utf-8"), nl=False)
        ctx.exit()


def _selection(start, end, week, sites, gates) -> Selection:
    if week is None:
        return Selection.from_options(start, end, sites, gates)
    if start is not None or end is not None:
        raise UserError("--week is a range of its own: give it, or --from/--to, not both")
    return Selection(*week_bounds(week, int(time.time())), sites, gates)


@click.command("report")
@selection_options
@click.option("--week", metavar="YYYY-Www|last",
              help="One ISO week, Monday 00:00 to Sunday 24:00 Vietnam time: 2026-W48, or last "
                   "(the last full week). Instead of --from/--to.")
@click.option("--by", type=click.Choice(report.BY), show_default="unit with --org, else day",
              help="One table row per local day, site, gate, or unit of the organisation file.")
@click.option("--org", "org_file", type=click.Path(dir_okay=False, path_type=Path), metavar="FILE",
              help="The organisation file (CSV): the office, its recipient and place, and its "
                   "units with headcount, smartphones and gates (--org-template prints one).")
@click.option("--org-template", is_flag=True, expose_value=False, is_eager=True,
              callback=_print_org_template, help="Print an organisation file to start from.")
@click.option("--format", "fmt", type=click.Choice(("html", "xlsx", "md", "docx")), default="html",
              show_default=True,
              help="html (one file, chart inside), xlsx (to a file: -o FILE), Markdown (the chart "
                   "beside it as FILE.png), or docx: the administrative form of Decree "
                   "30/2020/NĐ-CP (to a file, with --org).")
@click.option("--lang", type=click.Choice(LANGS), default="vi", show_default=True,
              help="Vietnamese or English labels.")
@output_option
@no_audit_option
def report_command(start, end, sites, gates, db, week, by, org_file, fmt, lang, output,
                   no_audit) -> None:
    """Report people at the gate, allowed, no app, exempt, compliance and exits per day, site or
    gate (with unique Bluezone devices, Android/iOS, and the busiest hour), or per unit of an
    organisation against its headcount (the estimated staff running Bluezone and the install
    rate), with a chart of compliance.

    \b
    Examples:
      bzgate report --from 2020-09-14 --to 2020-09-20 -o tuan38.html
      bzgate report --by gate --format xlsx --lang en -o week38.xlsx
      bzgate report --org org.csv --week last --format docx -o bao-cao-tuan.docx
      bzgate report --org-template > org.csv
    """
    by = by or ("unit" if org_file else "day")
    if fmt in BINARY_FORMATS and output is None:
        raise UserError(f"{fmt} needs a file: add -o FILE")
    if org_file is None and (by == "unit" or fmt == "docx"):
        raise UserError(f"{'--by unit' if by == 'unit' else 'docx'} needs the organisation "
                        "file: add --org FILE (bzgate report --org-template prints one)")
    org = reportorg.load(org_file) if org_file else None
    selection = _selection(start, end, week, sites, gates)
    conn, record = open_audited(db, no_audit, "report")
    figures = report.build(conn, selection, by, org)
    if figures.empty:
        raise UserError(f"no decisions or sightings from {selection.describe()}: nothing to "
                        "report (collect from the gates first, or widen --from/--to)",
                        exit_code=EXIT_NOTHING)
    png = reportchart.compliance_png(*reporttable.chart_series(figures, lang), lang)
    _write(figures, fmt, lang, png, output)
    record("report", {"by": by, "format": fmt, "lang": lang, **selection.as_dict(),
                      "org": str(org_file) if org_file else None,
                      "output": str(output) if output else "-"})


def _write(figures, fmt: str, lang: str, png: bytes, output: Path | None) -> None:
    if fmt in BINARY_FORMATS:
        write = docxform.to_docx if fmt == "docx" else reportrender.to_xlsx
        with output_file(output, binary=True) as f:
            write(figures, lang, png, f)
    elif fmt == "html":
        with text_output(output) as f:
            f.write(reportrender.to_html(figures, lang, png))
    else:
        chart = output.with_suffix(".png") if output else None
        if chart:
            with output_file(chart, binary=True) as f:
                f.write(png)
        with text_output(output) as f:
            f.write(reportrender.to_markdown(figures, lang, chart.name if chart else None))
