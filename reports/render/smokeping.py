"""A SmokePing-style latency chart, pure data → geometry → SVG (no store, no matplotlib).

Each time bucket shows the spread of its RTTs as "smoke" (grey bands between matching
quantiles, darker toward the middle), the median as a short bar coloured by the bucket's
loss, and a red tick at the floor when nothing answered. Buckets with no rounds stay
blank (no data is never drawn as anything else). The dashboard serves the SVG; a report
can draw the same :class:`SmokeFigure` primitives with its own canvas.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, tzinfo
from html import escape

SMOKE_QUANTILES = 20  # quantiles kept per bucket: ten bands of smoke
# Loss (%) upper bounds and their colours, as SmokePing colours the median.
LOSS_COLOURS: tuple[tuple[float, str], ...] = (
    (0.0, "#009f00"), (2.0, "#00a8e8"), (5.0, "#2040ff"), (10.0, "#8a00e6"), (20.0, "#e600c8"), (100.0, "#e00000"),
)
NO_REPLY = "#e00000"
NO_DATA = "#f1f1f1"
MARGIN_L, MARGIN_R, MARGIN_T, MARGIN_B = 56, 12, 24, 48


@dataclass(frozen=True, slots=True)
class SmokeBucket:
    start_us: int
    end_us: int
    quantiles_ms: tuple[float, ...]  # ascending; empty when no check succeeded
    median_ms: float | None
    loss_pct: float | None  # None when nothing was sent
    rounds: int


def quantiles(values: Sequence[float], n: int = SMOKE_QUANTILES) -> tuple[float, ...]:
    """``n`` nearest-rank quantiles (0 … 100 %) of sorted ``values``."""
    if not values:
        return ()
    last = len(values) - 1
    return tuple(values[round(last * i / (n - 1))] for i in range(n))


def bucket_rows(rows: Iterable[tuple[int, bool, int | None, int | None, int | None]], start_us: int, end_us: int,
                n_buckets: int) -> list[SmokeBucket]:
    """Rows (ts_us, ok, rtt_ns, sent, received), any order → ``n_buckets`` equal buckets over [start, end).

    Loss is ICMP's lost/sent where rows carry ``sent``; for TCP/HTTP, failed rows / rows."""
    width = max(1, (end_us - start_us) // n_buckets)
    rtts: list[list[float]] = [[] for _ in range(n_buckets)]
    sent = [0] * n_buckets
    lost = [0] * n_buckets
    count = [0] * n_buckets
    for ts, ok, rtt_ns, s, r in rows:
        i = (ts - start_us) // width
        if not 0 <= i < n_buckets:
            continue
        count[i] += 1
        if ok and rtt_ns is not None:
            rtts[i].append(rtt_ns / 1e6)
        if s:
            sent[i] += s
            lost[i] += s - (r or 0)
        else:
            sent[i] += 1
            lost[i] += 0 if ok else 1
    out = []
    for i in range(n_buckets):
        vals = sorted(rtts[i])
        q = quantiles(vals)
        out.append(SmokeBucket(start_us + i * width, start_us + (i + 1) * width, q, vals[len(vals) // 2] if vals else None,
                               100.0 * lost[i] / sent[i] if sent[i] else None, count[i]))
    return out


# -- geometry ---------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class Rect:
    x: float
    y: float
    w: float
    h: float
    fill: str
    title: str = ""


@dataclass(frozen=True, slots=True)
class Line:
    x1: float
    y1: float
    x2: float
    y2: float
    stroke: str
    width: float = 1.0


@dataclass(frozen=True, slots=True)
class Text:
    x: float
    y: float
    text: str
    anchor: str = "middle"  # start | middle | end
    size: float = 11.0


@dataclass
class SmokeFigure:
    width: int
    height: int
    rects: list[Rect] = field(default_factory=list)
    lines: list[Line] = field(default_factory=list)
    texts: list[Text] = field(default_factory=list)


def loss_colour(loss_pct: float | None) -> str:
    if loss_pct is None:
        return LOSS_COLOURS[0][1]
    return next(colour for bound, colour in LOSS_COLOURS if loss_pct <= bound)


def _grey(level: int, levels: int) -> str:
    v = int(0xE4 - (0xE4 - 0x70) * level / max(1, levels - 1))
    return f"#{v:02x}{v:02x}{v:02x}"


def nice_max(v: float) -> float:
    if v <= 0 or math.isnan(v):
        return 1.0
    exp = 10 ** math.floor(math.log10(v))
    return float(next(m * exp for m in (1, 1.2, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10) if m * exp >= v))


def layout(buckets: Sequence[SmokeBucket], *, width: int = 900, height: int = 300, tz: tzinfo = UTC,
           labels: dict[str, str] | None = None) -> SmokeFigure:
    """Place the smoke, medians, loss marks, axes and legend. ``labels``: 'rtt', 'loss', 'no_reply', 'no_data'."""
    lab = {"rtt": "RTT (ms)", "loss": "loss", "no_reply": "no reply", "no_data": "no data", **(labels or {})}
    fig = SmokeFigure(width, height)
    plot_w = width - MARGIN_L - MARGIN_R
    plot_h = height - MARGIN_T - MARGIN_B
    tops = sorted(b.quantiles_ms[-2] for b in buckets if len(b.quantiles_ms) >= 2)
    top = nice_max(tops[int(0.95 * (len(tops) - 1))] * 1.1 if tops else 1.0)
    n = max(1, len(buckets))
    bw = plot_w / n

    def y(ms: float) -> float:
        return MARGIN_T + plot_h * (1 - min(ms, top) / top)

    for i, b in enumerate(buckets):
        x = MARGIN_L + i * bw
        if b.rounds == 0:
            fig.rects.append(Rect(x, MARGIN_T, bw, plot_h, NO_DATA))
            continue
        q = b.quantiles_ms
        levels = len(q) // 2
        for k in range(levels):
            lo, hi = q[k], q[len(q) - 1 - k]
            fig.rects.append(Rect(x, y(hi), bw, max(0.5, y(lo) - y(hi)), _grey(k, levels)))
        if b.median_ms is not None:
            fig.lines.append(Line(x, y(b.median_ms), x + bw, y(b.median_ms), loss_colour(b.loss_pct), 2.0))
        elif b.loss_pct:
            fig.rects.append(Rect(x, MARGIN_T + plot_h - 4, bw, 4, NO_REPLY))
    _axes(fig, buckets, top, plot_w, plot_h, tz, lab)
    return fig


def _axes(fig: SmokeFigure, buckets: Sequence[SmokeBucket], top: float, plot_w: float, plot_h: float, tz: tzinfo,
          lab: dict[str, str]) -> None:
    x0, y0, y1 = MARGIN_L, MARGIN_T, MARGIN_T + plot_h
    fig.lines += [Line(x0, y0, x0, y1, "#000000"), Line(x0, y1, x0 + plot_w, y1, "#000000")]
    for k in range(5):
        v = top * k / 4
        yy = y1 - plot_h * k / 4
        fig.lines.append(Line(x0 - 4, yy, x0 + plot_w, yy, "#dddddd" if k else "#000000", 0.6))
        fig.texts.append(Text(x0 - 6, yy + 4, f"{v:g}", "end", 10))
    fig.texts.append(Text(4, y0 - 8, lab["rtt"], "start", 10))
    if buckets:
        t0, t1 = buckets[0].start_us, buckets[-1].end_us
        for at in _time_ticks(t0, t1, tz):
            xx = x0 + plot_w * (at[0] - t0) / (t1 - t0)
            fig.lines.append(Line(xx, y1, xx, y1 + 4, "#000000", 0.8))
            fig.texts.append(Text(xx, y1 + 16, at[1], "middle", 10))
    # Legend: loss colours, no reply, no data.
    lx, ly = x0, fig.height - 10
    fig.texts.append(Text(lx, ly, lab["loss"] + ":", "start", 10))
    lx += 34
    prev = 0.0
    for bound, colour in LOSS_COLOURS:
        fig.rects.append(Rect(lx, ly - 9, 12, 9, colour))
        text = "0" if bound == 0 else f"≤{bound:g}%" if prev == 0 or bound < 100 else f">{prev:g}%"
        fig.texts.append(Text(lx + 15, ly, text, "start", 10))
        lx += 20 + 7 * len(text)
        prev = bound
    fig.rects.append(Rect(lx, ly - 9, 12, 9, NO_DATA))
    fig.texts.append(Text(lx + 15, ly, lab["no_data"], "start", 10))


def _time_ticks(t0_us: int, t1_us: int, tz: tzinfo) -> list[tuple[int, str]]:
    span_h = (t1_us - t0_us) / 3.6e9
    step, fmt = ((timedelta(hours=3), "%H:%M") if span_h <= 30 else (timedelta(days=1), "%m-%d") if span_h <= 24 * 8
                 else (timedelta(days=5), "%m-%d"))
    start = datetime.fromtimestamp(t0_us / 1e6, UTC).astimezone(tz)
    if step < timedelta(days=1):
        cur = start.replace(minute=0, second=0, microsecond=0)
        cur = cur.replace(hour=cur.hour - cur.hour % 3)
    else:
        cur = start.replace(hour=0, minute=0, second=0, microsecond=0)
    out: list[tuple[int, str]] = []
    while True:
        cur_us = int(cur.timestamp() * 1e6)
        if cur_us > t1_us:
            return out
        if cur_us >= t0_us:
            out.append((cur_us, cur.strftime(fmt)))
        cur = (cur + step).astimezone(tz)


# -- SVG ----------------------------------------------------------------------------------
def to_svg(fig: SmokeFigure, *, title: str = "") -> str:
    """The figure as one inline <svg> element; every text escaped."""
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {fig.width} {fig.height}" role="img" '
             f'aria-label="{escape(title)}" class="smokeping" font-family="sans-serif">']
    if title:
        parts.append(f"<title>{escape(title)}</title>")
    for r in fig.rects:
        parts.append(f'<rect x="{r.x:.2f}" y="{r.y:.2f}" width="{r.w:.2f}" height="{r.h:.2f}" fill="{r.fill}"/>')
    for ln in fig.lines:
        parts.append(f'<line x1="{ln.x1:.2f}" y1="{ln.y1:.2f}" x2="{ln.x2:.2f}" y2="{ln.y2:.2f}" stroke="{ln.stroke}" '
                     f'stroke-width="{ln.width:g}"/>')
    for t in fig.texts:
        parts.append(f'<text x="{t.x:.1f}" y="{t.y:.1f}" text-anchor="{t.anchor}" font-size="{t.size:g}">{escape(t.text)}</text>')
    parts.append("</svg>")
    return "".join(parts)
