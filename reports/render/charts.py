"""The report's charts as vector figures (reports/render/vector.py): SmokePing latency, availability per day,
and each incident card's close-up. Drawn once; the PDF and the HTML show the same geometry.

The latency chart is SmokePing's: per time bucket the spread of the RTT samples as grey bands
between matching quantiles (darker toward the median), the median as a short bar coloured by the
bucket's ICMP loss (smokeping.LOSS_COLOURS), and below, the loss itself as bars, so loss reads
in greyscale by height too. Incidents are tinted behind the smoke and hatched in a lane under it,
each with its ID above the chart (local ones too); time without data is plain grey. Nothing is
drawn where nothing was measured, and a period mostly without data is drawn over its data only.
Only what is drawn gets a legend entry.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, tzinfo

from reports.render.chart_parts import (
    AXIS,
    GRID,
    INK,
    LEFT,
    NO_DATA_GREY,
    RIGHT,
    WIDTH,
    Axis,
    Span,
    legend,
    x_axis,
    y_axis,
)
from reports.render.charts_host import host_figure
from reports.render.i18n import kind_label, label
from reports.render.inputs import display_zone
from reports.render.model import BandKind, Report, TargetReport, TargetSeries
from reports.render.model_vantage import QUORUM_ROW
from reports.render.smokeping import LOSS_COLOURS, NO_REPLY, SmokeBucket, loss_colour, nice_max
from reports.render.vector import Figure, Line, Poly, Rect, Shape, Text, hatch, text_width


@dataclass(frozen=True)
class BandStyle:
    tint: str  # behind the smoke
    lane: str  # the lane under the plot
    pattern: str  # its hatch (vector.hatch), what tells the kinds apart in greyscale
    ink: str


BAND_STYLE: dict[BandKind, BandStyle] = {
    "outage": BandStyle("#f7d4d0", "#efaaa3", "/", "#6b0000"),
    "partial": BandStyle("#fbe7c8", "#f5c982", "\\", "#6b4300"),
    "degraded": BandStyle("#f5f0c9", "#e6da82", "-", "#4d4700"),
    "local": BandStyle("#dce6f5", "#a9c0e6", "x", "#1c3a70"),
    "no_data": BandStyle(NO_DATA_GREY, NO_DATA_GREY, "", "#555555"),
}
# Quantile pairs of a bucket's 20 (0 … 100 %) drawn as smoke, outermost first, and their greys.
SMOKE_LEVELS: tuple[tuple[int, int, str], ...] = ((1, 18, "#dedede"), (3, 16, "#c2c2c2"), (5, 14, "#a3a3a3"), (7, 12, "#808080"))


# -- the latency chart --------------------------------------------------------------------------
def data_span(buckets: Sequence[SmokeBucket], bands: Sequence[tuple[datetime, datetime, BandKind, str]],
              period: Span) -> tuple[Span, bool]:
    """The span drawn: the period, or the time with data when that is under half of it (then True)."""
    times = [(b.start_us, b.end_us) for b in buckets]
    times += [(int(a.timestamp() * 1e6), int(b.timestamp() * 1e6)) for a, b, kind, _ in bands if kind != "no_data"]
    if not times:
        return period, False
    lo = datetime.fromtimestamp(min(a for a, _ in times) / 1e6, UTC)
    hi = datetime.fromtimestamp(max(b for _, b in times) / 1e6, UTC)
    if (hi - lo).total_seconds() >= period.seconds / 2:
        return period, False
    pad = max((hi - lo) * 0.04, timedelta(minutes=1))
    return Span(max(period.start, lo - pad), min(period.end, hi + pad)), True


def _top_ms(buckets: Sequence[SmokeBucket]) -> float:
    tops = sorted(b.quantiles_ms[-2] for b in buckets if len(b.quantiles_ms) >= 2)
    if not tops:
        return 1.0
    return nice_max(tops[int(0.98 * (len(tops) - 1))] * 1.08)


def _runs(buckets: Sequence[SmokeBucket]) -> list[list[SmokeBucket]]:
    """Buckets with samples in runs of neighbours (a gap breaks the smoke: it is never bridged)."""
    runs: list[list[SmokeBucket]] = []
    for b in buckets:
        if not b.quantiles_ms:
            continue
        if runs and runs[-1][-1].end_us >= b.start_us:
            runs[-1].append(b)
        else:
            runs.append([b])
    return runs


def _smoke(fig: Figure, ax: Axis, buckets: Sequence[SmokeBucket], top: float, height: float, vmax: float) -> bool:
    """The quantile bands, then the medians coloured by loss; returns whether anything was drawn."""
    def y(ms: float) -> float:
        return top + height * (1 - min(ms, vmax) / vmax)

    runs = _runs(buckets)
    for lo_i, hi_i, grey in SMOKE_LEVELS:
        for run in runs:
            upper = [p for b in run for p in ((ax.xu(b.start_us), y(b.quantiles_ms[hi_i])), (ax.xu(b.end_us), y(b.quantiles_ms[hi_i])))]
            lower = [p for b in reversed(run) for p in ((ax.xu(b.end_us), y(b.quantiles_ms[lo_i])), (ax.xu(b.start_us), y(b.quantiles_ms[lo_i])))]
            fig.add(Poly(tuple(upper + lower), grey))
    for b in buckets:
        x0, x1 = ax.xu(b.start_us), ax.xu(b.end_us)
        if b.median_ms is not None:
            fig.add(Line(x0, y(b.median_ms), max(x1, x0 + 0.6), y(b.median_ms), loss_colour(b.loss_pct), 1.1))
        elif b.loss_pct:
            fig.add(Rect(x0, top + height - 3, max(x1 - x0, 0.6), 3, NO_REPLY))
    return bool(runs)


def _bands(fig: Figure, ax: Axis, bands: Sequence[tuple[datetime, datetime, BandKind, str]], top: float, height: float,
           lane_y: float, lane_h: float) -> set[BandKind]:
    """Tints behind the plot and hatched boxes in the lane; returns the kinds drawn."""
    drawn: set[BandKind] = set()
    order = ("no_data", "degraded", "partial", "local", "outage")
    for start, end, kind, _ in sorted(bands, key=lambda b: order.index(b[2])):
        if end <= ax.span.start or start >= ax.span.end:
            continue
        x0, x1 = ax.x(start), ax.x(end)
        w = max(x1 - x0, 0.8)
        st = BAND_STYLE[kind]
        fig.add(Rect(x0, top, w, height, st.tint))
        fig.add(Rect(x0, lane_y, w, lane_h, st.lane, st.ink if kind != "no_data" else None, 0.4))
        if st.pattern:
            fig.add(*hatch(x0, lane_y, w, lane_h, st.pattern, st.ink, 2.2, 0.4))
        drawn.add(kind)
    return drawn


def _ids(fig: Figure, ax: Axis, bands: Sequence[tuple[datetime, datetime, BandKind, str]], y_rows: float, plot_top: float) -> None:
    """Every band's incident ID above the plot, in up to three rows, with a leader to its band."""
    ends: list[float] = [-1e9, -1e9, -1e9]
    for start, end, kind, ident in sorted(bands, key=lambda b: b[0]):
        if not ident or end <= ax.span.start or start >= ax.span.end:
            continue
        mid = (ax.x(start) + ax.x(end)) / 2
        w = text_width(ident, 5.5) + 2
        row = next((r for r in range(3) if ends[r] < mid - w / 2), min(range(3), key=lambda r: ends[r]))
        ends[row] = mid + w / 2
        y = y_rows + row * 7.5
        fig.add(Line(mid, y + 1.5, mid, plot_top, BAND_STYLE[kind].ink, 0.3, (1.0, 1.0)))
        fig.add(Rect(mid - w / 2, y - 5.2, w, 6.6, "#ffffff", BAND_STYLE[kind].ink, 0.3))
        fig.add(Text(mid, y, ident, 5.5, "middle", INK))


def _loss_panel(fig: Figure, ax: Axis, buckets: Sequence[SmokeBucket], top: float, height: float, lang: str) -> set[float]:
    """ICMP loss per bucket as bars (height: the loss; colour: its class); returns the classes drawn."""
    worst = max((b.loss_pct or 0.0 for b in buckets), default=0.0)
    vmax = 100.0 if worst > 50 else nice_max(max(worst, 5.0))
    x0, x1 = LEFT, WIDTH - RIGHT
    fig.add(Line(x0, top + height, x1, top + height, AXIS, 0.5), Line(x0, top, x0, top + height, AXIS, 0.5))
    fig.add(Line(x0, top, x1, top, GRID, 0.4))
    fig.add(Text(x0 - 3, top + 2, f"{vmax:g}", 6, "end"), Text(x0 - 3, top + height + 2, "0", 6, "end"))
    fig.add(Text(4, top - 2, label("ax.loss", lang), 6, "start", INK))
    classes: set[float] = set()
    for b in buckets:
        if b.loss_pct:
            h = height * min(b.loss_pct, vmax) / vmax
            fig.add(Rect(ax.xu(b.start_us), top + height - h, max(ax.xu(b.end_us) - ax.xu(b.start_us), 0.6), h,
                         loss_colour(b.loss_pct)))
            classes.add(next(bound for bound, _ in LOSS_COLOURS if b.loss_pct <= bound))
    return classes


def _band_swatch(kind: BandKind) -> list[Shape]:
    st = BAND_STYLE[kind]
    return [Rect(0, 0, 10, 6, st.lane, st.ink if kind != "no_data" else None, 0.4),
            *(hatch(0, 0, 10, 6, st.pattern, st.ink, 2.2, 0.4) if st.pattern else [])]


def _loss_words(bound: float, prev: float, lang: str) -> str:
    if bound == 0:
        return label("leg.loss_none", lang)
    return label("leg.loss_upto", lang, lo=f"{prev:g}", hi=f"{bound:g}")


def smoke_figure(title: str, buckets: Sequence[SmokeBucket], bands: Sequence[tuple[datetime, datetime, BandKind, str]],
                 period: Span, zone: tzinfo, lang: str, *, icmp: bool, kind: str | None, plot_h: float = 118.0,
                 fit_to_data: bool = True) -> Figure:
    """The SmokePing chart of one target (or of one incident's window)."""
    span, fitted = data_span(buckets, bands, period) if fit_to_data else (period, False)
    fig = Figure(WIDTH, 0, title)
    fig.add(Text(4, 9, title, 7.5, "start", bold=True))
    sub = label("chart.smoke_sub", lang, kind=(kind or "").upper() or "–")
    if fitted:
        sub += " " + label("chart.fitted", lang)
    fig.add(Text(WIDTH - RIGHT, 9, sub, 6, "end", INK))
    ax = Axis(span, LEFT, WIDTH - LEFT - RIGHT)
    ids_y = 20.0
    top = ids_y + 3 * 7.5 + 2
    lane_y = top + plot_h + 2
    vmax = _top_ms(buckets)
    drawn = _bands(fig, ax, bands, top, plot_h, lane_y, 7.0)
    y_axis(fig, top, plot_h, 0.0, vmax, label("ax.latency", lang))
    smoked = _smoke(fig, ax, buckets, top, plot_h, vmax)
    if not smoked:
        fig.add(Text(ax.x0 + ax.w / 2, top + plot_h / 2, label("no_latency", lang), 7, "middle", INK))
    _ids(fig, ax, bands, ids_y, top)
    y = lane_y + 7.0 + 3
    classes: set[float] = set()
    if icmp:
        classes = _loss_panel(fig, ax, buckets, y + 8, 30.0, lang)
        y += 8 + 30.0 + 2
    y = x_axis(fig, ax, y, zone, lang)
    fig.height = legend(fig, y + 7, _smokelegend(buckets, smoked, classes, drawn, lang)) + 3
    return fig


def _smokelegend(buckets: Sequence[SmokeBucket], smoked: bool, classes: set[float], drawn: set[BandKind],
                  lang: str) -> list[tuple[list[Shape], str]]:
    items: list[tuple[list[Shape], str]] = []
    if smoked:
        smoke: list[Shape] = [Rect(0, 0, 10, 6, SMOKE_LEVELS[0][2]), Rect(2.5, 1.5, 5, 3, SMOKE_LEVELS[-1][2])]
        items.append((smoke, label("leg.smoke", lang)))
        medians = sorted({next(bound for bound, _ in LOSS_COLOURS if (b.loss_pct or 0) <= bound)
                          for b in buckets if b.median_ms is not None} | classes)
        prev = 0.0
        for bound, colour in LOSS_COLOURS:
            if bound in medians:
                items.append(([Line(0, 3, 10, 3, colour, 1.6)], _loss_words(bound, prev, lang)))
            prev = bound
    if any(b.median_ms is None and b.loss_pct for b in buckets):
        items.append(([Rect(0, 3, 10, 3, NO_REPLY)], label("leg.no_reply", lang)))
    for kind in ("outage", "partial", "degraded", "local", "no_data"):
        if kind in drawn:
            items.append((_band_swatch(kind), kind_label(kind, lang)))
    return items


# -- availability per day ------------------------------------------------------------------------
def _floor(values: Sequence[float]) -> float:
    worst = min(values, default=100.0)
    for floor in (99.9, 99.5, 99.0, 98.0, 95.0, 90.0, 80.0, 50.0):
        if worst - floor >= (100.0 - floor) * 0.15:
            return floor
    return 0.0


def daily_figure(title: str, days: Sequence[tuple[date, float | None, float]], lang: str) -> Figure:
    """Availability per display-zone day (bars from a stated floor), coverage per day below; no-data days grey."""
    fig = Figure(WIDTH, 0, title)
    fig.add(Text(4, 9, title, 7.5, "start", bold=True))
    top, plot_h, cov_h = 24.0, 92.0, 22.0
    known = [a for _, a, _ in days if a is not None]
    floor = _floor(known)
    fig.add(Text(WIDTH - RIGHT, 9, label("ax.axis_from", lang, v=f"{floor:g}") if floor else "", 6, "end", INK))
    y_axis(fig, top, plot_h, floor, 100.0, label("ax.availability", lang))
    n = max(len(days), 1)
    slot = (WIDTH - LEFT - RIGHT) / n
    cov_top = top + plot_h + 8
    nodata = False
    for i, (day, avail, cov) in enumerate(days):
        x = LEFT + i * slot + slot * 0.12
        w = slot * 0.76
        if avail is None:
            nodata = True
            fig.add(Rect(x, top, w, plot_h, NO_DATA_GREY))
            fig.add(Text(x + w / 2 + 2, top + plot_h - 4, label("no_data", lang), 5.5, "start", INK, angle=90))
        else:
            h = plot_h * max(avail - floor, 0.0) / (100.0 - floor)
            fig.add(Rect(x, top + plot_h - h, w, h, "#8c8c8c", "#000000", 0.3))
            if avail < 100.0:
                fig.add(Text(x + w / 2 + 2, top + plot_h - 3, _short_pct(avail), 5.5, "start", "#ffffff" if h > 30 else INK, angle=90))
        ch = cov_h * cov / 100.0
        fig.add(Rect(x, cov_top + cov_h - ch, w, ch, "#b0b0b0"))
        if n <= 16 or i % math.ceil(n / 16) == 0:
            fig.add(Text(x + w / 2, cov_top + cov_h + 8, day.strftime("%m-%d"), 5.5, "middle"))
    fig.add(Line(LEFT, cov_top + cov_h, WIDTH - RIGHT, cov_top + cov_h, AXIS, 0.5), Line(LEFT, cov_top, LEFT, cov_top + cov_h, AXIS, 0.5))
    fig.add(Text(LEFT - 3, cov_top + 2, "100", 6, "end"), Text(LEFT - 3, cov_top + cov_h + 2, "0", 6, "end"))
    fig.add(Text(4, cov_top - 2, label("ax.coverage", lang), 6, "start", INK))
    y = cov_top + cov_h + 16
    bar: list[Shape] = [Rect(0, 0, 10, 6, "#8c8c8c", "#000000", 0.3)]
    items: list[tuple[list[Shape], str]] = [(bar, label("leg.availability", lang)),
                                            ([Rect(0, 0, 10, 6, "#b0b0b0")], label("leg.coverage", lang))]
    if nodata:
        grey: list[Shape] = [Rect(0, 0, 10, 6, NO_DATA_GREY)]
        items.append((grey, kind_label("no_data", lang)))
    fig.height = legend(fig, y + 6, items) + 3
    return fig


def _short_pct(v: float) -> str:
    for places in (2, 3, 4, 5, 6):
        text = f"{v:.{places}f}"
        if float(text) != 100.0:
            return text
    return f"{v!r}"


# -- the vantage strip --------------------------------------------------------------------------------
STATE_BAND: dict[str, BandKind] = {"down": "outage", "partial": "partial", "degraded": "degraded", "local": "local",
                                   "no_data": "no_data"}


def vantage_figure(title: str, spans: Sequence[tuple[str, datetime, datetime, str]], period: Span, zone: tzinfo,
                   lang: str) -> Figure:
    """One lane per vantage point (its own states), and a last lane: the outages a quorum confirmed."""
    rows = [*dict.fromkeys(r for r, *_ in spans if r != QUORUM_ROW), QUORUM_ROW]
    names = [label("vantage.quorum_row", lang) if r == QUORUM_ROW else r for r in rows]
    left = max(LEFT, 8 + max(text_width(n, 6) for n in names))
    fig = Figure(WIDTH, 0, title)
    fig.add(Text(4, 9, title, 7.5, "start", bold=True))
    ax = Axis(period, left, WIDTH - left - RIGHT)
    top, lane_h, gap = 18.0, 9.0, 4.0
    drawn: set[BandKind] = set()
    for k, name in enumerate(names):
        y = top + k * (lane_h + gap)
        fig.add(Text(left - 4, y + lane_h - 2, name, 6, "end", INK, bold=rows[k] == QUORUM_ROW))
        fig.add(Rect(ax.x0, y, ax.w, lane_h, "#ffffff", GRID, 0.4))
    for row, start, end, state in spans:
        kind = STATE_BAND.get(state)
        if kind is None or (row == QUORUM_ROW and kind != "outage") or end <= period.start or start >= period.end:
            continue
        y = top + rows.index(row) * (lane_h + gap)
        x0 = ax.x(start)
        w = max(ax.x(end) - x0, 0.8)
        st = BAND_STYLE[kind]
        fig.add(Rect(x0, y, w, lane_h, st.lane, st.ink if kind != "no_data" else None, 0.4))
        if st.pattern:
            fig.add(*hatch(x0, y, w, lane_h, st.pattern, st.ink, 2.2, 0.4))
        drawn.add(kind)
    y = x_axis(fig, ax, top + len(rows) * (lane_h + gap), zone, lang)
    items = [(_band_swatch(k), kind_label(k, lang)) for k in ("outage", "partial", "degraded", "local", "no_data") if k in drawn]
    fig.height = legend(fig, y + 7, items) + 3
    return fig


# -- all charts of a report ------------------------------------------------------------------------
CHART_NAMES = ("latency", "vantages", "daily")


def make_charts(report: Report, series: Mapping[str, TargetSeries], lang: str) -> dict[str, dict[str, Figure]]:
    """Per target name: "latency", "daily", "host" (with host readings) and "card:<incident id>" → figure.
    Targets without series get none."""
    zone = display_zone(report)
    period = Span(report.period.start, report.period.end)
    out: dict[str, dict[str, Figure]] = {}
    for target in report.targets:
        s = series.get(target.name)
        if s is None:
            continue
        out[target.name] = {
            "latency": smoke_figure(target.name, s.smoke, s.bands, period, zone, lang, icmp=s.icmp, kind=s.latency_kind),
            "daily": daily_figure(target.name, s.daily, lang),
            **{f"card:{ident}": card_figure(target, ident, s, zone, lang) for ident in s.windows},
        }
        if s.host:
            out[target.name]["host"] = host_figure(target.name, s.host, period, zone, lang)
        if s.vantage_spans:
            out[target.name]["vantages"] = vantage_figure(target.name, s.vantage_spans, period, zone, lang)
    return out


def card_figure(target: TargetReport, ident: str, s: TargetSeries, zone: tzinfo, lang: str) -> Figure:
    """One incident's close-up: its window's buckets (a round each where they fit) and the bands in it."""
    buckets = s.windows[ident]
    inc = next(i for i in target.incidents if i.id == ident)
    start = inc.start_bounds.last_good_before or inc.start
    end = inc.end_bounds.first_good_after or inc.end
    margin = timedelta(minutes=30)
    span = Span(start - margin, end + margin)
    return smoke_figure(f"{target.name} · {ident}", buckets, s.bands, span, zone, lang, icmp=s.icmp, kind=s.latency_kind,
                        plot_h=64.0, fit_to_data=False)
