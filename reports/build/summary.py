"""The report's figures: reads the store (streaming), calls the pure analysis, builds the report model.

This module orchestrates; the figures come from reports/analysis (pure functions), the rows
from agent/store/database.py (the only SQL) through reports/build/rounds.py and reports/build/samples.py. Every
figure built here can be traced to stored rows. The result is a reports.render.model.Report (what
the renderers read and summary.json is serialised from); reports/build/bundle.py writes the files.
"""

from __future__ import annotations

import socket
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from functools import partial
from itertools import chain
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from agent import identity
from agent.config import OWN_SCHEDULE, HostCheck, Settings, Target
from agent.core.errors import UsageError
from agent.core.secrets import mask_settings
from agent.core.times import from_us, to_us
from agent.store import Store
from agent.version import VERSION
from reports.analysis.incidents import (
    Incident,
    IncidentPolicy,
    TargetAnalysis,
    agent_down_stretches,
    analyse_target,
    control_down_intervals,
)
from reports.analysis.model import AgentRun, State
from reports.analysis.stats import LatencyStats
from reports.analysis.timeline import coverage_pct, observed_time
from reports.build.accumulate import Accumulator, Figures
from reports.build.cards import CardContext, card_incidents, incident_card, window_buckets, window_of, window_rows
from reports.build.checks import KindSet, analysis_for, check_figures, kind_sets, restrict, sla_check_kinds
from reports.build.evidence import evidence_refs, stored_evidence
from reports.build.host import host_perf_samples, host_section, host_series
from reports.build.alerts import alerts_in
from reports.build.proof import proof_section
from reports.build.provenance import ImportedCounter, imported_rows, with_imported
from reports.build.rounds import TargetChecks, latency_kind, rounds_for, target_checks
from reports.build.samples import bandwidth_summary, local_intervals, perf_samples
from reports.build.vantages import FleetView, Vantage, fleet_views, section, strip_series, vantages_of
from reports.render.methods_text import GAP_RULE, HOST_METHOD_EN, HOST_METHOD_ZH, METHODS_EN, METHODS_ZH, clock_text
from reports.render.model import (
    AgentInfo,
    BandKind,
    BandwidthSection,
    EndBounds,
    EvidenceRef,
    IncidentCard,
    IncidentEntry,
    LatencyFigures,
    Methods,
    Period,
    ProbeMethod,
    Report,
    StartBounds,
    TargetReport,
    TargetSeries,
    Thresholds,
    incident_kind,
    report_lang,
)
from reports.render.model_json import decode, sla_section
from reports.render.numbers import cut_short
from reports.render.smokeping import SmokeBucket

MARGIN = timedelta(hours=1)  # rounds read beyond the period so edges are judged with context
TIMESYNC_FLAG = Path("/run/systemd/timesync/synchronized")  # present while systemd-timesyncd is synchronised
ProgressFn = Callable[[str], None]


def agent_runs(store: Store, agent_uuid: str | None, start_us: int, end_us: int) -> list[AgentRun]:
    out = []
    for r in store.runs_between(start_us - int(MARGIN.total_seconds() * 1e6), end_us + int(MARGIN.total_seconds() * 1e6), agent_uuid):
        ended = r["ended_us"] if r["stop"] else None
        out.append(AgentRun(from_us(r["started_us"]), from_us(ended) if ended else None,
                            from_us(r["last_seen_us"]) if r["last_seen_us"] else None,
                            {"clean": True, "unclean": False}.get(r["stop"] or "")))
    return out


def policy_for(settings: Settings, t: Target) -> IncidentPolicy:
    th = t.thresholds
    return IncidentPolicy(interval_s=settings.interval_of(t), open_after=settings.agent.open_after,
                          merge_gap_s=settings.agent.merge_gap_s, rtt_ms_max=th.rtt_ms_max, loss_pct_max=th.loss_pct_max,
                          degraded_sustain_s=th.sustain_s)


def resolve_agent(settings: Settings, store: Store) -> str | None:
    """This machine's agent id; or the only agent in the database (a copied database)."""
    path = settings.state_dir() / identity.FILENAME
    if path.exists():
        return identity.load_or_create(settings.state_dir())
    uuids = store.agent_uuids()
    return uuids[0] if len(uuids) == 1 else None


def select_targets(settings: Settings, names: Sequence[str] | None) -> list[Target]:
    if not names:
        return list(settings.targets)
    known = {t.name for t in settings.targets}
    unknown = [n for n in names if n not in known]
    if unknown:
        raise UsageError(f"--target {', '.join(unknown)}: not in the config (known: {', '.join(sorted(known))})")
    return [settings.target(n) for n in names]


# -- analysis ------------------------------------------------------------------------
@dataclass
class Analysis:
    start: datetime
    end: datetime
    tz: ZoneInfo
    agent_uuid: str | None
    targets: list[Target]
    checks: dict[str, TargetChecks]
    results: dict[str, TargetAnalysis]
    control_down: list[tuple[datetime, datetime]]
    rows_used: int
    figures: dict[str, Figures] = field(default_factory=dict)
    apart: dict[str, dict[KindSet, TargetAnalysis]] = field(default_factory=dict)  # check kinds analysed on their own
    fleet: dict[str, FleetView] = field(default_factory=dict)  # targets measured by several agents (reports/build/vantages.py)


def accumulator(tc: TargetChecks, p0_us: int, p1_us: int, bucket_us: int, *, charts: bool = True) -> Accumulator:
    """The per-row figures of a target: latency of its latency check kind, loss of its ICMP checks, its imported rows
    (and, with ``charts``, the SmokePing chart's buckets)."""
    kind = latency_kind(tc)
    return Accumulator(frozenset(tc.of_kind(kind)) if kind else frozenset(), frozenset(tc.of_kind("icmp")), p0_us, p1_us, bucket_us,
                       imported=ImportedCounter(tc, p0_us, p1_us), chart=charts)



def _clamp_us(dt: datetime) -> int:
    """µs for a stretch end that may be datetime.min/max (open-ended)."""
    if dt.year <= 1:
        return -(2**62)
    if dt.year >= 9999:
        return 2**62
    return to_us(dt)


def run_cuts(runs: Sequence[AgentRun], start: datetime, end: datetime) -> list[int]:
    """Times a compressed run of rounds must not cross: the period's edges and every run boundary."""
    cuts = [to_us(start), to_us(end)]
    for r in runs:
        cuts += [to_us(x) for x in (r.started_at, r.ended_at, r.last_seen) if x is not None]
    return cuts


@dataclass(frozen=True)
class PassJob:
    """What every target's pass shares (handed to worker processes by fork)."""

    settings: Settings
    checks: dict[str, TargetChecks]
    start: datetime
    end: datetime
    tz: ZoneInfo
    runs: list[AgentRun]
    compress: bool
    a_us: int  # rounds are read over [a_us, b_us): the period and a margin on both sides
    b_us: int
    cuts: list[int]  # times a compressed run of rounds must not cross
    down_us: list[tuple[int, int]]  # stretches the agent was not running
    control_down: list[tuple[datetime, datetime]] = field(default_factory=list)  # every control target failing
    charts: bool = True  # keep the SmokePing chart's buckets (not for summary.json alone)


class _Worker:
    """A worker process's state: the job (set before the fork) and its own store connection."""

    job: PassJob | None = None
    url: str = ""
    store: Store | None = None


Pass = tuple[TargetAnalysis, Figures, dict[KindSet, TargetAnalysis]]


def _analyse_one(name: str) -> tuple[str, TargetAnalysis, Figures, dict[KindSet, TargetAnalysis]]:
    """One target's pass, in a worker process (state handed over by fork in _Worker)."""
    job = _Worker.job
    assert job is not None, "the job is set before the pool forks"
    if _Worker.store is None:
        _Worker.store = Store.open(_Worker.url, migrate=False)
    return (name, *_target_pass(_Worker.store, job.settings, job.settings.target(name), job.checks[name], job))


def _target_pass(store: Store, settings: Settings, t: Target, tc: TargetChecks, job: PassJob) -> Pass:
    """The target's pass (incidents, spans, figures from every row once), then one pass per check
    kind set analysed on its own (reports/build/checks.py), over those kinds' rows only."""
    start, end = job.start, job.end
    policy = policy_for(settings, t)
    acc = accumulator(tc, to_us(start), to_us(end), int(settings.interval_of(t) * 1e6), charts=job.charts)
    res = _analysis(store, t, tc, job, policy, acc.add)
    apart = {kinds: _analysis(store, t, restrict(tc, kinds), job, policy) for kinds in kind_sets(tc, sla_check_kinds(t))}
    return res, acc.figures(), apart


def _analysis(store: Store, t: Target, tc: TargetChecks, job: PassJob, policy: IncidentPolicy,
              on_row: Callable[[tuple[Any, ...]], None] | None = None) -> TargetAnalysis:
    rounds = rounds_for(store, t, tc, job.a_us, job.b_us, policy, job.cuts, compress=job.compress,
                        down_us=job.down_us, on_row=on_row)
    return analyse_target(rounds, period_start=job.start, period_end=job.end, policy=policy, runs=job.runs,
                          control_down=() if t.control else job.control_down, tz=job.tz, target=t.name,
                          spans_window=(job.start - MARGIN, job.end + MARGIN))


def _plan(settings: Settings, store: Store, start: datetime, end: datetime, checks: dict[str, TargetChecks],
          agent_uuid: str | None, compress: bool) -> PassJob:
    runs = agent_runs(store, agent_uuid, to_us(start), to_us(end))
    return PassJob(settings=settings, checks=checks, start=start, end=end, tz=settings.display_tz(), runs=runs,
                   compress=compress, a_us=to_us(start - MARGIN), b_us=to_us(end + MARGIN),
                   cuts=run_cuts(runs, start, end) + run_cuts(runs, start - MARGIN, end + MARGIN),
                   down_us=[(_clamp_us(a), _clamp_us(b)) for a, b in agent_down_stretches(runs)])


def _read_controls(store: Store, job: PassJob, controls: Sequence[Target], chosen: Sequence[Target]) -> tuple[PassJob, int]:
    """Control targets first: when all of them failed is 'local' for every other target.
    Returns the job with that time set, and the rows read of controls not reported on."""
    if not controls:
        return job, 0
    settings, p0, p1 = job.settings, to_us(job.start), to_us(job.end)
    accs = [accumulator(job.checks[t.name], p0, p1, 10**12, charts=False) for t in controls]
    streams = [rounds_for(store, t, job.checks[t.name], job.a_us, job.b_us, policy_for(settings, t), job.cuts,
                          compress=job.compress, down_us=job.down_us, on_row=acc.add) for t, acc in zip(controls, accs)]
    control_down = control_down_intervals(streams, policy_for(settings, controls[0]))
    reported = {c.name for c in chosen}
    rows = sum(a.rows for t, a in zip(controls, accs) if t.name not in reported)
    return replace(job, control_down=control_down), rows


def _passes_forked(store: Store, job: PassJob, chosen: Sequence[Target], n_workers: int,
                   progress: ProgressFn | None) -> dict[str, Pass]:
    import multiprocessing as mp

    out: dict[str, Pass] = {}
    _Worker.job, _Worker.url, _Worker.store = job, store.raw_url, None
    try:
        with mp.get_context("fork").Pool(n_workers) as pool:
            for name, res, fig, apart in pool.imap_unordered(_analyse_one, [t.name for t in chosen]):
                if progress:
                    progress(name)
                out[name] = (res, fig, apart)
    finally:
        _Worker.job, _Worker.url, _Worker.store = None, "", None
    return out


def _passes(store: Store, job: PassJob, chosen: Sequence[Target], workers: int | None,
            progress: ProgressFn | None) -> dict[str, Pass]:
    """Each chosen target's pass: in worker processes (one per core) for 4 or more targets."""
    import multiprocessing as mp
    import os

    n_workers = workers if workers is not None else min(os.cpu_count() or 1, 8)
    if len(chosen) >= 4 and n_workers > 1 and "fork" in mp.get_all_start_methods() and not store.raw_url.endswith(":memory:"):
        return _passes_forked(store, job, chosen, n_workers, progress)
    out: dict[str, Pass] = {}
    for t in chosen:
        if progress:
            progress(t.name)
        out[t.name] = _target_pass(store, job.settings, t, job.checks[t.name], job)
    return out


def analyse(settings: Settings, store: Store, start: datetime, end: datetime, names: Sequence[str] | None = None,
            *, progress: ProgressFn | None = None, compress: bool = True, workers: int | None = None,
            charts: bool = True) -> Analysis:
    """Incidents, spans and figures for each chosen target, one pass over each target's rows.

    Controls are always read first (they decide 'local'). With several targets the passes
    run in worker processes, one per core.
    """
    chosen = select_targets(settings, names)
    controls = [t for t in settings.targets if t.control]
    checks = target_checks(store, list(dict.fromkeys([t.name for t in chosen] + [t.name for t in controls])))
    agent_uuid = resolve_agent(settings, store)
    job, control_rows = _read_controls(store, replace(_plan(settings, store, start, end, checks, agent_uuid, compress), charts=charts),
                                       controls, chosen)
    passes = _passes(store, job, chosen, workers, progress)
    results = {name: res for name, (res, _, _) in passes.items()}
    figures = {name: fig for name, (_, fig, _) in passes.items()}
    rows = control_rows + sum(f.rows for f in figures.values())
    return Analysis(start, end, job.tz, agent_uuid, chosen, checks, results, job.control_down, rows, figures,
                    {name: apart for name, (_, _, apart) in passes.items()}, _fleet(settings, store, job, chosen, controls, workers))


def _vantage_pass(settings: Settings, job: PassJob, controls: Sequence[Target], store: Store, name: str, v: Vantage) -> TargetAnalysis:
    """One agent's view of one target, analysed as the report's own is (its runs, its control targets)."""
    t = settings.target(name)
    mine = _plan(settings, store, job.start, job.end, v.checks, v.agent_uuid, job.compress)
    mine, _ = _read_controls(store, mine, [c for c in controls if c.name in v.checks], [t])
    return _analysis(store, t, v.checks[name], mine, policy_for(settings, t))


def _fleet(settings: Settings, store: Store, job: PassJob, chosen: Sequence[Target], controls: Sequence[Target],
           workers: int | None) -> dict[str, FleetView]:
    """Targets with rows from several agents (reports/build/vantages.py), their views in worker processes."""
    names = [c.name for c in controls]
    found = {t.name: vantages_of(store, t.name, names, job.a_us, job.b_us) for t in chosen if not t.control}
    return fleet_views(store, {n: vs for n, vs in found.items() if vs}, partial(_vantage_pass, settings, job, controls), workers,
                       settings.agent.quorum)


# -- latency and loss ----------------------------------------------------------------
def latency_from_histogram(hist_us: Sequence[tuple[int, int]]) -> LatencyFigures:
    """p50/p95/p99 (nearest rank), mean, min, max from a 1 µs RTT histogram."""
    stats = LatencyStats(exact_limit=0)
    for us, n in hist_us:
        stats.add_bucket(us / 1000.0, n)
    s = stats.summary()
    return LatencyFigures(p50=s.p50, p95=s.p95, p99=s.p99, mean=s.mean, min=s.min, max=s.max, count=s.count)


def rebin(hist: list[tuple[float, int]], bins: int = 60) -> list[tuple[float, int]]:
    """A chart histogram with equal-width bins over the 0–99.5th percentile range (outliers in the last bin)."""
    total = sum(n for _, n in hist)
    if not total:
        return []
    cut, acc = hist[-1][0], 0
    for v, n in hist:
        acc += n
        if acc >= total * 0.995:
            cut = v
            break
    lo = hist[0][0]
    width = max((cut - lo) / bins, 0.001)
    counts = [0] * bins
    for v, n in hist:
        counts[min(bins - 1, int((v - lo) / width))] += n
    return [(lo + i * width, c) for i, c in enumerate(counts)]


# -- SLA --------------------------------------------------------------------------------
def sla_result(settings: Settings, store: Store, t: Target, start: datetime, end: datetime, now: datetime,
               analysis: TargetAnalysis | None = None, checks: TargetChecks | None = None,
               apart: dict[KindSet, TargetAnalysis] | None = None, fleet: FleetView | None = None) -> Any:
    """The provider's SLA evaluated over [start, end), or None when the target has no sla section.

    Spans reach an hour past both edges (``spans_wide``), so an outage that
    crosses the period's edge is judged whole by minimum-duration rules. They are the spans of
    the checks the definition counts (``counting.checks``: every check, or the kinds it names).
    """
    if not t.sla:
        return None
    from reports.analysis.sla import evaluate
    from reports.presets import resolve

    definition = resolve(dict(t.sla))
    if analysis is None:
        an = analyse(settings, store, start, end, [t.name])
        analysis, apart, fleet = an.results[t.name], an.apart[t.name], an.fleet.get(t.name)
    res = analysis_for(sla_check_kinds(t), analysis, apart or {})
    if fleet is not None:  # several vantages: the SLA counts outages a quorum confirmed
        res = replace(res, spans_wide=fleet.wide.spans)
    samples: Iterable[Any] = ()
    if definition.performance:
        tc = checks if checks is not None else target_checks(store, [t.name])[t.name]
        metrics: set[str] = {p.metric for p in definition.performance}
        samples = chain(perf_samples(store, tc, to_us(start), to_us(end), res.spans_wide, metrics),
                        host_perf_samples(store, tc, to_us(start), to_us(end), metrics))
    return evaluate(definition, res.spans_wide, period_start=start, period_end=end, samples=samples,
                    monthly_fee=Decimal(str(t.monthly_fee)) if t.monthly_fee is not None else None,
                    currency=t.currency, now=now, target=t.name)


# -- the report model ---------------------------------------------------------------------
@dataclass
class Built:
    report: Report
    series: dict[str, TargetSeries]
    analysis: Analysis


def build_report(settings: Settings, store: Store, an: Analysis, *, lang: str, now: datetime, with_series: bool = True) -> Built:
    """The report model of an analysis: figures, incidents with evidence, bandwidth, SLA, methods, notes;
    and the chart series of each target when ``with_series``."""
    built = [_target(settings, store, an, t, idx, now, with_series) for idx, t in enumerate(an.targets, 1)]
    targets = tuple(report for report, _ in built)
    series = {t.name: s for t, (_, s) in zip(an.targets, built) if s is not None}
    for name, view in an.fleet.items() if with_series else ():
        series[name] = replace(series[name], vantage_spans=strip_series(view))
    for t in an.targets if with_series else ():
        if any(isinstance(c, HostCheck) for c in t.checks):
            series[t.name] = replace(series[t.name], host=host_series(store, an.checks[t.name], to_us(an.start), to_us(an.end)))
    proof = proof_section(store, an.agent_uuid, to_us(an.start), to_us(an.end))
    how = with_imported(methods(settings, an.targets), targets)
    if proof is not None and proof.clock_on_record:  # the period's own record, not today's state of this machine
        how = replace(how, clock=clock_text(False, recorded=True))
    report = Report(
        generated_at=_exact_us(now), lang=report_lang(lang),
        period=Period(start=_exact_us(an.start), end=_exact_us(an.end), timezone=an.tz.key, interim=now < an.end),
        agent=agent_info(settings, store, an.agent_uuid),
        methods=how,
        targets=targets,
        notes=tuple(notes(store, an)),
        proof=proof,
        alerts=alerts_in(store, to_us(an.start), to_us(an.end), [t.name for t in an.targets]),
    )
    return Built(report, series, an)


def _exact_us(moment: datetime) -> datetime:
    """The instant as stored: UTC, whole microseconds."""
    return from_us(to_us(moment))


def target_report(settings: Settings, store: Store, an: Analysis, t: Target, idx: int, now: datetime) -> TargetReport:
    """One target's figures; ``idx`` numbers its incidents (T<idx>-<n>)."""
    return _target(settings, store, an, t, idx, now, False)[0]


def _target(settings: Settings, store: Store, an: Analysis, t: Target, idx: int, now: datetime,
            with_series: bool) -> tuple[TargetReport, TargetSeries | None]:
    """One target's figures and (``with_series``) its chart series, incident cards' windows included."""
    res, tc, fig = an.results[t.name], an.checks[t.name], an.figures[t.name]
    interval = settings.interval_of(t)
    items = stored_evidence(store, store_target_id(store, t.name), res)
    refs = evidence_refs(store, store_target_id(store, t.name), res, interval, settings.agent.open_after,
                         tc.of_kind("http"), items)
    ctx = CardContext(store, tc, items, frozenset(x.name for x in settings.targets if x.control), interval,
                      settings.agent.open_after)
    carded = set(card_incidents(res)) if not t.control else set()
    ids = [f"T{idx}-{i + 1}" for i in range(len(res.incidents))]
    # With charts, each card's window is read once: its chart and its edge rounds come from the same rows.
    spans = {i: window_of(res.incidents[i], res) for i in carded} if with_series else {}
    rows = {i: window_rows(store, tc, *spans[i], interval) for i in spans}
    bw = bandwidth_summary(store, tc, to_us(an.start), to_us(an.end), local_intervals(res.spans_wide))
    sla_json = sla_result(settings, store, t, an.start, an.end, now, res, tc, an.apart.get(t.name, {}), an.fleet.get(t.name))
    sla = None if sla_json is None else sla_section(sla_json.to_json(), f"{t.name}: sla")
    report = TargetReport(
        name=t.name, address=t.address, provider=t.provider or "", control=t.control, interval_s=interval,
        service_name=t.service_name, service_id=t.service_id,
        availability_pct=res.availability_pct, downtime_s=res.downtime_s, coverage_pct=coverage_pct(*observed_time(res.spans)),
        local_s=res.local_s, no_data_s=res.no_data_s, partial_s=res.partial_s, degraded_s=res.degraded_s,
        latency_ms=latency_from_histogram(fig.hist_us), latency_source=latency_kind(tc),
        loss_pct=None if not fig.sent else 100.0 * (fig.sent - fig.received) / fig.sent,
        rows=fig.rows,
        incidents=tuple(incident_entry(inc, ids[i], refs.get(i, []), incident_card(ctx, inc, rows.get(i)) if i in carded else None)
                        for i, inc in enumerate(res.incidents)),
        blips=res.blips, rounds=res.rounds, rounds_failed=res.rounds_failed,
        checks=check_figures(tc, res, an.apart.get(t.name, {}), sla_check_kinds(t), bool(t.sla)),
        imported=imported_rows(tc, fig.imported, fig.rows),
        bandwidth=None if bw is None else decode(BandwidthSection, bw, f"{t.name}: bandwidth"),
        sla=sla,
        host=host_section(store, tc, t.plan, an.start, an.end, an.tz, sla.terms if sla is not None else ()),
        vantages=section(an.fleet[t.name], idx) if t.name in an.fleet else None,
    )
    if not with_series:
        return report, None
    windows = {ids[i]: window_buckets(rows[i], tc, *spans[i], interval) for i in sorted(carded)}
    return report, target_series(res, fig, tc, ids, windows)


def incident_entry(inc: Incident, ident: str, evidence: Sequence[EvidenceRef], card: IncidentCard | None = None) -> IncidentEntry:
    return IncidentEntry(
        id=ident, kind=incident_kind(inc.kind_name), state=inc.kind.value, start=inc.start, end=inc.end,
        duration_s=inc.duration_s, duration_min_s=inc.duration_min_s, duration_max_s=inc.duration_max_s,
        counted_s=inc.counted_s,
        start_bounds=StartBounds(last_good_before=inc.last_good_before, first_failed=inc.first_failed),
        end_bounds=EndBounds(last_failed=inc.last_failed, first_good_after=inc.first_good_after),
        start_bound=inc.start_bound, end_bound=inc.end_bound,
        rounds_failed=inc.rounds_failed, rounds_good_inside=inc.rounds_good_inside,
        error_classes=dict(inc.error_classes), first_row_id=inc.first_row_id, last_row_id=inc.last_row_id,
        clipped_start=inc.clipped_start, clipped_end=inc.clipped_end, evidence=tuple(evidence), card=card,
    )


def target_series(res: TargetAnalysis, fig: Figures, tc: TargetChecks, ids: Sequence[str],
                  windows: dict[str, list[SmokeBucket]]) -> TargetSeries:
    """Chart data: the SmokePing buckets, daily figures, shaded bands with their incident IDs, card windows."""
    bands: list[tuple[datetime, datetime, BandKind, str]] = [
        (inc.start, inc.end, incident_kind(inc.kind_name), ident) for inc, ident in zip(res.incidents, ids)]
    bands += [(s.start, s.end, "no_data", "") for s in res.spans if s.state is State.NO_DATA]
    if not any(i.kind is State.LOCAL for i in res.incidents):
        bands += [(s.start, s.end, "local", "") for s in res.spans if s.state is State.LOCAL]
    return TargetSeries(smoke=fig.smoke, latency_kind=latency_kind(tc), icmp=bool(tc.of_kind("icmp")),
                        daily=[d.as_tuple() for d in res.daily], bands=bands, windows=windows)


def agent_info(settings: Settings, store: Store, agent_uuid: str | None) -> AgentInfo:
    info = (store.agent_info(agent_uuid) if agent_uuid else None) or {}
    return AgentInfo(id=agent_uuid or "unknown", host=info.get("hostname") or socket.gethostname(),
                     vantage=settings.agent.vantage or "", network=settings.agent.network or "", version=VERSION)


def methods(settings: Settings, targets: Sequence[Target]) -> Methods:
    """How the figures were obtained: each check's settings, thresholds, controls, the incident rules."""
    hosts = any(isinstance(c, HostCheck) for t in targets for c in t.checks)
    return Methods(
        probes=tuple(ProbeMethod(target=t.name, kind=c.kind,
                                 interval_s=c.interval_s if isinstance(c, OWN_SCHEDULE) else settings.interval_of(t),
                                 settings=_public_settings(c)) for t in targets for c in t.checks),
        thresholds={t.name: Thresholds(rtt_ms_max=t.thresholds.rtt_ms_max, loss_pct_max=t.thresholds.loss_pct_max,
                                       sustain_s=t.thresholds.sustain_s)
                    for t in targets if t.thresholds.rtt_ms_max is not None or t.thresholds.loss_pct_max is not None},
        control_targets=tuple(t.name for t in settings.targets if t.control),
        clock=clock_text(TIMESYNC_FLAG.exists()),
        open_after=settings.agent.open_after,
        merge_gap_s=policy_for(settings, targets[0]).merge_gap if targets else None,
        gap_rule=GAP_RULE,
        text_en=METHODS_EN + (HOST_METHOD_EN if hosts else ""),
        text_zh=METHODS_ZH + (HOST_METHOD_ZH if hosts else ""),
    )


def notes(store: Store, an: Analysis) -> list[str]:
    """Caveats a reader must see: time without data, agent runs that ended without a clean stop."""
    out = [f"{t.name}: {cut_short(an.results[t.name].no_data_s, 3)} s of the period has no data (agent not running or rounds missing); "
           "that time is neither up nor down." for t in an.targets if an.results[t.name].no_data_s > 0]
    runs = store.runs_between(to_us(an.start), to_us(an.end), an.agent_uuid)
    unclean = [r for r in runs if r["stop"] == "unclean"]
    if unclean:
        out.append(f"{len(unclean)} agent run(s) in the period ended without a clean stop (crash, kill or power loss); "
                   "their time after the last heartbeat is counted as no data.")
    return out


def _public_settings(c: Any) -> dict[str, Any]:
    d = mask_settings(c.model_dump(mode="json"))
    d.pop("kind", None)
    return d


def store_target_id(store: Store, name: str) -> int:
    for t in store.target_rows():
        if t["name"] == name:
            return int(t["id"])
    return -1


def today_in(tz: ZoneInfo, now: datetime | None = None) -> date:
    return (now or datetime.now(UTC)).astimezone(tz).date()
