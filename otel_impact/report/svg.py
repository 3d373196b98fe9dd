"""Small inline-SVG charts for the reports (no JavaScript, no network, no plotting library).

Each function returns one ``<svg class="chart">`` element as a string, escaped and
self-contained. Every chart has tick labels on both axes (class ``tick-x`` / ``tick-y``), real
values on a labelled axis, a legend where there is more than one series (class ``legend``) and
never truncates a label: the label column is as wide as the longest label, so callers keep
labels short and unique.

>>> bar_chart(["a", "b"], [1.0, -0.5]).startswith("<svg")
True
>>> nice_ticks(0.0, 0.93)
[0.0, 0.2, 0.4, 0.6, 0.8, 1.0]
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from html import escape

PALETTE = ("#3366cc", "#dc3912", "#ff9900", "#109618", "#990099", "#0099c6", "#dd4477", "#66aa00")
CHAR_W = 6.6  # approximate width of one character at font-size 11 (system sans-serif)
Fmt = Callable[[float], str]


def _finite(v: float | None) -> bool:
    return v is not None and isinstance(v, int | float) and math.isfinite(v)


def tick_fmt(v: float, step: float = 0.0) -> str:
    """Tick spelling: thousands separators, decimals only as many as the step needs."""
    if v == 0:
        return "0"
    a = abs(v)
    if a >= 1e6 and step >= 1e5:
        return f"{v / 1e6:g}M"
    if a >= 1000:
        return f"{v:,.0f}"
    decimals = max(0, -math.floor(math.log10(step))) if step > 0 else 3
    return f"{v:.{min(decimals, 6)}f}"


def value_fmt(v: float) -> str:
    """A bar's value label: ``123`` / ``79`` / ``97.5`` / ``0.636`` / ``14,645``."""
    if v == int(v) and abs(v) < 1e15:
        return f"{int(v):,}"
    a = abs(v)
    if a >= 100:
        return f"{v:,.0f}"
    if a >= 10:
        return f"{v:.1f}"
    return f"{v:.3g}"


def pct_fmt(v: float, step: float = 0.0) -> str:
    """Tick spelling of a fraction as a percentage."""
    decimals = max(0, -math.floor(math.log10(step * 100))) if step > 0 else 0
    return f"{v * 100:.{min(decimals, 3)}f}%"


def nice_ticks(lo: float, hi: float, n: int = 5) -> list[float]:
    """About ``n`` round tick values covering ``[lo, hi]`` (1-2-5 steps)."""
    if not (math.isfinite(lo) and math.isfinite(hi)):
        return [0.0, 1.0]
    if hi <= lo:
        hi = lo + (abs(lo) or 1.0)
    raw = (hi - lo) / max(n, 1)
    mag = 10 ** math.floor(math.log10(raw))
    step = next(m * mag for m in (1, 2, 2.5, 5, 10) if m * mag >= raw)
    start = math.floor(lo / step + 1e-9) * step
    ticks = []
    t = start
    while t < hi + step * 0.999:
        ticks.append(round(t, 12))
        t += step
    return ticks


def time_ticks(t0: float, t1: float, n: int = 7) -> list[tuple[float, str]]:
    """Round date (or hour) ticks between epoch seconds ``t0`` and ``t1``, with labels."""
    span = max(t1 - t0, 1.0)
    steps = [3600 * h for h in (1, 2, 3, 6, 12)] + [86400 * d for d in (1, 2, 3, 7, 14, 28)]
    step = next((s for s in steps if span / s <= n), steps[-1])
    first = math.ceil(t0 / step) * step
    out: list[tuple[float, str]] = []
    t = float(first)
    while t <= t1 + 1e-6:
        dt = datetime.fromtimestamp(t, UTC)
        out.append((t, dt.strftime("%b %d") if step >= 86400 else dt.strftime("%b %d %H:%M")))
        t += step
    return out


def unique(labels: Sequence[str]) -> list[str]:
    """``labels`` with repeats numbered (``a``, ``a (2)``) so no two bars read alike."""
    seen: dict[str, int] = {}
    out = []
    for lab in labels:
        seen[lab] = seen.get(lab, 0) + 1
        out.append(lab if seen[lab] == 1 else f"{lab} ({seen[lab]})")
    return out


def _open(width: float, height: float, title: str) -> str:
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" width="{width:.0f}" height="{height:.0f}" '
        f'viewBox="0 0 {width:.0f} {height:.0f}" role="img" aria-label="{escape(title)}">'
        f"<title>{escape(title)}</title>"
    )


def _text(
    x: float, y: float, text: str, cls: str, anchor: str = "start", size: int = 11, extra: str = ""
) -> str:
    return (
        f'<text class="{cls}" x="{x:.1f}" y="{y:.1f}" text-anchor="{anchor}" font-size="{size}"{extra}>'
        f"{escape(text)}</text>"
    )


def _legend(items: Sequence[tuple[str, str]], x: float, y: float) -> str:
    out, cx = [], x
    for label, color in items:
        out.append(f'<rect x="{cx:.1f}" y="{y - 9:.1f}" width="10" height="10" fill="{color}"/>')
        out.append(_text(cx + 14, y, label, "legend"))
        cx += 14 + len(label) * CHAR_W + 18
    return "".join(out)


@dataclass(frozen=True)
class Panel:
    """One panel of a :func:`panels` chart: lines (label, epoch xs, ys) on one y axis."""

    axis_label: str
    lines: Sequence[tuple[str, Sequence[float], Sequence[float | None]]]
    percent: bool = False
    colors: Sequence[str] = field(default_factory=tuple)


def panels(
    stack: Sequence[Panel],
    *,
    title: str,
    width: int = 980,
    panel_height: int = 150,
    markers: Sequence[tuple[float, str]] = (),
) -> str:
    """Vertically stacked panels sharing a date x axis; each panel has its own y scale and unit.

    ``markers`` are (epoch, short label) vertical lines across all panels (e.g. a rollout).
    """
    left, right, top_pad, gap, bottom = 78, 30, 26, 30, 34
    height = top_pad + len(stack) * panel_height + (len(stack) - 1) * gap + bottom
    out = [_open(width, height, title)]
    xs_all = [x for p in stack for _, xs, ys in p.lines for x, y in zip(xs, ys, strict=False) if _finite(y)]
    if not xs_all:
        out.append(_text(width / 2, height / 2, "no data", "nodata", "middle"))
        out.append(
            _text(left, height - 8, "–", "tick-x") + _text(left - 6, top_pad + 10, "–", "tick-y", "end")
        )
        return "".join(out) + "</svg>"
    x0, x1 = min(xs_all), max(xs_all)
    x1 = x1 if x1 > x0 else x0 + 86400
    plot_w = width - left - right

    def sx(x: float) -> float:
        return left + (x - x0) / (x1 - x0) * plot_w

    ticks = time_ticks(x0, x1)
    for i, panel in enumerate(stack):
        ptop = top_pad + i * (panel_height + gap)
        pbot = ptop + panel_height
        ys_all = [y for _, xs, ys in panel.lines for y in ys if _finite(y)]
        lo, hi = (min(ys_all), max(ys_all)) if ys_all else (0.0, 1.0)  # type: ignore[type-var]
        yt = nice_ticks(float(lo), float(hi), 4)  # type: ignore[arg-type]
        y0, y1 = yt[0], yt[-1]
        step = yt[1] - yt[0] if len(yt) > 1 else 1.0
        fmt_y = pct_fmt if panel.percent else tick_fmt

        def sy(y: float, y0: float = y0, y1: float = y1, ptop: float = ptop, pbot: float = pbot) -> float:
            return pbot - (y - y0) / ((y1 - y0) or 1.0) * (pbot - ptop)

        for t in yt:
            out.append(
                f'<line x1="{left}" y1="{sy(t):.1f}" x2="{width - right}" y2="{sy(t):.1f}" stroke="#eee"/>'
                + _text(left - 6, sy(t) + 4, fmt_y(t, step), "tick-y", "end", 10)
            )
        out.append(
            f'<line x1="{left}" y1="{pbot}" x2="{width - right}" y2="{pbot}" stroke="#888"/>'
            f'<line x1="{left}" y1="{ptop}" x2="{left}" y2="{pbot}" stroke="#888"/>'
        )
        for t, label in ticks:
            out.append(f'<line x1="{sx(t):.1f}" y1="{pbot}" x2="{sx(t):.1f}" y2="{pbot + 4}" stroke="#888"/>')
            if i == len(stack) - 1:
                out.append(_text(sx(t), pbot + 16, label, "tick-x", "middle", 10))
        legend = []
        for j, (label, xs, ys) in enumerate(panel.lines):
            color = panel.colors[j] if j < len(panel.colors) else PALETTE[(i * 2 + j) % len(PALETTE)]
            legend.append((label, color))
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
        out.append(_legend(legend, left + 4, ptop - 8))
        out.append(_text(left - 6, ptop - 8, panel.axis_label, "axis-label", "end", 10))
    for t, label in markers:
        if x0 <= t <= x1:
            out.append(
                f'<line x1="{sx(t):.1f}" y1="{top_pad}" x2="{sx(t):.1f}" y2="{height - bottom}" '
                'stroke="#999" stroke-dasharray="4,3"/>'
            )
            anchor = "end" if sx(t) > width - right - len(label) * CHAR_W else "start"
            dx = -4 if anchor == "end" else 4
            out.append(_text(sx(t) + dx, height - bottom - 4, label, "marker", anchor, 10))
    return "".join(out) + "</svg>"


def bar_chart(
    labels: Sequence[str],
    values: Sequence[float | None],
    *,
    ci: Sequence[tuple[float | None, float | None]] | None = None,
    title: str = "",
    axis_label: str = "",
    percent: bool = False,
    width: int = 980,
    colors: Sequence[str] | None = None,
    legend: Sequence[tuple[str, str]] = (),
) -> str:
    """Horizontal bars around a zero line with optional CI whiskers; None values are skipped.

    ``percent``: values are fractions shown as percentages. ``colors``: one per bar (default:
    blue for positive, red for negative). ``legend``: (label, color) items shown under the axis.
    """
    labels = unique(labels)
    rows = [
        (lab, float(v), (ci[i] if ci else (None, None)), (colors[i] if colors else None))  # type: ignore[arg-type]
        for i, (lab, v) in enumerate(zip(labels, values, strict=False))
        if _finite(v)
    ]
    bar_h, pad_top = 22, 10
    label_w = min(max((len(r[0]) for r in rows), default=4) * CHAR_W + 16, width * 0.45)
    has_ci = any(_finite(c[0]) and _finite(c[1]) for _, _, c, _ in rows)
    legend = list(legend) + ([("CI (whisker)", "#222")] if has_ci else [])
    bottom = 40 + (18 if legend else 0)
    height = pad_top + bar_h * max(len(rows), 1) + bottom
    out = [_open(width, height, title)]
    if not rows:
        out.append(_text(width / 2, pad_top + 14, "no data", "nodata", "middle"))
        out.append(
            _text(label_w, height - 20, "–", "tick-x")
            + _text(label_w - 6, pad_top + 14, "–", "tick-y", "end")
        )
        return "".join(out) + "</svg>"
    nums: list[float] = (
        [v for _, v, _, _ in rows]
        + [float(c) for _, _, ab, _ in rows for c in ab if c is not None and _finite(c)]
        + [0.0]
    )
    ticks = nice_ticks(min(nums), max(nums), 6)
    lo, hi = ticks[0], ticks[-1]
    step = ticks[1] - ticks[0] if len(ticks) > 1 else 1.0
    fmt_x = pct_fmt if percent else tick_fmt
    value_room = 64
    plot_w = width - label_w - value_room - 10

    def sx(v: float) -> float:
        return label_w + (v - lo) / ((hi - lo) or 1.0) * plot_w

    plot_bottom = pad_top + bar_h * len(rows)
    for t in ticks:
        out.append(
            f'<line x1="{sx(t):.1f}" y1="{pad_top}" x2="{sx(t):.1f}" y2="{plot_bottom}" stroke="#eee"/>'
            + _text(sx(t), plot_bottom + 14, fmt_x(t, step), "tick-x", "middle", 10)
        )
    zero = sx(0.0)
    out.append(f'<line x1="{zero:.1f}" y1="{pad_top}" x2="{zero:.1f}" y2="{plot_bottom}" stroke="#666"/>')
    out.append(
        f'<line x1="{label_w}" y1="{plot_bottom}" x2="{label_w + plot_w}" y2="{plot_bottom}" stroke="#888"/>'
    )
    if axis_label:
        out.append(_text(label_w + plot_w / 2, plot_bottom + 30, axis_label, "axis-label", "middle", 11))
    for i, (lab, v, (clo, chi), color) in enumerate(rows):
        y = pad_top + i * bar_h
        x_v = sx(v)
        fill = color or (PALETTE[0] if v >= 0 else PALETTE[1])
        out.append(
            _text(label_w - 6, y + 15, lab, "tick-y", "end")
            + f'<rect x="{min(zero, x_v):.1f}" y="{y + 4}" width="{max(abs(x_v - zero), 1):.1f}" '
            f'height="{bar_h - 8}" fill="{fill}" opacity="0.85"/>'
        )
        right_edge = max(x_v, zero)
        if _finite(clo) and _finite(chi):
            a, b = sx(clo), sx(chi)  # type: ignore[arg-type]
            mid = y + bar_h / 2
            out.append(
                f'<line x1="{a:.1f}" y1="{mid}" x2="{b:.1f}" y2="{mid}" stroke="#222" stroke-width="1.4"/>'
                f'<line x1="{a:.1f}" y1="{mid - 4}" x2="{a:.1f}" y2="{mid + 4}" stroke="#222"/>'
                f'<line x1="{b:.1f}" y1="{mid - 4}" x2="{b:.1f}" y2="{mid + 4}" stroke="#222"/>'
            )
            right_edge = max(right_edge, b)
        shown = f"{v * 100:+.1f}%" if percent else value_fmt(v)
        out.append(_text(min(right_edge + 4, width - value_room + 4), y + 15, shown, "value", "start", 10))
    if legend:
        out.append(_legend(legend, label_w, height - 6))
    return "".join(out) + "</svg>"


def timeline(
    lanes: Sequence[str],
    marks: Sequence[tuple[float, str, str, str]],
    start: float,
    end: float,
    *,
    title: str = "",
    width: int = 980,
) -> str:
    """Markers (epoch, lane, short label, color) in horizontal lanes over a date axis.

    Each mark's label is written beside it (left of it in the right half, so it stays inside
    the chart); labels in one lane that would overlap move to a further row of that lane.
    """
    left = int(max((len(x) for x in lanes), default=4) * CHAR_W + 16)
    right, top, row_h = 16, 16, 16
    span = end - start if end > start else 1.0
    plot_w = width - left - right

    def sx(t: float) -> float:
        return left + (min(max(t, start), end) - start) / span * plot_w

    # lay out labels: rows within each lane, greedy, no overlap
    placed: dict[str, list[list[tuple[float, float]]]] = {lane: [] for lane in lanes}
    layout: list[tuple[float, str, str, str, int, float, float, str]] = []
    for t, lane, label, color in sorted(marks):
        x = sx(t)
        w = len(label) * CHAR_W * 10 / 11 + 8 if label else 10
        anchor = "end" if x + w > width - right else "start"
        a, b = (x - w, x) if anchor == "end" else (x, x + w)
        rows = placed.setdefault(lane, [])
        free = [i for i, spans in enumerate(rows) if all(b < s0 or a > s1 for s0, s1 in spans)]
        if free:
            r = free[0]
            rows[r].append((a, b))
        else:
            rows.append([(a, b)])
            r = len(rows) - 1
        layout.append((t, lane, label, color, r, x, 0.0, anchor))
    lane_top: dict[str, float] = {}
    y = top
    for lane in lanes:
        lane_top[lane] = y
        y += row_h * max(1, len(placed.get(lane) or [])) + 10
    axis_y = y + 4
    height = axis_y + 30
    out = [_open(width, height, title)]
    for lane in lanes:
        ly = lane_top[lane]
        out.append(_text(left - 8, ly + 12, lane, "tick-y", "end"))
        out.append(
            f'<line x1="{left}" y1="{ly - 3:.1f}" x2="{width - right}" y2="{ly - 3:.1f}" stroke="#f0f0f0"/>'
        )
    out.append(f'<line x1="{left}" y1="{axis_y}" x2="{width - right}" y2="{axis_y}" stroke="#888"/>')
    for t, label in time_ticks(start, end):
        out.append(
            f'<line x1="{sx(t):.1f}" y1="{top - 4}" x2="{sx(t):.1f}" y2="{axis_y + 4}" stroke="#eee"/>'
            + _text(sx(t), axis_y + 16, label, "tick-x", "middle", 10)
        )
    for _t, lane, label, color, r, x, _, anchor in layout:
        yy = lane_top[lane] + r * row_h + 8
        out.append(f'<circle cx="{x:.1f}" cy="{yy:.1f}" r="4.5" fill="{escape(color)}"/>')
        dx = -7 if anchor == "end" else 7
        if label:
            out.append(_text(x + dx, yy + 4, label, "label", anchor, 10))
    return "".join(out) + "</svg>"
