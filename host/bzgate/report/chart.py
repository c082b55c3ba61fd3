"""The report's chart: compliance by unit or by local day, as PNG bytes (matplotlib's Agg
renderer, its bundled DejaVu fonts, which have Vietnamese diacritics: nothing is fetched or
shown)."""

import io
import textwrap

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from bzgate.report.labels import LABELS


def compliance_png(title: str, names: list[str], rates: list[float | None], lang: str) -> bytes:
    """Bars of compliance in percent (none: no bar, no label); long names wrapped under them."""
    shown = ["\n".join(textwrap.wrap(name, 12)) or name for name in names]
    percents = [(rate or 0) * 100 for rate in rates]
    figure = Figure(figsize=(max(4.0, 0.9 * len(names) + 1.5), 3.4), dpi=100)
    FigureCanvasAgg(figure)
    axes = figure.add_subplot()
    bars = axes.bar(range(len(names)), percents, color="#2e7d32")
    axes.bar_label(bars, labels=["" if rate is None else f"{rate * 100:.0f}" for rate in rates],
                   fontsize=8)
    axes.set_xticks(range(len(names)), shown)
    axes.set_ylim(0, 105)
    axes.set_ylabel(LABELS[lang]["chart_y"])
    axes.set_title(title)
    axes.tick_params(axis="x", labelrotation=45 if len(names) > 7 else 0, labelsize=8)
    figure.tight_layout()
    out = io.BytesIO()
    figure.savefig(out, format="png", metadata={"Software": None})  # same data, same bytes
    return out.getvalue()
