"""Charts as inline SVG, rendered on the server: no JavaScript, no front-end build.

Only presentation attributes and classes (no `style` attributes), so the pages work under a
`style-src 'self'` Content-Security-Policy; every text is escaped.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from markupsafe import Markup, escape

WIDTH, HEIGHT = 720, 260
LEFT, RIGHT, TOP, BOTTOM = 80, 16, 28, 44
PALETTE = ("#2563eb", "#dc2626", "#059669", "#d97706")


@dataclass(frozen=True)
class Series:
    """One line of a line chart: (x, y) points."""

    name: str
    points: Sequence[tuple[float, float]]
    dashed: bool = False


def nice_ticks(low: float, high: float, count: int = 5, integer: bool = False) -> list[float]:
    """About `count` round tick values (steps of 1, 2, 2.5 or 5 x 10^k; whole numbers when
    `integer`) covering low..high."""
    if high <= low:
        high = low + 1
    raw = (high - low) / (count - 1)
    if integer:
        raw = max(raw, 1.0)
    magnitude = 10 ** math.floor(math.log10(raw))
    steps = (1, 2, 5, 10) if integer else (1, 2, 2.5, 5, 10)
    step = next(m * magnitude for m in steps if m * magnitude >= raw)
    first = math.floor(low / step) * step
    last = math.ceil(high / step) * step
    return [first + i * step for i in range(round((last - first) / step) + 1)]


def _frame(title: str, aria: str) -> list[str]:
    return [
        f'<svg class="audit-chart" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" '
        f'aria-label="{escape(aria)}" xmlns="http://www.w3.org/2000/svg">',
        f"<title>{escape(title)}</title>",
        f'<text x="{LEFT}" y="16" class="chart-title" font-size="13" font-weight="600">'
        f"{escape(title)}</text>",
    ]


def _axes(
    x_low: float,
    x_high: float,
    y_ticks: list[float],
    x_format: Callable[[float], str],
    y_format: Callable[[float], str],
    x_ticks: bool = True,
) -> list[str]:
    y_low, y_high = y_ticks[0], y_ticks[-1]
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    parts = [
        f'<line x1="{LEFT}" y1="{TOP + plot_h}" x2="{LEFT + plot_w}" y2="{TOP + plot_h}" '
        'stroke="#6b7280" stroke-width="1"/>',
        f'<line x1="{LEFT}" y1="{TOP}" x2="{LEFT}" y2="{TOP + plot_h}" stroke="#6b7280" '
        'stroke-width="1"/>',
    ]
    for value in y_ticks:
        y = TOP + plot_h - (value - y_low) / ((y_high - y_low) or 1) * plot_h
        parts.append(
            f'<line x1="{LEFT}" y1="{y:.1f}" x2="{LEFT + plot_w}" y2="{y:.1f}" stroke="#e5e7eb" '
            'stroke-width="1"/>'
        )
        parts.append(
            f'<text x="{LEFT - 6}" y="{y + 4:.1f}" text-anchor="end" font-size="11" '
            f'fill="#374151">{escape(y_format(value))}</text>'
        )
    if x_ticks:
        for value in nice_ticks(x_low, x_high, 7):
            if not x_low <= value <= x_high:
                continue
            x = LEFT + (value - x_low) / ((x_high - x_low) or 1) * plot_w
            parts.append(
                f'<text x="{x:.1f}" y="{TOP + plot_h + 16}" text-anchor="middle" font-size="11" '
                f'fill="#374151">{escape(x_format(value))}</text>'
            )
    return parts


def _empty(title: str) -> Markup:
    parts = _frame(title, f"{title}: no data yet")
    parts.append(
        f'<text x="{WIDTH / 2}" y="{HEIGHT / 2}" text-anchor="middle" font-size="13" '
        'fill="#6b7280">no data yet</text>'
    )
    parts.append("</svg>")
    return Markup("".join(parts))


def line_chart(
    title: str,
    series: Sequence[Series],
    x_label: str,
    y_format: Callable[[float], str] = lambda v: f"{v:g}",
    x_format: Callable[[float], str] = lambda v: f"{v:.0f}",
) -> Markup:
    """Lines over a shared x axis, with a legend."""
    points = [p for s in series for p in s.points]
    if not points:
        return _empty(title)
    xs = [p[0] for p in points]
    ys = [p[1] for p in points]
    x_low, x_high = min(xs), max(xs)
    y_ticks = nice_ticks(min(0.0, min(ys)), max(ys))
    y_low, y_high = y_ticks[0], y_ticks[-1]
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    summary = "; ".join(f"{s.name}: {len(s.points)} points" for s in series)
    parts = _frame(title, f"{title}. {summary}")
    parts += _axes(x_low, x_high, y_ticks, x_format, y_format)
    for i, s in enumerate(series):
        color = PALETTE[i % len(PALETTE)]
        coords = " ".join(
            f"{LEFT + (x - x_low) / ((x_high - x_low) or 1) * plot_w:.1f},"
            f"{TOP + plot_h - (y - y_low) / (y_high - y_low) * plot_h:.1f}"
            for x, y in s.points
        )
        dash = ' stroke-dasharray="6 4"' if s.dashed else ""
        parts.append(
            f'<polyline fill="none" stroke="{color}" stroke-width="2"{dash} points="{coords}">'
            f"<title>{escape(s.name)}</title></polyline>"
        )
        lx = LEFT + 8 + i * 220
        parts.append(
            f'<line x1="{lx}" y1="{HEIGHT - 10}" x2="{lx + 18}" y2="{HEIGHT - 10}" '
            f'stroke="{color}" stroke-width="3"{dash}/>'
            f'<text x="{lx + 24}" y="{HEIGHT - 6}" font-size="11" fill="#111827">'
            f"{escape(s.name)}</text>"
        )
    parts.append(
        f'<text x="{WIDTH - RIGHT}" y="{HEIGHT - 6}" text-anchor="end" font-size="11" '
        f'fill="#6b7280">{escape(x_label)}</text>'
    )
    parts.append("</svg>")
    return Markup("".join(parts))


def bar_chart(
    title: str,
    labels: Sequence[str],
    values: Sequence[float],
    y_format: Callable[[float], str] = lambda v: f"{v:g}",
    color: str = PALETTE[0],
    integer: bool = False,
) -> Markup:
    """One bar per label; each bar's exact value in its tooltip (`integer`: counts)."""
    if not values:
        return _empty(title)
    y_ticks = nice_ticks(0.0, max(max(values), 0.0) or 1.0, integer=integer)
    y_high = y_ticks[-1]
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    slot = plot_w / len(values)
    bar = max(1.0, slot * 0.7)
    parts = _frame(title, f"{title}: {len(values)} bars")
    parts += _axes(0, 1, y_ticks, str, y_format, x_ticks=False)
    every = max(1, len(labels) // 12)
    for i, (label, value) in enumerate(zip(labels, values, strict=True)):
        height = max(0.0, value) / y_high * plot_h
        x = LEFT + i * slot + (slot - bar) / 2
        parts.append(
            f'<rect x="{x:.1f}" y="{TOP + plot_h - height:.1f}" width="{bar:.1f}" '
            f'height="{height:.1f}" fill="{color}"><title>{escape(label)}: '
            f"{escape(y_format(value))}</title></rect>"
        )
        if i % every == 0:
            parts.append(
                f'<text x="{x + bar / 2:.1f}" y="{TOP + plot_h + 16}" text-anchor="middle" '
                f'font-size="11" fill="#374151">{escape(label)}</text>'
            )
    parts.append("</svg>")
    return Markup("".join(parts))
