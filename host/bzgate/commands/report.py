"""`bzgate report`: the gate report for agencies, as HTML, Markdown or xlsx."""

import click

from bzgate.commands.options import open_existing, output_file, output_option, selection_options, text_output
from bzgate.errors import UserError
from bzgate.report import chart as reportchart
from bzgate.report import figures as report
from bzgate.report import render as reportrender
from bzgate.report.labels import LANGS
from bzgate.store import audit
from bzgate.store.selection import Selection

EXIT_NOTHING = 1  # the command was right, the range holds nothing to report


@click.command("report")
@selection_options
@click.option("--by", type=click.Choice(report.BY), default="day", show_default=True,
              help="One table row per local day, site or gate.")
@click.option("--format", "fmt", type=click.Choice(("html", "xlsx", "md")), default="html",
              show_default=True, help="html (one file, chart inside), xlsx (to a file: -o FILE), or "
                                      "Markdown (the chart beside it as FILE.png).")
@click.option("--lang", type=click.Choice(LANGS), default="vi", show_default=True,
              help="Vietnamese or English labels.")
@output_option
def report_command(start, end, sites, gates, db, by, fmt, lang, output) -> None:
    """Report people at the gate, allowed, denied, no app, compliance, unique Bluezone devices
    (Android/iOS) and the busiest hour, per day, site or gate, with a chart of compliance by day.

    \b
    Examples:
      bzgate report --from 2020-09-14 --to 2020-09-20 -o tuan38.html
      bzgate report --by gate --format xlsx --lang en -o week38.xlsx
    """
    if fmt == "xlsx" and output is None:
        raise UserError("xlsx needs a file: add -o FILE")
    selection = Selection.from_options(start, end, sites, gates)
    conn = open_existing(db)
    figures = report.build(conn, selection, by)
    if figures.empty:
        raise UserError(f"no decisions or sightings from {selection.describe()}: nothing to "
                        "report (collect from the gates first, or widen --from/--to)",
                        exit_code=EXIT_NOTHING)
    png = reportchart.compliance_png(figures.daily, lang)
    if fmt == "xlsx":
        with output_file(output, binary=True) as f:
            reportrender.to_xlsx(figures, lang, png, f)
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
    audit.record(conn, "report", {"by": by, "format": fmt, "lang": lang, **selection.as_dict(),
                                  "output": str(output) if output else "-"})
