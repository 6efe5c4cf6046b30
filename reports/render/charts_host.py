"""The host chart as a vector figure: what the rented machine measured of itself over the period.

Three panels on one time axis: CPU steal (% of CPU time), CPU speed (% of the machine's first
week, 100 % dashed), and the fsync latency's p99 (ms) with the sequential write throughput (MB/s,
open circles on the panel's right scale). Lines break where readings stop (a gap of more than
2.5 times the usual step): no line bridges time without readings. Greyscale: line styles and
markers tell the series apart.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, tzinfo

from reports.render.chart_parts import AXIS, GRID, INK, LEFT, RIGHT, WIDTH, Axis, Span, legend, x_axis
from reports.render.i18n import label
from reports.render.smokeping import nice_max
from reports.render.vector import Figure, Line, Poly, Rect, Shape, Text

HostPoint = tuple[datetime, float | None, float | None, float | None, float | None, float | None]
PANEL_H = 56.0


def _runs(points: Sequence[tuple[datetime, float | None]]) -> list[list[tuple[datetime, float]]]:
    """Points with a value, in runs that break at a gap (or a missing value)."""
    steps = sorted((b[0] - a[0]).total_seconds() for a, b in zip(points, points[1:]))
    usual = steps[len(steps) // 2] if steps else 0.0
    runs: list[list[tuple[datetime, float]]] = []
    prev: datetime | None = None
    for t, v in points:
        if v is None:
            prev = None
            continue
        if prev is None or (usual and (t - prev).total_seconds() > 2.5 * usual) or not runs:
            runs.append([])
        runs[-1].append((t, v))
        prev = t
    return runs


def _panel(fig: Figure, ax: Axis, top: float, points: Sequence[tuple[datetime, float | None]], title: str,
           dash: tuple[float, ...] = (), reference: float | None = None, floor_max: float = 1.0) -> bool:
    values = [v for _, v in points if v is not None]
    vmax = nice_max(max([*values, reference or 0.0, floor_max]) * 1.1)
    x0, x1 = LEFT, WIDTH - RIGHT
    for k in range(3):
        y = top + PANEL_H * (1 - k / 2)
        fig.add(Line(x0, y, x1, y, GRID if k else AXIS, 0.4 if k else 0.6), Text(x0 - 3, y + 2, f"{vmax * k / 2:g}", 6, "end"))
    fig.add(Line(x0, top, x0, top + PANEL_H, AXIS, 0.6), Text(4, top - 2, title, 6, "start", INK))
    if reference is not None:
        y = top + PANEL_H * (1 - reference / vmax)
        fig.add(Line(x0, y, x1, y, "#777777", 0.5, (1.0, 1.5)))
    for run in _runs(points):
        pts = tuple((ax.x(t), top + PANEL_H * (1 - min(v, vmax) / vmax)) for t, v in run)
        if len(pts) == 1:
            fig.add(Rect(pts[0][0] - 0.8, pts[0][1] - 0.8, 1.6, 1.6, "#000000"))
        else:
            fig.add(Poly(pts, None, "#000000", 0.7, dash))
    return bool(values)


def host_figure(title: str, points: Sequence[HostPoint], period: Span, zone: tzinfo, lang: str) -> Figure:
    """Steal, CPU speed and disk (fsync p99 with write throughput) of the machine's own readings."""
    fig = Figure(WIDTH, 0, title)
    fig.add(Text(4, 9, title, 7.5, "start", bold=True))
    ax = Axis(period, LEFT, WIDTH - LEFT - RIGHT)
    pts = sorted(points, key=lambda p: p[0])
    top = 24.0
    _panel(fig, ax, top, [(p[0], p[1]) for p in pts], label("ax.steal", lang), floor_max=5.0)
    top += PANEL_H + 14
    _panel(fig, ax, top, [(p[0], p[2]) for p in pts], label("ax.speed", lang), (3.0, 1.5), reference=100.0, floor_max=100.0)
    top += PANEL_H + 14
    _panel(fig, ax, top, [(p[0], p[3]) for p in pts], label("ax.fsync", lang), floor_max=1.0)
    writes = [(p[0], p[4]) for p in pts if p[4] is not None]
    if writes:
        wmax = nice_max(max(w for _, w in writes if w is not None) * 1.2)
        for t, w in writes:
            assert w is not None
            y = top + PANEL_H * (1 - w / wmax)
            fig.add(Rect(ax.x(t) - 1.2, y - 1.2, 2.4, 2.4, "#ffffff", "#000000", 0.5))
        fig.add(Text(WIDTH - RIGHT, top - 2, label("ax.write", lang) + f" (0–{wmax:g})", 6, "end", INK))
    y = x_axis(fig, ax, top + PANEL_H, zone, lang)
    items: list[tuple[list[Shape], str]] = [
        ([Line(0, 3, 10, 3, "#000000", 0.8)], label("leg.steal", lang)),
        ([Line(0, 3, 10, 3, "#000000", 0.8, (3.0, 1.5))], label("leg.speed", lang)),
        ([Line(0, 3, 10, 3, "#000000", 0.8)], label("leg.fsync", lang)),
    ]
    if writes:
        items.append(([Rect(3.8, 1.8, 2.4, 2.4, "#ffffff", "#000000", 0.5)], label("leg.write", lang)))
    fig.height = legend(fig, y + 7, items) + 3
    return fig
