"""What the report's charts share: the page width, the time axis in the display zone, the y axis,
the legend (only what is drawn gets an entry)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, tzinfo

from reports.render.i18n import label
from reports.render.vector import Figure, Line, Rect, Shape, Text, text_width

WIDTH = 490.0  # points: the A4 text width
LEFT, RIGHT = 40.0, 6.0
GRID, AXIS, INK = "#c8c8c8", "#000000", "#222222"
NO_DATA_GREY = "#c4c4c4"



@dataclass(frozen=True)
class Span:
    start: datetime
    end: datetime

    @property
    def seconds(self) -> float:
        return max((self.end - self.start).total_seconds(), 1e-6)


class Axis:
    """Time → x over a span, inside [x0, x0 + w]."""

    def __init__(self, span: Span, x0: float, w: float) -> None:
        self.span, self.x0, self.w = span, x0, w

    def x(self, t: datetime) -> float:
        f = (t - self.span.start).total_seconds() / self.span.seconds
        return self.x0 + self.w * min(max(f, 0.0), 1.0)

    def xu(self, us: int) -> float:
        return self.x(datetime.fromtimestamp(us / 1e6, UTC))


# -- time ticks --------------------------------------------------------------------------------
_STEPS = (60, 300, 600, 900, 1800, 3600, 7200, 10800, 21600, 43200, 86400, 2 * 86400, 5 * 86400, 7 * 86400, 14 * 86400)


def time_ticks(span: Span, zone: tzinfo, most: int = 8) -> list[tuple[datetime, str, str]]:
    """Ticks in the display zone at round local times: (moment, label, date line or "")."""
    step = next((s for s in _STEPS if span.seconds / s <= most), _STEPS[-1])
    local = span.start.astimezone(zone)
    if step < 86400:
        day0 = local.replace(hour=0, minute=0, second=0, microsecond=0)
        n = math.ceil((local - day0).total_seconds() / step)
        cur = day0 + timedelta(seconds=n * step)
    else:
        cur = local.replace(hour=0, minute=0, second=0, microsecond=0)
        if cur < local:
            cur += timedelta(days=1)
    out: list[tuple[datetime, str, str]] = []
    last_day: date | None = None
    while cur.astimezone(UTC) <= span.end and len(out) < 40:
        moment = cur.astimezone(UTC)
        at = moment.astimezone(zone)
        if step >= 86400:
            out.append((moment, at.strftime("%m-%d"), ""))
        else:
            out.append((moment, at.strftime("%H:%M"), at.strftime("%m-%d") if at.date() != last_day else ""))
        last_day = at.date()
        cur = (cur + timedelta(seconds=step)) if step < 86400 else (cur + timedelta(days=step // 86400))
        cur = cur.astimezone(zone)
    return out


def x_axis(fig: Figure, ax: Axis, y: float, zone: tzinfo, lang: str) -> float:
    """Ticks and labels under y; returns the y below them."""
    fig.add(Line(ax.x0, y, ax.x0 + ax.w, y, AXIS, 0.6))
    for moment, text, day in time_ticks(ax.span, zone):
        x = ax.x(moment)
        fig.add(Line(x, y, x, y + 2.5, AXIS, 0.5), Text(x, y + 9, text, 6, "middle"))
        if day:
            fig.add(Text(x, y + 16, day, 5.5, "middle", INK))
    fig.add(Text(ax.x0 + ax.w, y + 16, label("ax.time", lang, zone=str(zone)), 5.5, "end", INK))
    return y + 20


def y_axis(fig: Figure, top: float, height: float, vmin: float, vmax: float, unit: str) -> None:
    x0, x1 = LEFT, WIDTH - RIGHT
    for k in range(5):
        v = vmin + (vmax - vmin) * k / 4
        y = top + height * (1 - k / 4)
        fig.add(Line(x0, y, x1, y, GRID if k else AXIS, 0.4 if k else 0.6))
        fig.add(Text(x0 - 3, y + 2, f"{round(v, 4):g}", 6, "end"))
    fig.add(Line(x0, top, x0, top + height, AXIS, 0.6))
    fig.add(Text(4, top - 3, unit, 6, "start", INK))


def legend(fig: Figure, y: float, items: list[tuple[list[Shape], str]]) -> float:
    """Swatches and words in rows across the width; returns the y below."""
    x = LEFT
    for swatch, words in items:
        w = 14 + text_width(words, 6) + 10
        if x + w > WIDTH - RIGHT and x > LEFT:
            x, y = LEFT, y + 9
        fig.add(*[moved(s, x, y - 5) for s in swatch], Text(x + 13, y, words, 6, "start", INK))
        x += w
    return y + 6


def moved(s: Shape, dx: float, dy: float) -> Shape:
    if isinstance(s, Rect):
        return Rect(s.x + dx, s.y + dy, s.w, s.h, s.fill, s.stroke, s.width, s.dash)
    if isinstance(s, Line):
        return Line(s.x1 + dx, s.y1 + dy, s.x2 + dx, s.y2 + dy, s.stroke, s.width, s.dash)
    return s
