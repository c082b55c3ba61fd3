"""The report's chart: compliance by local day, as PNG bytes (matplotlib's Agg renderer, its
bundled DejaVu fonts, which have Vietnamese diacritics: nothing is fetched or shown)."""

import datetime as dt
import io

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from bzgate.report.figures import Line
from bzgate.report.labels import LABELS


def compliance_png(daily: list[Line], lang: str) -> bytes:
    words = LABELS[lang]
    days = [dt.date.fromisoformat(line.unit).strftime(words["date"]) for line in daily]
    rates = [(line.compliance or 0) * 100 for line in daily]
    figure = Figure(figsize=(max(4.0, 0.6 * len(days) + 2), 3.2), dpi=100)
    FigureCanvasAgg(figure)
    axes = figure.add_subplot()
    bars = axes.bar(days, rates, color="#2e7d32")
    axes.bar_label(bars, labels=[f"{rate:.0f}" for rate in rates], fontsize=8)
    axes.set_ylim(0, 105)
    axes.set_ylabel(words["chart_y"])
    axes.set_title(words["chart_title"])
    axes.tick_params(axis="x", labelrotation=45 if len(days) > 7 else 0, labelsize=8)
    figure.tight_layout()
    out = io.BytesIO()
    figure.savefig(out, format="png", metadata={"Software": None})  # same data, same bytes
    return out.getvalue()
