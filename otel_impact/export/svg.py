"""Tiny inline-SVG charts for the reports (no JavaScript, no network, no plotting library).

Each function returns one ``<svg>`` element as a string, escaped and self-contained, so a report
is viewable offline and renders the same in any browser or Markdown viewer that shows SVG.

>>> bar_chart(["a", "b"], [1.0, -0.5]).startswith("<svg")
True
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from html import escape

PALETTE = ("#3366cc", "#dc3912", "#ff9900", "#109618", "#990099", "#0099c6", "#dd4477", "#66aa00")


def _finite(v: float | None) -> bool:
    return v is not None and isinstance(v, int | float) and math.isfinite(v)


def _fmt(v: float) -> str:
    if v == 0 or 0.01 <= abs(v) < 1e5:
        return f"{v:.3g}" if abs(v) < 100 else f"{v:,.0f}"
    return f"{v:.2e}"


def _open(width: int, height: int, title: str) -> str:
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" role="img" aria-label="{escape(title)}">'
        f"<title>{escape(title)}</title>"
    )


def line_chart(
    series: Sequence[tuple[str, Sequence[float], Sequence[float | None]]],
    *,
    title: str = "",
    width: int = 640,
    height: int = 220,
    x_labels: tuple[str, str] | None = None,
) -> str:
    """Lines of (label, xs, ys); gaps where y is None/NaN. ``x_labels`` = (left, right) captions."""
    pts = [(x, y) for _, xs, ys in series for x, y in zip(xs, ys, strict=False) if _finite(y)]
    out = [_open(width, height, title)]
    left, right, top, bottom = 56, 12, 12, 40
    if not pts:
        out.append(f'<text x="{width / 2}" y="{height / 2}" text-anchor="middle">no data</text></svg>')
        return "".join(out)
    x0, x1 = min(p[0] for p in pts), max(p[0] for p in pts)
    y0, y1 = min(p[1] for p in pts), max(p[1] for p in pts)  # type: ignore[type-var]
    x1 = x1 if x1 > x0 else x0 + 1
    y1 = y1 if y1 > y0 else y0 + 1  # type: ignore[operator]

    def sx(x: float) -> float:
        return left + (x - x0) / (x1 - x0) * (width - left - right)

    def sy(y: float) -> float:
        return height - bottom - (y - y0) / (y1 - y0) * (height - top - bottom)  # type: ignore[operator]

    out.append(
        f'<line x1="{left}" y1="{height - bottom}" x2="{width - right}" y2="{height - bottom}" stroke="#888"/>'
        f'<line x1="{left}" y1="{top}" x2="{left}" y2="{height - bottom}" stroke="#888"/>'
        f'<text x="{left - 4}" y="{top + 8}" text-anchor="end" font-size="10">{_fmt(y1)}</text>'  # type: ignore[arg-type]
        f'<text x="{left - 4}" y="{height - bottom}" text-anchor="end" font-size="10">{_fmt(y0)}</text>'  # type: ignore[arg-type]
    )
    if x_labels:
        out.append(
            f'<text x="{left}" y="{height - bottom + 14}" font-size="10">{escape(x_labels[0])}</text>'
            f'<text x="{width - right}" y="{height - bottom + 14}" font-size="10" text-anchor="end">'
            f"{escape(x_labels[1])}</text>"
        )
    for i, (label, xs, ys) in enumerate(series):
        color = PALETTE[i % len(PALETTE)]
        segs: list[list[str]] = [[]]
        for x, y in zip(xs, ys, strict=False):
            if _finite(y):
                segs[-1].append(f"{sx(x):.1f},{sy(y):.1f}")  # type: ignore[arg-type]
            elif segs[-1]:
                segs.append([])
        for seg in segs:
            if len(seg) == 1:
                cx, cy = seg[0].split(",")
                out.append(f'<circle cx="{cx}" cy="{cy}" r="2.5" fill="{color}"/>')
            elif seg:
                out.append(
                    f'<polyline fill="none" stroke="{color}" stroke-width="1.8" points="{" ".join(seg)}"/>'
                )
        out.append(
            f'<rect x="{left + 8 + 180 * i}" y="{height - 16}" width="10" height="10" fill="{color}"/>'
            f'<text x="{left + 22 + 180 * i}" y="{height - 7}" font-size="11">{escape(label[:28])}</text>'
        )
    out.append("</svg>")
    return "".join(out)


def bar_chart(
    labels: Sequence[str],
    values: Sequence[float | None],
    *,
    ci: Sequence[tuple[float | None, float | None]] | None = None,
    title: str = "",
    width: int = 760,
) -> str:
    """Horizontal bars (with optional CI whiskers) around a zero line; None values are skipped."""
    rows = [
        (lab, v, (ci[i] if ci else (None, None)))
        for i, (lab, v) in enumerate(zip(labels, values, strict=False))
        if _finite(v)
    ]
    bar_h, label_w, pad = 20, 300, 8
    height = max(40, pad * 2 + bar_h * len(rows))
    out = [_open(width, height, title)]
    if not rows:
        out.append(f'<text x="{width / 2}" y="24" text-anchor="middle">no data</text></svg>')
        return "".join(out)
    nums = [v for _, v, _ in rows] + [c for _, _, ab in rows for c in ab if _finite(c)] + [0.0]
    lo, hi = min(nums), max(nums)  # type: ignore[type-var]
    hi = hi if hi > lo else lo + 1  # type: ignore[operator]
    plot_w = width - label_w - 70

    def sx(v: float) -> float:
        return label_w + (v - lo) / (hi - lo) * plot_w  # type: ignore[operator]

    zero = sx(0.0)
    out.append(f'<line x1="{zero:.1f}" y1="{pad}" x2="{zero:.1f}" y2="{height - pad}" stroke="#888"/>')
    for i, (lab, v, (clo, chi)) in enumerate(rows):
        y = pad + i * bar_h
        x_v = sx(v)  # type: ignore[arg-type]
        color = PALETTE[0] if v >= 0 else PALETTE[1]  # type: ignore[operator]
        out.append(
            f'<text x="{label_w - 6}" y="{y + 14}" text-anchor="end" font-size="11">{escape(lab[:48])}</text>'
            f'<rect x="{min(zero, x_v):.1f}" y="{y + 3}" width="{abs(x_v - zero):.1f}" height="{bar_h - 6}" '
            f'fill="{color}" opacity="0.8"/>'
        )
        if _finite(clo) and _finite(chi):
            out.append(
                f'<line x1="{sx(clo):.1f}" y1="{y + bar_h / 2}" x2="{sx(chi):.1f}" y2="{y + bar_h / 2}" '  # type: ignore[arg-type]
                'stroke="#222" stroke-width="1.5"/>'
            )
        out.append(f'<text x="{max(x_v, zero) + 4:.1f}" y="{y + 14}" font-size="10">{_fmt(v)}</text>')  # type: ignore[arg-type]
    out.append("</svg>")
    return "".join(out)


def timeline(
    marks: Sequence[tuple[float, str, str]],
    start: float,
    end: float,
    *,
    title: str = "",
    width: int = 640,
    x_labels: tuple[str, str] | None = None,
) -> str:
    """Markers (t, label, color) on a time axis from ``start`` to ``end`` (any numeric unit)."""
    height = 60 + 14 * min(len(marks), 12)
    out = [_open(width, height, title)]
    left, right, axis_y = 20, 20, 30
    span = end - start if end > start else 1.0

    def sx(t: float) -> float:
        return left + (min(max(t, start), end) - start) / span * (width - left - right)

    out.append(f'<line x1="{left}" y1="{axis_y}" x2="{width - right}" y2="{axis_y}" stroke="#888"/>')
    if x_labels:
        out.append(
            f'<text x="{left}" y="{axis_y - 8}" font-size="10">{escape(x_labels[0])}</text>'
            f'<text x="{width - right}" y="{axis_y - 8}" font-size="10" text-anchor="end">'
            f"{escape(x_labels[1])}</text>"
        )
    for i, (t, label, color) in enumerate(marks):
        x = sx(t)
        out.append(f'<circle cx="{x:.1f}" cy="{axis_y}" r="5" fill="{escape(color)}"/>')
        if i < 12:
            y = axis_y + 22 + 14 * i
            out.append(
                f'<line x1="{x:.1f}" y1="{axis_y + 5}" x2="{x:.1f}" y2="{y - 10}" stroke="{escape(color)}" '
                'stroke-dasharray="2,2"/>'
                f'<text x="{min(x + 4, width - 200):.1f}" y="{y}" font-size="10">{escape(label[:60])}</text>'
            )
    out.append("</svg>")
    return "".join(out)
