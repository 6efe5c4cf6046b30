"""Cells the report's sections share: times (display zone with UTC), durations with their bounds, kinds."""

from __future__ import annotations

from datetime import datetime, tzinfo

from reports.render.i18n import fmt_duration_words, fmt_seconds, fmt_time, kind_label, label
from reports.render.model import IncidentEntry

DASH = "\u2013"


def time_cell(value: datetime, zone: tzinfo, lang: str = "en", clipped: bool = False, edge: str = "") -> str:
    """A time on two lines: display zone, then UTC in parentheses; marked when the period cut it."""
    text = fmt_time(value, zone)
    local, sep, utc = text.partition(" (")
    text = f"{local}\n({utc}" if sep else text
    if clipped:
        text += f"\n[{label('inc.clipped_start' if edge == 'start' else 'inc.clipped_end', lang)}]"
    return text


def time_range(start: datetime, end: datetime, zone: tzinfo) -> str:
    """"2026-10-01 00:00:00 CST (2026-09-30 16:00:00 UTC) – 2026-11-01 …"."""
    return f"{fmt_time(start, zone)} \u2013 {fmt_time(end, zone)}"


def duration_cell(inc: IncidentEntry, lang: str, short: bool = False) -> str:
    """Best estimate in words and seconds ("≥" when the period cut it), then the bounds."""
    prefix = "\u2265 " if inc.clipped_start or inc.clipped_end else ""
    sep = " " if short else "\n"
    text = f"{prefix}{fmt_duration_words(inc.duration_s, lang)}{sep}({prefix}{fmt_seconds(round(inc.duration_s, 1), lang)})"
    lo, hi = inc.duration_min_s, inc.duration_max_s
    if hi is not None:
        text += "\n" + label("inc.bounds", lang, lo=fmt_seconds(round(lo, 1), lang), hi=fmt_seconds(round(hi, 1), lang))
    else:
        text += f"\n(\u2265 {fmt_seconds(round(lo, 1), lang)}; {label('inc.no_upper', lang)})"
    return text


def incident_kind_text(inc: IncidentEntry, lang: str) -> str:
    text = kind_label(inc.kind, lang)
    if inc.rounds_good_inside:
        text += "\n" + label("inc.answered_inside", lang, n=inc.rounds_good_inside)
    return text
