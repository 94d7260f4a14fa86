"""Charts as inline SVG, drawn on the server: no JavaScript library and no internet access needed.

Each builder is a pure function from plain data to an SVG string. Every label is escaped; each bar,
point and cell carries a <title> with its value, so a screen reader (or a hover) gives the number."""

from collections.abc import Mapping, Sequence
from datetime import date

from django.utils.html import escape

WIDTH, HEIGHT = 720, 240
LEFT, RIGHT, TOP, BOTTOM = 44, 12, 22, 36
PRIORITY_COLOURS = {"P1": "#c62828", "P2": "#ef6c00", "P3": "#f9a825", "P4": "#1565c0", "P5": "#78909c"}
PALETTE = ("#1565c0", "#2e7d32", "#6a1b9a", "#00838f", "#ad1457", "#5d4037", "#546e7a", "#9e9d24")
BAR_COLOUR = "#417690"
WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


def relative_change(current: float | None, previous: float | None) -> float | None:
    """(current - previous) / previous, or None when either is missing or the previous is zero."""
    if current is None or previous is None or previous == 0:
        return None
    return round((current - previous) / previous, 4)


def colour_for(group: str, index: int) -> str:
    return PRIORITY_COLOURS.get(group, PALETTE[index % len(PALETTE)])


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:.1f}"


def _svg(body: list[str], title: str, *, width: int = WIDTH, height: int = HEIGHT) -> str:
    label = escape(title)
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" class="analytics-chart" viewBox="0 0 {width} {height}" '
        f'width="100%" style="max-width: {width * 1.25:.0f}px" role="img" aria-label="{label}" '
        'font-family="sans-serif" font-size="11">'
        f"<title>{label}</title>{''.join(body)}</svg>"
    )


def _empty(title: str) -> str:
    text = '<text x="50%" y="50%" text-anchor="middle" fill="#777">No incidents in this range.</text>'
    return _svg([text], title, height=80)


def _nice_max(value: float) -> float:
    """A round axis maximum at or above `value`: 1, 2, 5 times a power of ten."""
    if value <= 0:
        return 1
    scale = 1
    while scale * 10 <= value:
        scale *= 10
    while scale > value:
        scale /= 10
    for step in (1, 2, 5, 10):
        if step * scale >= value:
            return step * scale
    return value


def _y_axis(top_value: float, unit: str) -> list[str]:
    plot_h = HEIGHT - TOP - BOTTOM
    out = []
    for i in range(5):
        value = top_value * i / 4
        y = TOP + plot_h - plot_h * i / 4
        out.append(
            f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y:.1f}" y2="{y:.1f}" '
            'stroke="#ddd" stroke-width="1"/>'
            f'<text x="{LEFT - 4}" y="{y + 4:.1f}" text-anchor="end" fill="#555">'
            f"{escape(_number(value))}</text>"
        )
    out.append(f'<text x="4" y="10" fill="#555" font-size="10">{escape(unit)}</text>' if unit else "")
    return out


def _x_labels(labels: Sequence[str], slot: float) -> list[str]:
    """At most ~12 labels, evenly spaced, so long ranges stay readable."""
    step = max(1, -(-len(labels) // 12))
    out = []
    for i in range(0, len(labels), step):
        x = LEFT + slot * i + slot / 2
        out.append(
            f'<text x="{x:.1f}" y="{HEIGHT - BOTTOM + 14}" text-anchor="middle" fill="#555">'
            f"{escape(labels[i])}</text>"
        )
    return out


def period_label(period: date, bucket: str) -> str:
    if bucket == "month":
        return period.strftime("%b %Y")
    return period.strftime("%d %b")


def stacked_bars(
    periods: Sequence[date],
    groups: Sequence[str],
    values: Mapping[tuple[date, str], float],
    *,
    title: str,
    bucket: str = "day",
    unit: str = "incidents",
) -> str:
    """One bar per period, stacked by group (e.g. priority), with a legend; gaps are bars of zero."""
    totals = [sum(values.get((p, g), 0) for g in groups) for p in periods]
    if not periods or not any(totals):
        return _empty(title)
    top_value = _nice_max(max(totals))
    plot_h = HEIGHT - TOP - BOTTOM
    slot = (WIDTH - LEFT - RIGHT) / len(periods)
    bar_w = max(slot * 0.8, 1)
    body = _y_axis(top_value, unit)
    for i, period in enumerate(periods):
        y = TOP + plot_h
        x = LEFT + slot * i + (slot - bar_w) / 2
        label = period_label(period, bucket)
        for j, group in enumerate(groups):
            n = values.get((period, group), 0)
            if not n:
                continue
            h = plot_h * n / top_value
            y -= h
            body.append(
                f'<rect x="{x:.1f}" y="{y:.1f}" width="{bar_w:.1f}" height="{h:.1f}" '
                f'fill="{colour_for(group, j)}">'
                f"<title>{escape(f'{label}, {group}: {n}')}</title></rect>"
            )
    body += _x_labels([period_label(p, bucket) for p in periods], slot)
    legend_x = LEFT
    for j, group in enumerate(groups):
        body.append(
            f'<rect x="{legend_x}" y="{HEIGHT - 12}" width="10" height="10" fill="{colour_for(group, j)}"/>'
            f'<text x="{legend_x + 14}" y="{HEIGHT - 3}" fill="#333">{escape(group)}</text>'
        )
        legend_x += 20 + 7 * len(str(group))
    return _svg(body, title)


def line_chart(points: Sequence[tuple[str, float | None]], *, title: str, unit: str) -> str:
    """A line through the points, broken where a value is missing (no incidents that month)."""
    known = [v for _, v in points if v is not None]
    if not known:
        return _empty(title)
    top_value = _nice_max(max(known))
    plot_h = HEIGHT - TOP - BOTTOM
    slot = (WIDTH - LEFT - RIGHT) / len(points)
    body = _y_axis(top_value, unit)
    segments: list[list[str]] = [[]]
    marks = []
    for i, (label, value) in enumerate(points):
        if value is None:
            segments.append([])
            continue
        x = LEFT + slot * i + slot / 2
        y = TOP + plot_h - plot_h * value / top_value
        segments[-1].append(f"{x:.1f},{y:.1f}")
        marks.append(
            f'<circle cx="{x:.1f}" cy="{y:.1f}" r="4" fill="{BAR_COLOUR}">'
            f"<title>{escape(f'{label}: {_number(value)} {unit}')}</title></circle>"
        )
    for segment in segments:
        if len(segment) > 1:
            body.append(
                f'<polyline points="{" ".join(segment)}" fill="none" stroke="{BAR_COLOUR}" stroke-width="2"/>'
            )
    body += marks
    body += _x_labels([label for label, _ in points], slot)
    return _svg(body, title)


def bar_chart(rows: Sequence[tuple[str, float]], *, title: str, unit: str = "incidents") -> str:
    """Horizontal bars, one per row, largest first as given, with the value at the end."""
    if not rows or not any(value for _, value in rows):
        return _empty(title)
    top_value = max(value for _, value in rows)
    row_h, label_w = 24, 170
    height = TOP + row_h * len(rows) + 8
    plot_w = WIDTH - label_w - 60
    body = []
    for i, (label, value) in enumerate(rows):
        y = TOP + row_h * i
        w = plot_w * value / top_value if top_value else 0
        text = escape(label)
        body.append(
            f'<text x="{label_w - 6}" y="{y + 15}" text-anchor="end" fill="#333">{text}</text>'
            f'<rect x="{label_w}" y="{y + 3}" width="{max(w, 1):.1f}" height="{row_h - 6}" '
            f'fill="{BAR_COLOUR}">'
            f"<title>{escape(f'{label}: {_number(value)} {unit}')}</title></rect>"
            f'<text x="{label_w + w + 6:.1f}" y="{y + 15}" fill="#333">{escape(_number(value))}</text>'
        )
    return _svg(body, title, height=height)


def heatmap(grid: Sequence[Sequence[int]], *, title: str) -> str:
    """Days of the week (rows, Monday first) by hour of day (columns); darker is busier."""
    most = max((max(row) for row in grid), default=0)
    cell, left, top = 26, 40, 18
    width, height = left + cell * 24 + 4, top + cell * 7 + 4
    body = [
        f'<text x="{left + cell * h + cell / 2}" y="{top - 5}" text-anchor="middle" '
        'fill="#555" font-size="10">'
        f"{h:02d}</text>"
        for h in range(24)
    ]
    for d, row in enumerate(grid):
        y = top + cell * d
        body.append(
            f'<text x="{left - 6}" y="{y + cell / 2 + 4}" text-anchor="end" fill="#555">{WEEKDAYS[d]}</text>'
        )
        for h, n in enumerate(row):
            opacity = 0.08 + 0.92 * n / most if most and n else 0.04
            noun = "incident" if n == 1 else "incidents"
            body.append(
                f'<rect x="{left + cell * h}" y="{y}" width="{cell - 2}" height="{cell - 2}" '
                f'fill="#c62828" fill-opacity="{opacity:.2f}">'
                f"<title>{escape(f'{WEEKDAYS[d]} {h:02d}:00: {n} {noun}')}</title></rect>"
            )
    return _svg(body, title, width=width, height=height)
