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
from reports.build.summary import analyse, evidence_refs, sla_result, store_target_id
from reports.render.smokeping import bucket_rows, layout, to_svg

RANGES: dict[str, tuple[timedelta, int]] = {  # range → (length, buckets)
    "24h": (timedelta(hours=24), 288),
    "7d": (timedelta(days=7), 336),
    "30d": (timedelta(days=30), 360),
}
AGENT_SIDE = ("skipped", "internal", "permission")


@dataclass(frozen=True, slots=True)
class IncidentView:
    kind: str
    start: datetime
    end: datetime
    duration_s: float
    ongoing: bool
    rounds_failed: int
    errors: str
    evidence: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class TargetPage:
    target: Target
    range: str
    start: datetime
    end: datetime
    latency_kind: str | None
    svg: str
    rows: int
    loss_pct: float | None
    availability_pct: float | None
    coverage_pct: float
    downtime_s: float
    incidents: tuple[IncidentView, ...]
    sla_text: str | None


def target_page(settings: Settings, store: Store, t: Target, range_key: str, now: datetime) -> TargetPage:
    length, n_buckets = RANGES[range_key]
    start = now - length
    tz = settings.display_tz()
    tc = target_checks(store, [t.name])[t.name]
    kind = latency_kind(tc)
    a_us, b_us = to_us(start), to_us(now)
    rows = [(ts, ok, rtt, sent, received) for ts, ok, rtt, sent, received, _j, ec in
            store.iter_perf_rows(tc.of_kind(kind) if kind else [], a_us, b_us) if ec not in AGENT_SIDE]
    buckets = bucket_rows(rows, a_us, b_us, n_buckets)
    svg = to_svg(layout(buckets, tz=tz, labels={"rtt": f"{kind.upper() if kind else ''} RTT (ms)"}),
                 title=f"{t.name}: latency and loss, last {range_key}")
    sent = sum(s or 1 for _, _, _, s, _ in rows)
    lost = sum((s - (r or 0)) if s else (0 if ok else 1) for _, ok, _, s, r in rows)
    an = analyse(settings, store, start, now, [t.name], workers=1)
    res = an.results[t.name]
    refs = evidence_refs(store, store_target_id(store, t.name), res, settings.interval_of(t), settings.agent.open_after,
                         tc.of_kind("http")) if res.incidents else {}
    incidents = tuple(
        IncidentView(inc.kind_name, inc.start, inc.end, inc.duration_s, inc.clipped_end and inc.first_good_after is None,
                     inc.rounds_failed, ", ".join(f"{k} ×{v}" for k, v in sorted(inc.error_classes.items())),
                     tuple(f"{r['type']} {r['ref']}: {r['summary']}" for r in refs.get(i, [])))
        for i, inc in enumerate(res.incidents))
    return TargetPage(t, range_key, start, now, kind, svg, len(rows), 100.0 * lost / sent if sent else None,
                      res.availability_pct, res.coverage_pct, res.downtime_s, tuple(reversed(incidents)),
                      sla_standing(settings, store, t, now))


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


