"""Report charts as PNG bytes. matplotlib's object API with the Agg canvas: no pyplot global state
(safe in worker threads) and no display needed. The same data always gives the same bytes, so the
admin preview shows exactly the images the email carries."""

import io
from collections.abc import Sequence
from datetime import date

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

PRIORITY_COLOURS = {"P1": "#b91c1c", "P2": "#ea580c", "P3": "#ca8a04", "P4": "#2563eb", "P5": "#6b7280"}
PALETTE = ["#2563eb", "#16a34a", "#ea580c", "#9333ea", "#0891b2", "#ca8a04", "#db2777", "#4b5563"]
SIZE = (7.0, 2.8)
DPI = 96


def _png(figure: Figure) -> bytes:
    FigureCanvasAgg(figure)
    figure.tight_layout()
    out = io.BytesIO()
    # No "Software" entry: the bytes depend on the data only.
    figure.savefig(out, format="png", dpi=DPI, metadata={"Software": None})
    return out.getvalue()


def _figure(title: str) -> tuple[Figure, object]:
    figure = Figure(figsize=SIZE)
    axes = figure.add_subplot()
    axes.set_title(title, fontsize=10, loc="left")
    axes.spines[["top", "right"]].set_visible(False)
    axes.tick_params(labelsize=8)
    return figure, axes


def _period_labels(periods: Sequence[date], monthly: bool) -> list[str]:
    return [p.strftime("%b %Y" if monthly else "%d %b") for p in periods]


def stacked_bars(
    title: str, periods: Sequence[date], series: dict[str, Sequence[int]], *, monthly: bool = False
) -> bytes:
    """Counts per period, stacked by group (priorities get their usual colours)."""
    figure, axes = _figure(title)
    positions = range(len(periods))
    bottom = [0] * len(periods)
    for index, (group, values) in enumerate(series.items()):
        colour = PRIORITY_COLOURS.get(group, PALETTE[index % len(PALETTE)])
        axes.bar(positions, values, bottom=bottom, label=group, color=colour, width=0.8)
        bottom = [b + v for b, v in zip(bottom, values, strict=True)]
    labels = _period_labels(periods, monthly)
    step = max(1, len(labels) // 12)
    axes.set_xticks(list(positions)[::step], labels[::step], rotation=0)
    axes.yaxis.get_major_locator().set_params(integer=True)
    if series:
        axes.legend(fontsize=7, frameon=False, ncols=min(len(series), 6), loc="upper left")
    else:
        axes.text(0.5, 0.5, "No incidents", ha="center", va="center", transform=axes.transAxes)
    return _png(figure)


def line(title: str, periods: Sequence[date], values: Sequence[float | None], *, unit: str) -> bytes:
    """One value per month (gaps where there is none), e.g. mean MTTR in hours."""
    figure, axes = _figure(title)
    positions = list(range(len(periods)))
    points = [(x, v) for x, v in zip(positions, values, strict=True) if v is not None]
    if points:
        axes.plot([x for x, _ in points], [v for _, v in points], marker="o", color=PALETTE[0])
    else:
        axes.text(0.5, 0.5, "No resolved incidents", ha="center", va="center", transform=axes.transAxes)
    axes.set_xticks(positions, _period_labels(periods, monthly=True), rotation=0)
    axes.set_ylabel(unit, fontsize=8)
    axes.set_ylim(bottom=0)
    return _png(figure)


def horizontal_bars(title: str, labels: Sequence[str], values: Sequence[int]) -> bytes:
    """One bar per group, largest on top."""
    figure, axes = _figure(title)
    positions = list(range(len(labels)))[::-1]
    axes.barh(positions, values, color=PALETTE[0])
    axes.set_yticks(positions, list(labels))
    axes.xaxis.get_major_locator().set_params(integer=True)
    if not labels:
        axes.text(0.5, 0.5, "No incidents", ha="center", va="center", transform=axes.transAxes)
    return _png(figure)
