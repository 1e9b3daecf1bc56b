"""Charts as inline SVG, for report pages that open anywhere and print on A4 without a network:
a line chart of rates over months, a bar chart, and horizontal bars with an interval and last
year's mark. Every value drawn is also written on the chart as text (a label at the point or the
bar), so what the reader sees — and what a PDF of the page holds — is the report's figure, not an
estimate read off an axis. Text is escaped; nothing here runs script or loads anything."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from html import escape

WIDTH = 680
PALETTE = ("#1f6fb2", "#e07b22", "#3a9a4a", "#b23a48", "#7a5ea8", "#6b6b6b")
GRID = "#d9d9d9"
FONT = 'font-family="Noto Sans CJK SC, Noto Serif CJK SC, sans-serif"'


@dataclass(frozen=True)
class Series:
    """One line or set of bars: its name and a value per category (None: no value)."""

    name: str
    values: Sequence[Decimal | float | int | None]


@dataclass(frozen=True)
class Interval:
    """A horizontal bar with an interval: the value, the interval's ends, last time's value."""

    label: str
    value: Decimal | float | None
    low: Decimal | float | None = None
    high: Decimal | float | None = None
    previous: Decimal | float | None = None


def _svg(height: int, body: list[str], title: str) -> str:
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {height}" '
        f'width="100%" role="img" aria-label="{escape(title)}" {FONT}>'
        f"<title>{escape(title)}</title>" + "".join(body) + "</svg>"
    )


def _text(x: float, y: float, text: str, *, size: int = 11, anchor: str = "middle", **attrs) -> str:
    extra = "".join(f' {k.rstrip("_").replace("_", "-")}="{v}"' for k, v in attrs.items())
    return (
        f'<text x="{x:.1f}" y="{y:.1f}" font-size="{size}" text-anchor="{anchor}"{extra}>'
        f"{escape(text)}</text>"
    )


def _legend(series: Sequence[Series], y: float) -> list[str]:
    out, x = [], 60.0
    for i, s in enumerate(series):
        colour = PALETTE[i % len(PALETTE)]
        out.append(f'<rect x="{x:.1f}" y="{y - 9:.1f}" width="12" height="10" fill="{colour}"/>')
        out.append(_text(x + 16, y, s.name, anchor="start"))
        x += 28 + 12 * len(s.name) + 6 * sum(1 for ch in s.name if ord(ch) > 0x2E80)
    return out


def nice_top(value: float) -> float:
    """The top of a value axis of four steps: the least step of 1, 1.5, 2, 2.5, 3, 4 or 5 × 10ⁿ
    that reaches ``value`` (56,745 → 60,000; 87 → 100)."""
    if value <= 0:
        return 1.0
    unit = 10 ** math.floor(math.log10(value / 4))
    for factor in (1, 1.5, 2, 2.5, 3, 4, 5, 10):
        if factor * unit * 4 >= value:
            return round(factor * unit * 4, 12)
    return value


def _axis(top: float, bottom: float, left: float, right: float, lo: float, hi: float, fmt):
    """Horizontal grid lines and the value axis's labels: five steps from lo to hi."""
    out = []
    for step in range(5):
        value = lo + (hi - lo) * step / 4
        y = bottom - (bottom - top) * step / 4
        out.append(f'<line x1="{left}" y1="{y:.1f}" x2="{right}" y2="{y:.1f}" stroke="{GRID}"/>')
        out.append(_text(left - 6, y + 4, fmt(value), size=10, anchor="end", fill="#555"))
    return out


def line_chart(
    title: str,
    categories: Sequence[str],
    series: Sequence[Series],
    *,
    fmt=lambda v: f"{v:.0f}%",
    label=lambda v: f"{v}%",
    top: float = 100.0,
) -> str:
    """Lines over the categories (months); a point's value is written above it."""
    height, left, right, upper, lower = 250, 56, WIDTH - 16, 36, 196
    values = [float(v) for s in series for v in s.values if v is not None]
    hi = nice_top(max([top, *values]))
    body = [_text(WIDTH / 2, 18, title, size=14, font_weight="bold")]
    body += _axis(upper, lower, left, right, 0, hi, fmt)
    n = max(1, len(categories))
    step = (right - left) / n

    def x_of(i: int) -> float:
        return left + step * (i + 0.5)

    for i, name in enumerate(categories):
        body.append(_text(x_of(i), lower + 16, name, size=10))
    for k, s in enumerate(series):
        colour = PALETTE[k % len(PALETTE)]
        points = [
            (x_of(i), lower - (lower - upper) * float(v) / hi)
            for i, v in enumerate(s.values)
            if v is not None
        ]
        if len(points) > 1:
            path = " ".join(f"{x:.1f},{y:.1f}" for x, y in points)
            body.append(
                f'<polyline points="{path}" fill="none" stroke="{colour}" stroke-width="2"/>'
            )
        shown = [(i, v) for i, v in enumerate(s.values) if v is not None]
        for (x, y), (_i, v) in zip(points, shown, strict=True):
            body.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3" fill="{colour}"/>')
            dy = -7 if k % 2 == 0 else 14
            body.append(_text(x, y + dy, label(v), size=9, fill=colour, class_="value"))
    body += _legend(series, lower + 40)
    return _svg(height, body, title)


def bar_chart(
    title: str,
    categories: Sequence[str],
    series: Sequence[Series],
    *,
    fmt=lambda v: f"{v:.0f}%",
    label=lambda v: f"{v}%",
    top: float | None = 100.0,
) -> str:
    """Vertical bars, grouped when there are several series; each bar's value above it."""
    height, left, right, upper, lower = 250, 64, WIDTH - 16, 36, 196
    values = [float(v) for s in series for v in s.values if v is not None]
    hi = nice_top(max([top or 0, *values]))
    body = [_text(WIDTH / 2, 18, title, size=14, font_weight="bold")]
    body += _axis(upper, lower, left, right, 0, hi, fmt)
    n = max(1, len(categories))
    slot = (right - left) / n
    width = min(48.0, slot * 0.8 / max(1, len(series)))
    for i, name in enumerate(categories):
        centre = left + slot * (i + 0.5)
        body.append(_text(centre, lower + 16, name, size=10))
        for k, s in enumerate(series):
            v = s.values[i] if i < len(s.values) else None
            if v is None:
                continue
            x = centre - width * len(series) / 2 + width * k
            h = (lower - upper) * float(v) / hi
            colour = PALETTE[k % len(PALETTE)]
            body.append(
                f'<rect x="{x:.1f}" y="{lower - h:.1f}" width="{width - 2:.1f}" '
                f'height="{h:.1f}" fill="{colour}"/>'
            )
            body.append(_text(x + width / 2 - 1, lower - h - 4, label(v), size=9, class_="value"))
    if len(series) > 1:
        body += _legend(series, lower + 40)
    return _svg(height, body, title)


def interval_chart(
    title: str,
    rows: Sequence[Interval],
    *,
    scale: int,
    names: tuple[str, str] = ("", ""),
) -> str:
    """Horizontal bars from 0 to each value (a mean score), its interval as a whisker, and
    last time's value as a diamond; the value (and last time's) written at the bar's end."""
    left, right, row_h, upper = 140, WIDTH - 110, 30, 40
    height = upper + row_h * len(rows) + 46
    lower = upper + row_h * len(rows)
    body = [_text(WIDTH / 2, 18, title, size=14, font_weight="bold")]

    def x_of(v) -> float:
        return left + (right - left) * float(v) / scale

    for step in range(scale + 1):
        x = x_of(step)
        body.append(f'<line x1="{x:.1f}" y1="{upper}" x2="{x:.1f}" y2="{lower}" stroke="{GRID}"/>')
        body.append(_text(x, lower + 14, str(step), size=10, fill="#555"))
    for i, row in enumerate(rows):
        y = upper + row_h * i
        body.append(_text(left - 8, y + 19, row.label, size=11, anchor="end"))
        if row.value is None:
            continue
        body.append(
            f'<rect x="{left}" y="{y + 7}" width="{x_of(row.value) - left:.1f}" height="16" '
            f'fill="{PALETTE[0]}" opacity="0.85"/>'
        )
        if row.low is not None and row.high is not None:
            a, b, mid = x_of(row.low), x_of(row.high), y + 15
            body.append(
                f'<path d="M{a:.1f},{mid - 6}v12M{a:.1f},{mid}H{b:.1f}M{b:.1f},{mid - 6}v12" '
                f'stroke="#222" stroke-width="1.4" fill="none"/>'
            )
        text = str(row.value)
        if row.previous is not None:
            p = x_of(row.previous)
            body.append(
                f'<path d="M{p:.1f},{y + 8}l6,7l-6,7l-6,-7z" fill="{PALETTE[1]}" stroke="#fff"/>'
            )
            text += f"（{row.previous}）"
        body.append(_text(right + 8, y + 19, text, size=10, anchor="start", class_="value"))
    if names[0]:
        body += _legend(
            [Series(names[0], ()), Series(names[1], ())][: 2 if names[1] else 1], lower + 36
        )
    return _svg(height, body, title)
