"""Charts as inline SVG strings: no plotting library, no scripts, nothing fetched.

A report that is mailed around and opened offline (or printed) must carry its own charts, so
these functions write plain SVG with a viewBox: it scales with the page and prints sharply.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from html import escape

COST_COLORS = {
    "Capex": "#1f4e79",
    "Export levy": "#c0504d",
    "Energy": "#e0a100",
    "Rental": "#5b9bd5",
    "Subsidies": "#70ad47",
    "Residual": "#a5a5a5",
}
SERIES_COLORS = ["#1f4e79", "#c55a11", "#548235", "#7030a0", "#2e75b6", "#bf9000", "#7f7f7f", "#843c0c"]
FONT = "font-family:-apple-system,'Segoe UI',Roboto,Helvetica,Arial,sans-serif"


def short_money(v: float) -> str:
    """1.2M style labels for axes and bar ends."""
    a = abs(v)
    sign = "-" if v < 0 else ""
    if a >= 1e9:
        return f"{sign}{a / 1e9:.3g}B"
    if a >= 1e6:
        return f"{sign}{a / 1e6:.3g}M"
    if a >= 1e3:
        return f"{sign}{a / 1e3:.3g}k"
    return f"{sign}{a:.3g}"


def plain_number(v: float) -> str:
    return f"{v:g}"


def nice_ticks(lo: float, hi: float, count: int = 5) -> list[float]:
    """Round tick values covering [lo, hi]."""
    if hi <= lo:
        hi = lo + 1
    raw = (hi - lo) / max(count, 1)
    mag = 10 ** math.floor(math.log10(raw))
    step = next(m * mag for m in (1, 2, 2.5, 5, 10) if m * mag >= raw)
    start = math.floor(lo / step) * step
    ticks = []
    v = start
    while v <= hi + step * 1e-9:
        ticks.append(round(v, 10))
        v += step
    if ticks[-1] < hi:
        ticks.append(round(ticks[-1] + step, 10))
    return ticks


def _legend(items: Sequence[tuple[str, str]], x: float, y: float, width: float) -> list[str]:
    out, cx, cy = [], x, y
    for name, color in items:
        w = 18 + 7.2 * len(name) + 16
        if cx + w > x + width:
            cx, cy = x, cy + 18
        out.append(
            f'<rect x="{cx:.1f}" y="{cy - 9:.1f}" width="11" height="11" rx="2" fill="{color}"/>'
            f'<text x="{cx + 16:.1f}" y="{cy:.1f}" font-size="12" fill="#333">{escape(name)}</text>'
        )
        cx += w
    return out


def _svg(width: int, height: int, label: str, body: list[str], css_class: str) -> str:
    return (
        f'<svg class="chart {css_class}" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" '
        f'width="100%" role="img" aria-label="{escape(label)}" style="{FONT};max-width:{width}px;height:auto">'
        f"<title>{escape(label)}</title>{''.join(body)}</svg>"
    )


def stacked_bars(
    categories: Sequence[str],
    parts: Mapping[str, Sequence[float]],
    title: str,
    colors: dict[str, str] | None = None,
    value_fmt: Callable[[float], str] = short_money,
    notes: dict[str, str] | None = None,
) -> str:
    """Horizontal stacked bars; negative parts (subsidies) stack leftwards from zero.

    ``notes`` adds rows without a bar (an option with no plan) that show a short text instead.
    """
    colors = colors or COST_COLORS
    notes = notes or {}
    n = len(categories) + len(notes)
    width, left, right, bar, gap = 1000, 250, 80, 24, 12
    legend_items = [
        (name, colors.get(name, SERIES_COLORS[i % len(SERIES_COLORS)]))
        for i, name in enumerate(parts)
        if any(abs(v) > 0 for v in parts[name])
    ]
    top = 40 + 18 * (len(legend_items) // 6)
    height = top + n * (bar + gap) + 34
    pos = [sum(max(parts[k][i], 0.0) for k in parts) for i in range(len(categories))]
    neg = [sum(min(parts[k][i], 0.0) for k in parts) for i in range(len(categories))]
    low = min([0.0, *neg])
    ticks = nice_ticks(low, max([1.0, *pos]))
    lo, hi = min(low * 1.15, 0.0), ticks[-1]  # a small negative part gets a small margin, not a whole tick
    ticks = [t for t in ticks if t >= lo]
    plot_w = width - left - right

    def sx(v: float) -> float:
        return left + (v - lo) / (hi - lo) * plot_w

    body = [f'<text x="0" y="16" font-size="14" font-weight="600" fill="#1a1a1a">{escape(title)}</text>']
    body += _legend(legend_items, left, 34, plot_w)
    axis_y = top + n * (bar + gap)
    for t in ticks:
        x = sx(t)
        body.append(
            f'<line x1="{x:.1f}" y1="{top - 4}" x2="{x:.1f}" y2="{axis_y}" stroke="#e3e3e3"/>'
            f'<text x="{x:.1f}" y="{axis_y + 16}" font-size="11" fill="#555" text-anchor="middle">'
            f"{escape(value_fmt(t))}</text>"
        )
    body.append(f'<line x1="{sx(0):.1f}" y1="{top - 4}" x2="{sx(0):.1f}" y2="{axis_y}" stroke="#888"/>')
    for i, cat in enumerate(categories):
        y = top + i * (bar + gap)
        body.append(
            f'<text x="{left - 8}" y="{y + bar / 2 + 4:.1f}" font-size="12" fill="#222" text-anchor="end">'
            f"{escape(_clip(cat))}<title>{escape(cat)}</title></text>"
        )
        up, down = 0.0, 0.0
        for name, values in parts.items():
            v = float(values[i])
            if v == 0:
                continue
            color = colors.get(name, "#888")
            if v > 0:
                x0, x1, up = sx(up), sx(up + v), up + v
            else:
                x0, x1, down = sx(down + v), sx(down), down + v
            body.append(
                f'<rect class="bar" x="{x0:.1f}" y="{y}" width="{max(x1 - x0, 0.5):.1f}" height="{bar}" '
                f'fill="{color}"><title>{escape(cat)} · {escape(name)}: {escape(value_fmt(v))}</title></rect>'
            )
        net = sum(float(values[i]) for values in parts.values())
        body.append(
            f'<text x="{sx(up) + 6:.1f}" y="{y + bar / 2 + 4:.1f}" font-size="12" font-weight="600" '
            f'fill="#222">{escape(value_fmt(net))}</text>'
        )
    for j, (cat, text) in enumerate(notes.items()):
        y = top + (len(categories) + j) * (bar + gap)
        body.append(
            f'<text x="{left - 8}" y="{y + bar / 2 + 4:.1f}" font-size="12" fill="#222" text-anchor="end">'
            f"{escape(_clip(cat))}</text>"
            f'<text class="no-bar" x="{sx(0) + 6:.1f}" y="{y + bar / 2 + 4:.1f}" font-size="12" '
            f'font-style="italic" fill="#a32020">{escape(text)}</text>'
        )
    return _svg(width, height, title, body, "cost-chart")


def _grid(
    ticks: Sequence[float], sy: Callable[[float], float], left: float, right: float, label: Callable[[float], str]
) -> list[str]:
    """Horizontal grid lines at the y ticks, each labelled at the left (``label`` gives escaped text)."""
    return [
        f'<line x1="{left}" y1="{sy(t):.1f}" x2="{right}" y2="{sy(t):.1f}" stroke="#e3e3e3"/>'
        f'<text x="{left - 8}" y="{sy(t) + 4:.1f}" font-size="11" fill="#555" text-anchor="end">'
        f"{label(t)}</text>"
        for t in ticks
    ]


def _frame(
    left: float, right: float, top: float, plot_w: float, plot_h: float, height: float, x_label: str, y_label: str
) -> list[str]:
    """The x axis line and both axis titles."""
    return [
        f'<line x1="{left}" y1="{top + plot_h}" x2="{right}" y2="{top + plot_h}" stroke="#888"/>',
        f'<text x="{left + plot_w / 2:.1f}" y="{height - 10}" font-size="12" fill="#333" '
        f'text-anchor="middle">{escape(x_label)}</text>',
        f'<text x="14" y="{top + plot_h / 2:.1f}" font-size="12" fill="#333" text-anchor="middle" '
        f'transform="rotate(-90 14 {top + plot_h / 2:.1f})">{escape(y_label)}</text>',
    ]


def _clip(text: str, limit: int = 36) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def line_chart(
    xs: Sequence[float],
    ys: Sequence[float | None],
    title: str,
    x_label: str,
    y_label: str,
    marks: Sequence[float] = (),
    x_fmt: Callable[[float], str] = lambda v: f"{v:g}",
    y_fmt: Callable[[float], str] = short_money,
) -> str:
    """A line through the points with a value; gaps and × where there is none; dashed lines at ``marks``."""
    width, height, left, right, top, bottom = 1000, 340, 72, 24, 48, 52
    plot_w, plot_h = width - left - right, height - top - bottom
    have = [y for y in ys if y is not None]
    ylo, yhi = (min(have), max(have)) if have else (0.0, 1.0)
    pad = (yhi - ylo) * 0.08 or abs(yhi) * 0.05 or 1.0
    yt = nice_ticks(max(ylo - pad, 0.0) if ylo >= 0 else ylo - pad, yhi + pad)
    xlo, xhi = (min(xs), max(xs)) if xs else (0.0, 1.0)
    if xhi == xlo:
        xlo, xhi = xlo - 1, xhi + 1

    def sx(v: float) -> float:
        return left + (v - xlo) / (xhi - xlo) * plot_w

    def sy(v: float) -> float:
        return top + plot_h - (v - yt[0]) / (yt[-1] - yt[0]) * plot_h

    body = [f'<text x="0" y="16" font-size="14" font-weight="600" fill="#1a1a1a">{escape(title)}</text>']
    body += _grid(yt, sy, left, width - right, lambda t: escape(y_fmt(t)))
    step = max(1, math.ceil(len(xs) / 11))
    for i, x in enumerate(xs):
        if i % step == 0 or i == len(xs) - 1:
            body.append(
                f'<text x="{sx(x):.1f}" y="{top + plot_h + 18}" font-size="11" fill="#555" '
                f'text-anchor="middle">{escape(x_fmt(x))}</text>'
            )
    body += _frame(left, width - right, top, plot_w, plot_h, height, x_label, y_label)
    for m in marks:
        body.append(
            f'<line class="mix-change" x1="{sx(m):.1f}" y1="{top}" x2="{sx(m):.1f}" y2="{top + plot_h}" '
            f'stroke="#c55a11" stroke-dasharray="4 3"><title>fleet mix changes at {escape(x_fmt(m))}'
            "</title></line>"
        )
    runs: list[list[tuple[float, float]]] = [[]]
    for x, y in zip(xs, ys, strict=True):
        if y is None:
            runs.append([])
        else:
            runs[-1].append((sx(x), sy(y)))
    for run in runs:
        if len(run) > 1:
            pts = " ".join(f"{px:.1f},{py:.1f}" for px, py in run)
            body.append(f'<polyline class="series" points="{pts}" fill="none" stroke="#1f4e79" stroke-width="2.2"/>')
    for x, y in zip(xs, ys, strict=True):
        if y is None:
            px, py = sx(x), top + plot_h - 8
            body.append(
                f'<path class="gap" d="M{px - 5:.1f},{py - 5:.1f}L{px + 5:.1f},{py + 5:.1f}'
                f'M{px - 5:.1f},{py + 5:.1f}L{px + 5:.1f},{py - 5:.1f}" stroke="#c0504d" stroke-width="2">'
                f"<title>{escape(x_fmt(x))}: no feasible plan</title></path>"
            )
        else:
            body.append(
                f'<circle class="point" cx="{sx(x):.1f}" cy="{sy(y):.1f}" r="3.5" fill="#1f4e79">'
                f"<title>{escape(x_fmt(x))}: {escape(y_fmt(y))}</title></circle>"
            )
    legend = [("optimal TCO", "#1f4e79")]
    if marks:
        legend.append(("fleet mix changes", "#c55a11"))
    if any(y is None for y in ys):
        legend.append(("no feasible plan", "#c0504d"))
    body += _legend(legend, left, 36, plot_w)
    return _svg(width, height, title, body, "frontier-chart")


def stacked_columns(
    xs: Sequence[float],
    series: Mapping[str, Sequence[float]],
    title: str,
    x_label: str,
    y_label: str,
    x_fmt: Callable[[float], str] = lambda v: f"{v:g}",
) -> str:
    """Columns per point stacked by series (devices per accelerator along a frontier)."""
    width, height, left, right, bottom = 1000, 300, 72, 24, 52
    colors = {name: SERIES_COLORS[i % len(SERIES_COLORS)] for i, name in enumerate(series)}
    top = 48 + 18 * (len(series) // 4)
    plot_w, plot_h = width - left - right, height - top - bottom
    totals = [sum(float(s[i]) for s in series.values()) for i in range(len(xs))]
    yt = nice_ticks(0.0, max([1.0, *totals]))
    n = max(len(xs), 1)
    slot = plot_w / n
    bar = max(min(slot * 0.7, 36), 2)

    def sy(v: float) -> float:
        return top + plot_h - v / yt[-1] * plot_h

    body = [f'<text x="0" y="16" font-size="14" font-weight="600" fill="#1a1a1a">{escape(title)}</text>']
    body += _legend(list(colors.items()), left, 36, plot_w)
    body += _grid(yt, sy, left, width - right, lambda t: f"{t:,.0f}")
    step = max(1, math.ceil(len(xs) / 11))
    for i, x in enumerate(xs):
        cx = left + slot * (i + 0.5)
        base = 0.0
        for name, values in series.items():
            v = float(values[i])
            if v <= 0:
                continue
            body.append(
                f'<rect class="bar" x="{cx - bar / 2:.1f}" y="{sy(base + v):.1f}" width="{bar:.1f}" '
                f'height="{sy(base) - sy(base + v):.1f}" fill="{colors[name]}"><title>{escape(x_fmt(x))} · '
                f"{escape(name)}: {v:,.0f}</title></rect>"
            )
            base += v
        if i % step == 0 or i == len(xs) - 1:
            body.append(
                f'<text x="{cx:.1f}" y="{top + plot_h + 18}" font-size="11" fill="#555" '
                f'text-anchor="middle">{escape(x_fmt(x))}</text>'
            )
    body += _frame(left, width - right, top, plot_w, plot_h, height, x_label, y_label)
    return _svg(width, height, title, body, "mix-chart")
