"""One target's page: a SmokePing-style chart for 24 h / 7 d / 30 d, loss, incidents with
their evidence, and the SLA standing of the current period, all from the report's own code
(reports/build: analysis, evidence references, SLA; reports/render: the chart, the SLA text).
Only the three ranges exist: a request cannot ask for a longer one.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from agent.config import Settings, Target
from agent.core.times import to_us
from agent.store import Store
from reports.build.rounds import latency_kind, target_checks
from reports.build.summary import analyse, sla_result, target_report
from reports.render.model import IncidentEntry, TargetReport
from reports.render.smokeping import bucket_rows, layout, to_svg

RANGES: dict[str, tuple[timedelta, int]] = {  # range → (length, buckets)
    "24h": (timedelta(hours=24), 288),
    "7d": (timedelta(days=7), 336),
    "30d": (timedelta(days=30), 360),
}
AGENT_SIDE = ("skipped", "internal", "permission")


@dataclass(frozen=True, slots=True)
class TargetPage:
    target: Target
    range: str
    start: datetime
    end: datetime
    svg: str
    report: TargetReport  # the report's typed model of the target over the range (figures, incidents, evidence)
    incidents: tuple[IncidentEntry, ...]  # newest first
    sla_text: str | None  # the SLA period so far, not the range


def target_page(settings: Settings, store: Store, t: Target, range_key: str, now: datetime) -> TargetPage:
    length, n_buckets = RANGES[range_key]
    start = now - length
    tz = settings.display_tz()
    tc = target_checks(store, [t.name])[t.name]
    kind = latency_kind(tc)
    a_us, b_us = to_us(start), to_us(now)
    rows = ((ts, ok, rtt, sent, received) for ts, ok, rtt, sent, received, _j, ec in
            store.iter_perf_rows(tc.of_kind(kind) if kind else [], a_us, b_us) if ec not in AGENT_SIDE)
    buckets = bucket_rows(rows, a_us, b_us, n_buckets)
    svg = to_svg(layout(buckets, tz=tz, labels={"rtt": f"{kind.upper() if kind else ''} RTT (ms)"}),
                 title=f"{t.name}: latency and loss, last {range_key}")
    an = analyse(settings, store, start, now, [t.name], workers=1)
    report = target_report(settings, store, an, t, 1, now)
    return TargetPage(t, range_key, start, now, svg, report, tuple(reversed(report.incidents)), sla_standing(settings, store, t, now))


def sla_standing(settings: Settings, store: Store, t: Target, now: datetime, lang: str = "en") -> str | None:
    """The current SLA period so far, as `slaproof sla` prints it (reports/render/sla_text)."""
    if not t.sla:
        return None
    from reports.analysis.sla import period_bounds
    from reports.presets import resolve
    from reports.render.sla_text import format_text

    d = resolve(dict(t.sla))
    p0, p1 = period_bounds(d, now.astimezone(ZoneInfo(d.period.timezone)).strftime("%Y-%m"))
    res = sla_result(settings, store, t, p0, p1, now)
    return format_text(res, lang) if res is not None else None


