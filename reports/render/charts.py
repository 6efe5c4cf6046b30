"""Report charts as PNG bytes (matplotlib, Agg, no pyplot state).

Every chart must read in black and white: incident kinds differ by hatch
pattern, series by line style, so a printed, photocopied report keeps its
meaning. Charts are drawn once and the same bytes go into the PDF and HTML.
"""

from __future__ import annotations

import io
import math
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

# Figures are built with Figure + FigureCanvasAgg directly, never pyplot: no
# global figure registry, no backend switching, nothing left open.
import matplotlib.dates as mdates
from matplotlib import font_manager, rc_context
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.patches import Patch

from reports.render.fonts import FontChoice, discover_fonts
from reports.render.i18n import kind_label, label
from reports.render.inputs import display_zone
from reports.render.model import BAND_KINDS, BandKind, Report, TargetReport, TargetSeries

DPI = 150
WIDTH_IN = 7.2
CHART_NAMES = ("latency", "daily", "histogram", "host")

# kind: (hatch, face colour, edge/hatch colour). Colour helps on screen; the
# hatch carries the meaning on paper.
BAND_STYLE: dict[BandKind, tuple[str, str, str]] = {
    "outage": ("////", "#f2c4c0", "#6b0000"),
    "partial": ("\\\\\\\\", "#fbe3bd", "#6b4300"),
    "degraded": ("....", "#f7f0c0", "#555000"),
    "local": ("xxx", "#d5e1f2", "#1c3a70"),
    "no_data": ("", "#cfcfcf", "#555555"),
}
BAND_ORDER: tuple[BandKind, ...] = BAND_KINDS  # drawn in reverse: outages on top
MIN_BAND_FRACTION = 0.003  # narrowest band drawn, as a share of the time axis

_DATE_FORMATS = ["%Y", "%m-%d", "%m-%d", "%H:%M", "%H:%M", "%S.%f"]
_ZERO_FORMATS = ["", "%Y", "%m-%d", "%m-%d", "%H:%M", "%H:%M"]
_OFFSET_FORMATS = ["", "%Y", "%Y-%m", "%Y-%m-%d", "%Y-%m-%d", "%Y-%m-%d %H:%M"]


def chart_lang(lang: str, fonts: FontChoice) -> str:
    """The language the charts can be labelled in: English without a CJK font."""
    return "zh" if lang == "zh" and fonts.has_cjk else "en"


def _families(fonts: FontChoice) -> list[str]:
    """DejaVu for Latin and digits, then the CJK face as glyph fallback."""
    families = ["DejaVu Sans"]
    if fonts.has_cjk:
        cjk = fonts.cjk[0]
        known = {str(f.fname) for f in font_manager.fontManager.ttflist}
        if str(cjk.path) not in known:
            font_manager.fontManager.addfont(str(cjk.path))
        families.append(cjk.family)
    return families


def _rc(fonts: FontChoice) -> Any:  # matplotlib types the keys as a Literal of every rc name
    return {
        "font.family": _families(fonts),
        "font.size": 8,
        "axes.titlesize": 9,
        "axes.labelsize": 8,
        "legend.fontsize": 7,
        "hatch.linewidth": 0.7,
        "axes.unicode_minus": False,
        "figure.dpi": DPI,
        "savefig.dpi": DPI,
        "axes.grid": True,
        "grid.color": "#bbbbbb",
        "grid.linewidth": 0.4,
        "grid.linestyle": ":",
    }


def _png(fig: Figure) -> bytes:
    FigureCanvasAgg(fig)
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=DPI, metadata={"Software": None})
    return buf.getvalue()


def _time_axis(ax: Any, zone: Any) -> None:
    locator = mdates.AutoDateLocator(tz=zone, minticks=4, maxticks=10)
    formatter = mdates.ConciseDateFormatter(
        locator,
        tz=zone,
        formats=_DATE_FORMATS,
        zero_formats=_ZERO_FORMATS,
        offset_formats=_OFFSET_FORMATS,
    )
    ax.xaxis.set_major_locator(locator)
    ax.xaxis.set_major_formatter(formatter)


def _with_gaps(
    points: Sequence[tuple[datetime, float | None, float | None]],
) -> tuple[list[float], list[float], list[float]]:
    """Plot arrays with NaN inserted where buckets are missing.

    A line must not bridge a stretch without measurements: that would draw
    "no data" as if it had been measured.
    """
    pts = sorted(points, key=lambda p: p[0])
    steps = sorted((b[0] - a[0]).total_seconds() for a, b in zip(pts, pts[1:]))
    usual = steps[len(steps) // 2] if steps else 0.0
    times: list[float] = []
    rtt: list[float] = []
    loss: list[float] = []
    for i, (t, r, lost) in enumerate(pts):
        if i and usual > 0 and (t - pts[i - 1][0]).total_seconds() > 2.5 * usual:
            gap_at = pts[i - 1][0] + timedelta(seconds=usual)
            times.append(mdates.date2num(gap_at))
            rtt.append(math.nan)
            loss.append(math.nan)
        times.append(mdates.date2num(t))
        rtt.append(math.nan if r is None else float(r))
        loss.append(math.nan if lost is None else float(lost))
    return times, rtt, loss


def _draw_bands(
    axes: Sequence[Any],
    bands: Sequence[tuple[datetime, datetime, BandKind]],
    span: tuple[datetime, datetime],
) -> set[BandKind]:
    """Shade every band on every axis; return the kinds drawn (for the legend)."""
    total = (span[1] - span[0]).total_seconds() or 1.0
    min_width = timedelta(seconds=total * MIN_BAND_FRACTION)
    drawn: set[BandKind] = set()
    for start, end, kind in sorted(bands, key=lambda b: BAND_ORDER.index(b[2]), reverse=True):
        hatch, face, edge = BAND_STYLE[kind]
        if end - start < min_width:
            middle = start + (end - start) / 2
            start, end = middle - min_width / 2, middle + min_width / 2
        for ax in axes:
            ax.axvspan(
                mdates.date2num(start),
                mdates.date2num(end),
                facecolor=face,
                edgecolor=edge,
                hatch=hatch,
                linewidth=0.6,
                zorder=0.5,
            )
        drawn.add(kind)
    return drawn


MAX_INCIDENT_LABELS = 20


def _label_incidents(ax: Any, target: TargetReport, span: tuple[datetime, datetime]) -> None:
    """Write incident IDs at the top of their bands, to find them in the table.

    Skipped when there are too many to read.
    """
    incidents = [i for i in target.incidents if i.kind != "local"]
    if not incidents or len(incidents) > MAX_INCIDENT_LABELS:
        return
    for inc in incidents:
        start = max(inc.start, span[0])
        middle = start + (min(inc.end, span[1]) - start) / 2
        ax.annotate(
            inc.id,
            xy=(mdates.date2num(middle), 1.0),
            xycoords=("data", "axes fraction"),
            xytext=(0, -2),
            textcoords="offset points",
            ha="center",
            va="top",
            fontsize=6,
            annotation_clip=True,
            bbox={"facecolor": "white", "edgecolor": "black", "linewidth": 0.4, "pad": 0.8},
            parse_math=False,
        )


def _band_handles(kinds: set[BandKind], lang: str) -> list[Patch]:
    handles = []
    for kind in BAND_ORDER:
        if kind in kinds:
            hatch, face, edge = BAND_STYLE[kind]
            handles.append(
                Patch(facecolor=face, edgecolor=edge, hatch=hatch, linewidth=0.6, label=kind_label(kind, lang))
            )
    return handles


def latency_chart(
    target: TargetReport,
    series: TargetSeries,
    report: Report,
    lang: str,
    fonts: FontChoice,
) -> bytes:
    """Median RTT (top) and loss (bottom) over time, with incident bands."""
    zone = display_zone(report)
    span = (report.period.start, report.period.end)
    with rc_context(_rc(fonts)):
        fig = Figure(figsize=(WIDTH_IN, 3.8), layout="constrained")
        try:
            ax, ax_loss = fig.subplots(2, 1, sharex=True, height_ratios=[3, 1.3])
            times, rtt, loss = _with_gaps(series.latency)
            kinds = _draw_bands((ax, ax_loss), series.bands, span)
            ax.plot(times, rtt, color="black", linewidth=0.8, linestyle="-", label=label("leg.median", lang), zorder=3)
            ax_loss.fill_between(times, loss, step="post", facecolor="#7f7f7f", edgecolor="black", linewidth=0.5, zorder=3)
            ax_loss.step(times, loss, where="post", color="black", linewidth=0.6, linestyle="--", label=label("leg.loss", lang), zorder=3)
            if not any(not math.isnan(r) for r in rtt):
                ax.text(0.5, 0.5, label("no_latency", lang), transform=ax.transAxes, ha="center", va="center")
            ax.set_xlim(mdates.date2num(span[0]), mdates.date2num(span[1]))
            ax.set_ylim(bottom=0, top=max(ax.get_ylim()[1], 1.0) * 1.12)
            _label_incidents(ax, target, span)
            finite = [v for v in loss if not math.isnan(v)]
            ax_loss.set_ylim(0, min(100.0, max(5.0, max(finite, default=0.0) * 1.1)))
            ax.set_ylabel(label("ax.latency", lang))
            ax_loss.set_ylabel(label("ax.loss", lang))
            ax_loss.set_xlabel(label("ax.time", lang, zone=str(zone)))
            _time_axis(ax_loss, zone)
            ax.set_title(target.name, loc="left", parse_math=False)
            line_handles, _ = ax.get_legend_handles_labels()
            loss_handles, _ = ax_loss.get_legend_handles_labels()
            ax.legend(
                handles=line_handles + loss_handles + _band_handles(kinds, lang),
                loc="upper left",
                bbox_to_anchor=(1.01, 1.0),
                frameon=False,
                handlelength=2.2,
            )
            return _png(fig)
        finally:
            fig.clear()


def _axis_floor(values: Sequence[float]) -> float:
    """The lowest y shown for availability: a round value below the worst day."""
    worst = min(values, default=100.0)
    for floor in (99.9, 99.0, 95.0, 90.0, 50.0):
        if worst - floor >= (100.0 - floor) * 0.15:
            return floor
    return 0.0


def daily_chart(
    target: TargetReport,
    series: TargetSeries,
    report: Report,
    lang: str,
    fonts: FontChoice,
) -> bytes:
    """Availability per day (top) and coverage per day (bottom); no-data days hatched."""
    zone = display_zone(report)
    days = series.daily
    with rc_context(_rc(fonts)):
        fig = Figure(figsize=(WIDTH_IN, 3.2), layout="constrained")
        try:
            ax, ax_cov = fig.subplots(2, 1, sharex=True, height_ratios=[3, 1.2])
            known = [a for _, a, _ in days if a is not None]
            floor = _axis_floor(known)
            xs = list(range(len(days)))
            nodata_style = BAND_STYLE["no_data"]
            for x, (_, avail, cov) in zip(xs, days):
                if avail is None:
                    ax.bar(x, 100.0 - floor, bottom=floor, width=0.8, facecolor="white", edgecolor="#444444", hatch="////", linewidth=0.6, linestyle="--")
                    ax.text(x, floor + (100.0 - floor) / 2, label("no_data", lang), rotation=90, ha="center", va="center", fontsize=7, bbox={"facecolor": "white", "edgecolor": "none", "pad": 1.0})
                else:
                    ax.bar(x, max(avail - floor, 0.0), bottom=floor, width=0.8, facecolor="#9a9a9a", edgecolor="black", linewidth=0.6)
                    if len(days) <= 45:
                        ax.text(x, floor + (100.0 - floor) * 0.02, f"{avail:.3f}".rstrip("0").rstrip(".") if avail != 100.0 else "100", rotation=90, ha="center", va="bottom", fontsize=6)
                ax_cov.bar(x, cov, width=0.8, facecolor=nodata_style[1], edgecolor="black", linewidth=0.5)
            ax.set_ylim(floor, 100.0 + (100.0 - floor) * 0.02)
            ax_cov.set_ylim(0, 105)
            ax.set_ylabel(label("ax.availability", lang))
            ax_cov.set_ylabel(label("ax.coverage", lang))
            ax_cov.set_xlabel(label("ax.day", lang, zone=str(zone)))
            if floor > 0:
                ax.text(1.0, 1.02, label("ax.axis_from", lang, v=f"{floor:g}"), transform=ax.transAxes, ha="right", va="bottom", fontsize=7, style="italic")
            step = max(1, math.ceil(len(days) / 16))
            ax_cov.set_xticks(xs[::step], [d.strftime("%m-%d") for d, _, _ in days][::step])
            ax.grid(axis="x", visible=False)
            ax_cov.grid(axis="x", visible=False)
            if not days:
                ax.text(0.5, 0.5, label("no_data", lang), transform=ax.transAxes, ha="center", va="center")
            ax.set_title(target.name, loc="left", parse_math=False)
            return _png(fig)
        finally:
            fig.clear()


def bucket_widths(lows: Sequence[float]) -> list[float]:
    """Bucket widths from lower bounds alone, which may skip empty buckets.

    Geometric buckets (every ratio between neighbours a whole power of the
    smallest ratio, steps not all equal): width = low × (ratio − 1). Else
    equal-width buckets: the smallest step. Never wider than the step to the
    next bucket. Sending empty buckets with count 0 removes the guesswork.
    """
    if len(lows) < 2:
        return [max(abs(lows[0]) * 0.1, 1.0)] if lows else []
    steps = [b - a for a, b in zip(lows, lows[1:]) if b > a]
    unit = min(steps)
    ratios = [b / a for a, b in zip(lows, lows[1:]) if a > 0 and b > a]
    geometric = False
    if ratios and len(ratios) == len(steps) and max(steps) - unit > 1e-9 * max(steps):
        r = min(ratios)
        powers = [math.log(x) / math.log(r) for x in ratios] if r > 1 else []
        geometric = bool(powers) and all(abs(p - round(p)) < 0.02 for p in powers)
    if geometric:
        r = min(ratios)
        widths = [lo * (r - 1) for lo in lows]
    else:
        widths = [unit] * len(lows)
    nxt = [b - a for a, b in zip(lows, lows[1:])] + [widths[-1]]
    return [min(w, n) if n > 0 else w for w, n in zip(widths, nxt)]


def histogram_chart(
    target: TargetReport,
    series: TargetSeries,
    report: Report,
    lang: str,
    fonts: FontChoice,
) -> bytes:
    """Latency distribution with p50/p95/p99 lines in distinct line styles."""
    hist = sorted(series.latency_hist)
    with rc_context(_rc(fonts)):
        fig = Figure(figsize=(WIDTH_IN, 2.6), layout="constrained")
        try:
            ax = fig.subplots()
            if hist:
                lows = [lo for lo, _ in hist]
                widths = bucket_widths(lows)
                ax.bar(lows, [c for _, c in hist], width=widths, align="edge", facecolor="#bdbdbd", edgecolor="black", linewidth=0.4)
                if lows[0] > 0 and (lows[-1] + widths[-1]) / lows[0] > 50:
                    ax.set_xscale("log")
            else:
                ax.text(0.5, 0.5, label("no_latency", lang), transform=ax.transAxes, ha="center", va="center")
            lat = target.latency_ms
            for key, value, style in (("p50", lat.p50, "-"), ("p95", lat.p95, "--"), ("p99", lat.p99, ":")):
                if value is not None:
                    ax.axvline(value, color="black", linestyle=style, linewidth=1.2, label=f"{key} {value:.1f} ms")
            ax.set_xlabel(label("ax.latency", lang))
            ax.set_ylabel(label("ax.count", lang))
            ax.set_title(target.name, loc="left", parse_math=False)
            if ax.get_legend_handles_labels()[0]:
                ax.legend(loc="upper right", frameon=True, handlelength=3)
            return _png(fig)
        finally:
            fig.clear()


def _host_line(points: list[tuple[datetime, float | None]]) -> tuple[list[float], list[float]]:
    times, values, _ = _with_gaps([(t, v, None) for t, v in points])
    return times, values


def host_chart(target: TargetReport, series: TargetSeries, report: Report, lang: str, fonts: FontChoice) -> bytes:
    """Three panels over the period: steal %, CPU speed % of the baseline, fsync p99 ms with write MB/s."""
    zone = display_zone(report)
    span = (report.period.start, report.period.end)
    pts = series.host
    with rc_context(_rc(fonts)):
        fig = Figure(figsize=(WIDTH_IN, 4.4), layout="constrained")
        try:
            ax_steal, ax_speed, ax_disk = fig.subplots(3, 1, sharex=True, height_ratios=[1.2, 1.2, 1.4])
            t, steal = _host_line([(p[0], p[1]) for p in pts])
            ax_steal.plot(t, steal, color="black", linewidth=0.8, label=label("leg.steal", lang))
            finite = [v for v in steal if not math.isnan(v)]
            ax_steal.set_ylim(0, max(5.0, max(finite, default=0.0) * 1.15))
            t, speed = _host_line([(p[0], p[2]) for p in pts])
            ax_speed.plot(t, speed, color="black", linewidth=0.8, linestyle="--", label=label("leg.speed", lang))
            ax_speed.axhline(100.0, color="#777777", linewidth=0.6, linestyle=":")
            ax_speed.set_ylim(0, max(120.0, max((v for v in speed if not math.isnan(v)), default=0.0) * 1.1))
            t, fsync = _host_line([(p[0], p[3]) for p in pts])
            ax_disk.plot(t, fsync, color="black", linewidth=0.8, label=label("leg.fsync", lang))
            ax_disk.set_ylim(0, max(1.0, max((v for v in fsync if not math.isnan(v)), default=0.0) * 1.3))
            writes = [(p[0], p[4]) for p in pts if p[4] is not None]
            if writes:
                ax_write = ax_disk.twinx()
                ax_write.plot([mdates.date2num(w[0]) for w in writes], [w[1] for w in writes], linestyle="none", marker="o",
                              markersize=2.5, markerfacecolor="white", markeredgecolor="black", label=label("leg.write", lang))
                ax_write.set_ylim(0, max(w[1] for w in writes if w[1] is not None) * 1.3)
                ax_write.set_ylabel(label("ax.write", lang))
                ax_write.grid(False)
                ax_write.legend(loc="upper right", frameon=False)
            ax_steal.set_ylabel(label("ax.steal", lang))
            ax_speed.set_ylabel(label("ax.speed", lang))
            ax_disk.set_ylabel(label("ax.fsync", lang))
            for ax in (ax_steal, ax_speed, ax_disk):
                ax.legend(loc="upper left", frameon=False)
            ax_disk.set_xlim(mdates.date2num(span[0]), mdates.date2num(span[1]))
            ax_disk.set_xlabel(label("ax.time", lang, zone=str(zone)))
            _time_axis(ax_disk, zone)
            ax_steal.set_title(target.name, loc="left", parse_math=False)
            return _png(fig)
        finally:
            fig.clear()


def make_charts(
    report: Report,
    series: Mapping[str, TargetSeries],
    lang: str,
    *,
    fonts: FontChoice | None = None,
) -> dict[str, dict[str, bytes]]:
    """Per target name: chart name ("latency", "daily", "histogram") → PNG bytes.

    Targets without series get no entry. Labels are Chinese only when lang is
    "zh" and a CJK font exists (see ``chart_lang``).
    """
    fonts = fonts or discover_fonts()
    clang = chart_lang(lang, fonts)
    out: dict[str, dict[str, bytes]] = {}
    for target in report.targets:
        s = series.get(target.name)
        if s is None:
            continue
        out[target.name] = {
            "latency": latency_chart(target, s, report, clang, fonts),
            "daily": daily_chart(target, s, report, clang, fonts),
            "histogram": histogram_chart(target, s, report, clang, fonts),
        }
        if s.host:
            out[target.name]["host"] = host_chart(target, s, report, clang, fonts)
    return out
