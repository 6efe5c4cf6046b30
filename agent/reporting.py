"""Builds the evidence bundle: reads the store (streaming), calls the pure analysis, writes files.

This module orchestrates; the figures come from reports/ (pure functions) and
the rows from agent/store.py (the only SQL). Every figure written here can be
traced to stored rows through summary.json and manifest.json.
"""

from __future__ import annotations

import hashlib
import json
import socket
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from agent import identity
from agent.config import BandwidthCheck, Settings, Target
from agent.errors import SlaproofError, UsageError
from agent.rows import from_us, iso, to_us
from agent.store import Store
from agent.version import VERSION
from probes import result as R
from reports.incidents import IncidentPolicy, TargetAnalysis, agent_down_stretches, analyse_target, control_down_intervals
from reports.model import AgentRun, CheckOutcome, Round, Span, State
from reports.stats import LatencyStats

UTC = timezone.utc
# Agent-side failures: recorded, never counted for or against the provider.
AGENT_SIDE = {R.INTERNAL, R.PERMISSION, R.SKIPPED}
LATENCY_PREFERENCE = ("icmp", "tcp", "http")
MARGIN = timedelta(hours=1)  # rounds read beyond the period so edges are judged with context
ProgressFn = Callable[[str], None]


# -- reading rounds ----------------------------------------------------------------
@dataclass
class TargetChecks:
    """All check rows (every settings version) of one target, by kind."""

    name: str
    ids: list[int] = field(default_factory=list)
    kind_of: dict[int, str] = field(default_factory=dict)
    settings: list[dict[str, Any]] = field(default_factory=list)

    def of_kind(self, *kinds: str) -> list[int]:
        return [i for i in self.ids if self.kind_of[i] in kinds]

    @property
    def round_ids(self) -> list[int]:
        return [i for i in self.ids if self.kind_of[i] != "bandwidth"]


def target_checks(store: Store, names: Sequence[str]) -> dict[str, TargetChecks]:
    out = {n: TargetChecks(n) for n in names}
    for c in store.check_rows(list(names)):
        tc = out[c["target"]]
        tc.ids.append(c["id"])
        tc.kind_of[c["id"]] = c["kind"]
        tc.settings.append(json.loads(c["settings"]))
    return out


@dataclass
class RowCounter:
    n: int = 0


def iter_rounds(store: Store, name: str, tc: TargetChecks, start_us: int, end_us: int, interval_s: float,
                counter: RowCounter | None = None, on_row: Callable[[tuple[Any, ...]], None] | None = None) -> Iterator[Round]:
    """Group a target's rows into rounds: rows sharing a scheduled time (ts − lag) are one round.

    Imported rows carry no lag; rows within half an interval of a round's first row join it.
    """
    half_us = int(interval_s * 500_000)
    kind_of = tc.kind_of
    cur_sched: int | None = None
    checks: list[CheckOutcome] = []
    n = 0
    for row in store.iter_round_rows(tc.round_ids, start_us, end_us):
        row_id, ts_us, lag_us, check_id, ok, rtt_ns, sent, received, status, error_class = row
        n += 1
        if on_row is not None:
            on_row(row)
        sched = ts_us - (lag_us or 0)
        if cur_sched is None or sched - cur_sched >= half_us:
            if checks:
                yield Round(name, from_us(cur_sched), tuple(checks))  # type: ignore[arg-type]
            cur_sched = sched
            checks = []
        ec = R.SKIPPED if error_class in AGENT_SIDE else error_class
        loss = None if not sent else 100.0 * (sent - (received or 0)) / sent
        checks.append(CheckOutcome(kind_of[check_id], bool(ok), None if rtt_ns is None else rtt_ns / 1e6, loss, status, ec, row_id))
    if checks:
        yield Round(name, from_us(cur_sched), tuple(checks))  # type: ignore[arg-type]
    if counter is not None:
        counter.n += n


def iter_rounds_compressed(store: Store, name: str, tc: TargetChecks, start_us: int, end_us: int, policy: IncidentPolicy,
                           cuts_us: Sequence[int], counter: RowCounter | None = None,
                           down_us: Sequence[tuple[int, int]] = (),
                           on_row: Callable[[tuple[Any, ...]], None] | None = None) -> Iterator[Round]:
    """Like :func:`iter_rounds` for a target whose rounds hold one check, but runs of plain up
    rounds are passed as one Round (``until``/``count``).

    A round joins a run only when nothing about it can matter to an incident: it is up and
    under the thresholds, it follows the previous round within the gap rule, no period or
    agent-run boundary (``cuts_us``) lies between them, and it is more than the merge gap
    plus two intervals after the last round that was not plainly up, and it does not fall
    where the runs table says the agent was not running (``down_us``: such rounds each
    prove the agent was running, one interval at a time). Everything else is passed one
    by one, exactly as :func:`iter_rounds` would.
    """
    tol_us = int(policy.interval_s * policy.gap_factor * 1_000_000)
    quiet_us = int((policy.merge_gap + 2 * policy.interval_s) * 1_000_000)
    rtt_max_ns = None if policy.rtt_ms_max is None else policy.rtt_ms_max * 1e6
    loss_max = policy.loss_pct_max
    kind = tc.kind_of[tc.round_ids[0]]
    downs = sorted(down_us)
    nd = len(downs)
    di = 0
    d_a, d_b = downs[0] if downs else (2**63, 2**63)
    cuts = sorted(set(int(c) for c in cuts_us))
    ncuts = len(cuts)
    ci = 0
    next_cut = cuts[0] if cuts else 2**63
    last_bad = -(2**62)
    prev_s = -(2**62)
    run: tuple[Any, ...] | None = None
    run_s = run_last = run_n = 0
    n = 0

    def single(row: tuple[Any, ...], s: int, until: int | None = None, count: int = 1) -> Round:
        row_id, _ts, _lag, _cid, ok, rtt_ns, sent, received, status, ec = row
        loss = None if not sent else 100.0 * (sent - (received or 0)) / sent
        c = CheckOutcome(kind, bool(ok), None if rtt_ns is None else rtt_ns / 1e6, loss, status,
                         R.SKIPPED if ec in AGENT_SIDE else ec, row_id)
        return Round(name, from_us(s), (c,), from_us(until) if until is not None else None, count)

    for row in store.iter_round_rows(tc.round_ids, start_us, end_us):
        n += 1
        if on_row is not None:
            on_row(row)
        ts_us, lag_us = row[1], row[2]
        s = ts_us - (lag_us or 0)
        crossed = False
        while s >= next_cut:
            ci += 1
            next_cut = cuts[ci] if ci < ncuts else 2**63
            crossed = True
        ok = row[4]
        plain = bool(ok) and row[9] is None
        if plain and rtt_max_ns is not None and row[5] is not None and row[5] > rtt_max_ns:
            plain = False
        if plain and loss_max is not None and row[6] and 100.0 * (row[6] - (row[7] or 0)) / row[6] > loss_max:
            plain = False
        while s >= d_b:
            di += 1
            d_a, d_b = downs[di] if di < nd else (2**63, 2**63)
        quiet = s - last_bad > quiet_us and not d_a <= s
        if run is not None and plain and quiet and not crossed and s - prev_s <= tol_us:
            run_last = s
            run_n += 1
        else:
            if run is not None:
                yield single(run, run_s, run_last if run_n > 1 else None, run_n)
                run = None
            if plain and quiet:
                run, run_s, run_last, run_n = row, s, s, 1
            else:
                yield single(row, s)
                if not plain:
                    last_bad = s
        prev_s = s
    if run is not None:
        yield single(run, run_s, run_last if run_n > 1 else None, run_n)
    if counter is not None:
        counter.n += n


def iter_rounds_compressed_multi(store: Store, name: str, tc: TargetChecks, start_us: int, end_us: int,
                                 policy: IncidentPolicy, cuts_us: Sequence[int], counter: RowCounter | None = None,
                                 down_us: Sequence[tuple[int, int]] = (),
                                 on_row: Callable[[tuple[Any, ...]], None] | None = None) -> Iterator[Round]:
    """:func:`iter_rounds_compressed` for targets with several checks a round: rows are grouped
    into rounds exactly as :func:`iter_rounds` groups them, and a round is plain only when every
    one of its checks is up, without an error class, and under both thresholds (stricter than
    the analysis, which is safe: a round not plain is passed as it is)."""
    half_us = int(policy.interval_s * 500_000)
    tol_us = int(policy.interval_s * policy.gap_factor * 1_000_000)
    quiet_us = int((policy.merge_gap + 2 * policy.interval_s) * 1_000_000)
    rtt_max_ns = None if policy.rtt_ms_max is None else policy.rtt_ms_max * 1e6
    loss_max = policy.loss_pct_max
    kind_of = tc.kind_of
    downs = sorted(down_us)
    cuts = sorted(set(int(c) for c in cuts_us))
    st = {"di": 0, "ci": 0, "last_bad": -(2**62), "prev_s": -(2**62), "run": None, "run_s": 0, "run_last": 0, "run_n": 0}
    d_ab = [downs[0] if downs else (2**63, 2**63)]
    next_cut = [cuts[0] if cuts else 2**63]

    def build(rows: list[tuple[Any, ...]], s: int, until: int | None = None, count: int = 1) -> Round:
        checks = tuple(CheckOutcome(kind_of[r[3]], bool(r[4]), None if r[5] is None else r[5] / 1e6,
                                    None if not r[6] else 100.0 * (r[6] - (r[7] or 0)) / r[6], r[8],
                                    R.SKIPPED if r[9] in AGENT_SIDE else r[9], r[0]) for r in rows)
        return Round(name, from_us(s), checks, from_us(until) if until is not None else None, count)

    def is_plain(rows: list[tuple[Any, ...]]) -> bool:
        for r in rows:
            if not r[4] or r[9] is not None:
                return False
            if rtt_max_ns is not None and r[5] is not None and r[5] > rtt_max_ns:
                return False
            if loss_max is not None and r[6] and 100.0 * (r[6] - (r[7] or 0)) / r[6] > loss_max:
                return False
        return True

    def step(rows: list[tuple[Any, ...]], s: int) -> Iterator[Round]:
        crossed = False
        while s >= next_cut[0]:
            st["ci"] += 1
            next_cut[0] = cuts[st["ci"]] if st["ci"] < len(cuts) else 2**63
            crossed = True
        plain = is_plain(rows)
        while s >= d_ab[0][1]:
            st["di"] += 1
            d_ab[0] = downs[st["di"]] if st["di"] < len(downs) else (2**63, 2**63)
        quiet = s - st["last_bad"] > quiet_us and not d_ab[0][0] <= s
        if st["run"] is not None and plain and quiet and not crossed and s - st["prev_s"] <= tol_us:
            st["run_last"] = s
            st["run_n"] += 1
        else:
            if st["run"] is not None:
                yield build(st["run"], st["run_s"], st["run_last"] if st["run_n"] > 1 else None, st["run_n"])
                st["run"] = None
            if plain and quiet:
                st["run"], st["run_s"], st["run_last"], st["run_n"] = rows, s, s, 1
            else:
                yield build(rows, s)
                if not plain:
                    st["last_bad"] = s
        st["prev_s"] = s

    n = 0
    cur: int | None = None
    buf: list[tuple[Any, ...]] = []
    for row in store.iter_round_rows(tc.round_ids, start_us, end_us):
        n += 1
        if on_row is not None:
            on_row(row)
        sched = row[1] - (row[2] or 0)
        if cur is None or sched - cur >= half_us:
            if buf:
                yield from step(buf, cur)  # type: ignore[arg-type]
            cur, buf = sched, []
        buf.append(row)
    if buf:
        yield from step(buf, cur)  # type: ignore[arg-type]
    if st["run"] is not None:
        yield build(st["run"], st["run_s"], st["run_last"] if st["run_n"] > 1 else None, st["run_n"])
    if counter is not None:
        counter.n += n


def agent_runs(store: Store, agent_uuid: str | None, start_us: int, end_us: int) -> list[AgentRun]:
    out = []
    for r in store.runs_between(start_us - int(MARGIN.total_seconds() * 1e6), end_us + int(MARGIN.total_seconds() * 1e6), agent_uuid):
        ended = r["ended_us"] if r["stop"] else None
        out.append(AgentRun(from_us(r["started_us"]), from_us(ended) if ended else None,
                            from_us(r["last_seen_us"]) if r["last_seen_us"] else None,
                            {"clean": True, "unclean": False}.get(r["stop"] or "", None)))
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


def rounds_for(store: Store, t: Target, tc: TargetChecks, a_us: int, b_us: int, policy: IncidentPolicy,
               cuts_us: Sequence[int], counter: RowCounter | None = None, *, compress: bool = True,
               down_us: Sequence[tuple[int, int]] = (), on_row: Callable[[tuple[Any, ...]], None] | None = None) -> Iterator[Round]:
    """The target's rounds, compressed where that cannot change the analysis."""
    if compress and len({tc.kind_of[i] for i in tc.round_ids}) == 1:
        return iter_rounds_compressed(store, t.name, tc, a_us, b_us, policy, cuts_us, counter, down_us, on_row)
    if compress and tc.round_ids:
        return iter_rounds_compressed_multi(store, t.name, tc, a_us, b_us, policy, cuts_us, counter, down_us, on_row)
    return iter_rounds(store, t.name, tc, a_us, b_us, policy.interval_s, counter, on_row)


class Accumulator:
    """Figures gathered from the same pass that feeds the analysis, so a report reads each row once:
    rows in the period, a 1 µs RTT histogram of the latency check kind, ICMP sent/received, and
    per-bucket sums for the latency chart. Call it with each row (a closure: this runs per row)."""

    def __init__(self, tc: TargetChecks, p0_us: int, p1_us: int, bucket_us: int) -> None:
        kind = latency_kind(tc)
        self.p0, self.p1, self.bucket_us = p0_us, p1_us, bucket_us
        self.counts = [0, 0, 0]  # rows, sent, received
        self.hist: dict[int, int] = {}
        self.series: dict[int, list[int]] = {}  # bucket → [rtt sum ns, rtt n, sent, received]
        self._add = self._make(frozenset(tc.of_kind(kind)) if kind else frozenset(), frozenset(tc.of_kind("icmp")))

    def __call__(self, row: tuple[Any, ...]) -> None:
        self._add(row)

    def _make(self, lat: frozenset[int], loss: frozenset[int]) -> Callable[[tuple[Any, ...]], None]:
        p0, p1, size = self.p0, self.p1, self.bucket_us
        counts, hist, series = self.counts, self.hist, self.series
        hist_get, series_get = hist.get, series.get

        def add(row: tuple[Any, ...]) -> None:
            _, ts, _, cid, ok, rtt, sent, received = row[:8]
            if ts < p0 or ts >= p1:
                return
            counts[0] += 1
            b = None
            if cid in lat and ok and rtt is not None:
                k = rtt // 1000
                hist[k] = hist_get(k, 0) + 1
                key = (ts - p0) // size
                b = series_get(key)
                if b is None:
                    b = series[key] = [0, 0, 0, 0]
                b[0] += rtt
                b[1] += 1
            if sent and cid in loss:
                received = received or 0
                counts[1] += sent
                counts[2] += received
                if b is None:
                    key = (ts - p0) // size
                    b = series_get(key)
                    if b is None:
                        b = series[key] = [0, 0, 0, 0]
                b[2] += sent
                b[3] += received

        return add

    @property
    def add(self) -> Callable[[tuple[Any, ...]], None]:
        return self._add

    @property
    def rows(self) -> int:
        return self.counts[0]

    def figures(self) -> "Figures":
        rows, sent, received = self.counts
        return Figures(rows, sorted(self.hist.items()), sent, received,
                       [(self.p0 + k * self.bucket_us, v[0] / v[1] / 1e6 if v[1] else None,
                         100.0 * (v[2] - v[3]) / v[2] if v[2] else None) for k, v in sorted(self.series.items())])


@dataclass
class Figures:
    rows: int
    hist_us: list[tuple[int, int]]  # (RTT µs, count), ascending
    sent: int
    received: int
    series: list[tuple[int, float | None, float | None]]  # (bucket start µs, mean RTT ms, loss %)


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


_POOL: dict[str, Any] = {}


def _analyse_one(name: str) -> tuple[str, TargetAnalysis, Figures]:
    """One target's pass, in a worker process (state handed over by fork in _POOL)."""
    job = _POOL
    store = job.get("store")
    if store is None:
        store = job["store"] = Store.open(job["url"], migrate=False)
    return (name, *_target_pass(store, job["settings"], job["settings"].target(name), job["checks"][name], job))


def _target_pass(store: Store, settings: Settings, t: Target, tc: TargetChecks, job: dict[str, Any]) -> tuple[TargetAnalysis, Figures]:
    start, end = job["start"], job["end"]
    policy = policy_for(settings, t)
    bucket_us = max(int(settings.interval_of(t) * 1e6), (to_us(end) - to_us(start)) // 1500)
    acc = Accumulator(tc, to_us(start), to_us(end), bucket_us)
    rounds = rounds_for(store, t, tc, job["a_us"], job["b_us"], policy, job["cuts"], compress=job["compress"],
                        down_us=job["down_us"], on_row=acc.add)
    res = analyse_target(rounds, period_start=start, period_end=end, policy=policy, runs=job["runs"],
                         control_down=() if t.control else job["control_down"], tz=job["tz"], target=t.name,
                         spans_window=(start - MARGIN, end + MARGIN))
    return res, acc.figures()


def analyse(settings: Settings, store: Store, start: datetime, end: datetime, names: Sequence[str] | None = None,
            *, progress: ProgressFn | None = None, compress: bool = True, workers: int | None = None) -> Analysis:
    """Incidents, spans and figures for each chosen target, one pass over each target's rows.

    Controls are always read first (they decide 'local'). With several targets the passes
    run in worker processes, one per core.
    """
    import os

    tz = settings.display_tz()
    chosen = select_targets(settings, names)
    controls = [t for t in settings.targets if t.control]
    all_names = list(dict.fromkeys([t.name for t in chosen] + [t.name for t in controls]))
    checks = target_checks(store, all_names)
    agent_uuid = resolve_agent(settings, store)
    runs = agent_runs(store, agent_uuid, to_us(start), to_us(end))
    job: dict[str, Any] = {
        "settings": settings, "checks": checks, "start": start, "end": end, "tz": tz, "runs": runs, "compress": compress,
        "a_us": to_us(start - MARGIN), "b_us": to_us(end + MARGIN),
        "cuts": run_cuts(runs, start, end) + run_cuts(runs, start - MARGIN, end + MARGIN),
        "down_us": [(_clamp_us(a), _clamp_us(b)) for a, b in agent_down_stretches(runs)],
        "control_down": [],
    }
    control_rows = 0
    if controls:
        accs = [Accumulator(checks[t.name], to_us(start), to_us(end), 10**12) for t in controls]
        streams = [rounds_for(store, t, checks[t.name], job["a_us"], job["b_us"], policy_for(settings, t), job["cuts"],
                              compress=compress, down_us=job["down_us"], on_row=acc.add) for t, acc in zip(controls, accs)]
        job["control_down"] = control_down_intervals(streams, policy_for(settings, controls[0]))
        control_rows = sum(a.rows for t, a in zip(controls, accs) if t.name not in {c.name for c in chosen})
    results: dict[str, TargetAnalysis] = {}
    figures: dict[str, Figures] = {}
    n_workers = workers if workers is not None else min(os.cpu_count() or 1, 8)
    import multiprocessing as mp

    if len(chosen) >= 4 and n_workers > 1 and "fork" in mp.get_all_start_methods() and not store.raw_url.endswith(":memory:"):
        _POOL.clear()
        _POOL.update(job, url=store.raw_url)
        try:
            with mp.get_context("fork").Pool(n_workers) as pool:
                for name, res, fig in pool.imap_unordered(_analyse_one, [t.name for t in chosen]):
                    if progress:
                        progress(name)
                    results[name], figures[name] = res, fig
        finally:
            _POOL.clear()
    else:
        for t in chosen:
            if progress:
                progress(t.name)
            results[t.name], figures[t.name] = _target_pass(store, settings, t, checks[t.name], job)
    rows = control_rows + sum(f.rows for f in figures.values())
    return Analysis(start, end, tz, agent_uuid, chosen, checks, results, job["control_down"], rows, figures)


# -- latency and loss ----------------------------------------------------------------
def latency_kind(tc: TargetChecks) -> str | None:
    kinds = set(tc.kind_of.values())
    return next((k for k in LATENCY_PREFERENCE if k in kinds), None)


def latency_from_histogram(hist_us: Sequence[tuple[int, int]]) -> dict[str, Any]:
    """p50/p95/p99 (nearest rank), mean, min, max from a 1 µs RTT histogram."""
    stats = LatencyStats(exact_limit=0)
    for us, n in hist_us:
        stats.add_bucket(us / 1000.0, n)
    s = stats.summary().to_json()
    return {k: s.get(k) for k in ("p50", "p95", "p99", "mean", "min", "max", "count")}


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


# -- evidence -------------------------------------------------------------------------
def evidence_refs(store: Store, target_id: int, res: TargetAnalysis, interval_s: float, open_after: int,
                  http_ids: Sequence[int] = ()) -> dict[int, list[dict[str, str]]]:
    """Incident index → evidence references: traceroutes taken when it opened, the first failing
    HTTP response inside it (quoted from its stored row), and the range of failed rows."""
    out: dict[int, list[dict[str, str]]] = {}
    items = store.evidence_between([target_id], to_us(res.period_start - MARGIN), to_us(res.period_end + MARGIN))
    slack = timedelta(seconds=interval_s * (open_after + 2))
    for i, inc in enumerate(res.incidents):
        refs: list[dict[str, str]] = []
        for e in items:
            when = from_us(e["ts_us"])
            if inc.first_failed - slack <= when <= (inc.first_good_after or inc.end) + slack:
                try:
                    content = json.loads(e["content"])
                except ValueError:
                    content = {}
                hops = (content.get("figures") or {}).get("hops") or []
                last = next((h.get("address") for h in reversed(hops) if h.get("address")), None)
                refs.append({"type": e["kind"], "ref": f"ev-{e['id']:04d}",
                             "summary": f"to {content.get('to', '?')} ({content.get('address', '?')}) at {iso(e['ts_us'])}: "
                                        f"{len(hops)} hops, last answering {last or 'none'}, reached={(content.get('figures') or {}).get('reached')}; sha256 {e['sha256'][:16]}…"})
        if http_ids and inc.kind is not State.LOCAL:
            resp = store.first_failed_with_detail(http_ids, to_us(inc.first_failed), to_us(inc.last_failed) + 1)
            if resp is not None:
                refs.append(http_response_ref(resp))
        if inc.first_row_id is not None:
            refs.append({"type": "rows", "ref": f"{inc.first_row_id}–{inc.last_row_id}",
                         "summary": f"{inc.rounds_failed} failed rounds; errors: "
                                    + ", ".join(f"{k} ×{v}" for k, v in sorted(inc.error_classes.items()))})
        out[i] = refs
    return out


def http_response_ref(row: dict[str, Any]) -> dict[str, str]:
    """A failing HTTP response as an evidence reference: status, a few telling headers and the
    start of the body, as stored (the report escapes it; the row holds all of it)."""
    try:
        d = json.loads(row["detail"]) if row.get("detail") else {}
    except ValueError:
        d = {}
    headers = {str(k).lower(): v for k, v in (d.get("headers") or {}).items()}
    shown = "; ".join(f"{k}: {headers[k]}" for k in ("server", "via", "retry-after", "content-type") if k in headers)
    body = " ".join(str(d.get("body_head") or "").split())
    if len(body) > 200:
        body = body[:200] + "…"
    status = row.get("status") or d.get("status")
    text = f"{'HTTP ' + str(status) if status else row.get('error_class') or 'failed'} at {iso(row['ts_us'])}"
    if row.get("error"):
        text += f" ({row['error']})"
    if shown:
        text += f"; headers {shown}"
    if body:
        text += f"; body: {body}"
    return {"type": "http_response", "ref": f"row {row['id']}", "summary": text + f"; row sha256 {bytes(row['hash']).hex()[:16]}…"}


# -- SLA --------------------------------------------------------------------------------
def sla_result(settings: Settings, store: Store, t: Target, start: datetime, end: datetime, now: datetime,
               analysis: TargetAnalysis | None = None) -> Any:
    """The provider's SLA evaluated over [start, end), or None when the target has no sla section.

    Spans reach an hour past both edges (``spans_wide``), so an outage that
    crosses the period's edge is judged whole by minimum-duration rules.
    """
    if not t.sla:
        return None
    from reports.sla import evaluate
    from reports.sla_terms import resolve

    definition = resolve(dict(t.sla))
    res = analysis if analysis is not None else analyse(settings, store, start, end, [t.name]).results[t.name]
    samples: Iterable[Any] = ()
    if definition.performance:
        tc = target_checks(store, [t.name])[t.name]
        samples = perf_samples(store, tc, to_us(start), to_us(end), res.spans_wide,
                               {p.metric for p in definition.performance})
    return evaluate(definition, res.spans_wide, period_start=start, period_end=end, samples=samples,
                    monthly_fee=Decimal(str(t.monthly_fee)) if t.monthly_fee is not None else None,
                    currency=t.currency, now=now, target=t.name)


PERF_METHOD = (
    "Performance samples: latency (rtt_ms) is each successful round's RTT of the target's latency check (ICMP, "
    "else TCP connect, else HTTP); packet loss (loss_pct) is each ICMP round's lost share of its echo requests, "
    "outages included; jitter (jitter_ms) is the round's RTT standard deviation when it sent several requests, "
    "else the absolute difference between consecutive rounds' RTTs (IPDV, RFC 3393); bandwidth (bandwidth_mbps) "
    "is each successful bandwidth test's mean after warm-up. Samples taken while the control targets were also "
    "failing (local) are left out; agent-side failures and budget-skipped tests are never samples."
)


class _IntervalCursor:
    """Whether times, asked in increasing order, fall in sorted disjoint [start, end) intervals."""

    def __init__(self, intervals: Sequence[tuple[int, int]]) -> None:
        self.iv, self.i = intervals, 0

    def __call__(self, ts: int) -> bool:
        while self.i < len(self.iv) and self.iv[self.i][1] <= ts:
            self.i += 1
        return self.i < len(self.iv) and self.iv[self.i][0] <= ts


def perf_samples(store: Store, tc: TargetChecks, start_us: int, end_us: int, spans: Sequence[Span],
                 metrics: set[str]) -> Iterator[Any]:
    """The samples an SLA's performance terms are measured on, streamed from the store (see PERF_METHOD)."""
    from reports.sla import PerfSample

    local = [(to_us(sp.start), to_us(sp.end)) for sp in spans if sp.state == State.LOCAL]
    kind = latency_kind(tc)
    if metrics & {"rtt_ms", "jitter_ms"} and kind is not None:
        in_local = _IntervalCursor(local)
        prev: float | None = None
        for ts, ok, rtt_ns, sent, received, jitter_ns, ec in store.iter_perf_rows(tc.of_kind(kind), start_us, end_us):
            if ec in AGENT_SIDE or in_local(ts):
                continue
            if not ok or rtt_ns is None:
                prev = None
                continue
            when, rtt = from_us(ts), rtt_ns / 1e6
            if "rtt_ms" in metrics:
                yield PerfSample(when, "rtt_ms", rtt)
            if "jitter_ms" in metrics:
                if jitter_ns is not None and (received or 0) > 1:
                    yield PerfSample(when, "jitter_ms", jitter_ns / 1e6)
                elif (received or 0) <= 1 and prev is not None:
                    yield PerfSample(when, "jitter_ms", abs(rtt - prev))
            prev = rtt
    if "loss_pct" in metrics and tc.of_kind("icmp"):
        in_local = _IntervalCursor(local)
        for ts, ok, rtt_ns, sent, received, jitter_ns, ec in store.iter_perf_rows(tc.of_kind("icmp"), start_us, end_us):
            if ec in AGENT_SIDE or not sent or in_local(ts):
                continue
            yield PerfSample(from_us(ts), "loss_pct", 100.0 * (sent - (received or 0)) / sent)
    if "bandwidth_mbps" in metrics and tc.of_kind("bandwidth"):
        for ts, ok, ec, detail in store.iter_detail_rows(tc.of_kind("bandwidth"), start_us, end_us):
            if not ok or ec in AGENT_SIDE or not detail:
                continue
            try:
                mbps = json.loads(detail).get("mbps_mean")
            except ValueError:
                continue
            if isinstance(mbps, (int, float)):
                yield PerfSample(from_us(ts), "bandwidth_mbps", float(mbps))


MAX_LISTED_TESTS = 200


def bandwidth_summary(store: Store, tc: TargetChecks, start_us: int, end_us: int) -> dict[str, Any] | None:
    """The target's bandwidth tests in the period: counts, per-direction statistics of the
    tests' means (nearest rank), and the tests themselves (the first 200; all are in the CSV).
    Failed tests are listed with their error, budget-skipped ones counted apart: neither is a
    throughput figure."""
    ids = tc.of_kind("bandwidth")
    if not ids:
        return None
    counts = {"tests": 0, "ok": 0, "failed": 0, "skipped": 0}
    values: dict[str, list[float]] = {}
    listed: list[dict[str, Any]] = []
    for ts, ok, ec, detail in store.iter_detail_rows(ids, start_us, end_us):
        counts["tests"] += 1
        try:
            d = json.loads(detail) if detail else {}
        except ValueError:
            d = {}
        direction = str(d.get("direction") or "download")
        mbps = d.get("mbps_mean")
        if ec == R.SKIPPED:
            counts["skipped"] += 1
        elif ok and isinstance(mbps, (int, float)):
            counts["ok"] += 1
            values.setdefault(direction, []).append(float(mbps))
        else:
            counts["failed"] += 1
        if len(listed) < MAX_LISTED_TESTS:
            listed.append({"ts": iso(ts), "direction": direction, "ok": bool(ok), "mbps_mean": mbps,
                           "bytes_total": d.get("bytes_total"), "error_class": ec})
    stats = {}
    for direction, v in sorted(values.items()):
        v.sort()

        def rank(q: int, v: list[float] = v) -> float:  # nearest rank
            return v[max(0, -(-len(v) * q // 100) - 1)]

        stats[direction] = {"count": len(v), "mean_mbps": sum(v) / len(v), "min_mbps": v[0], "p10_mbps": rank(10),
                            "p50_mbps": rank(50), "p90_mbps": rank(90), "max_mbps": v[-1]}
    return {**counts, "by_direction": stats, "listed": listed, "listed_all": counts["tests"] <= MAX_LISTED_TESTS}


# -- the summary --------------------------------------------------------------------------
METHODS_EN = (
    "Each target is probed on a fixed schedule: round k is due at a phase derived from the target's name plus k "
    "intervals from the Unix epoch; every stored row carries its start time (UTC, microseconds, from the system "
    "clock) and its lag behind the scheduled time. ICMP round-trip times come from kernel receive timestamps on "
    "one shared socket; TCP is the connect time; HTTP(S) is the time to the end of the capped body read.\n\n"
    "A round is down when every check failed, partial when some did, degraded when all answered but latency or "
    "loss stayed past the thresholds for the sustain window. An incident opens after the stated number of "
    "consecutive failed rounds and is dated to the first failed round; its minimum and maximum durations come "
    "from the last good round before and the first good round after. Incidents closer than the merge gap are one "
    "incident.\n\n"
    "Time when the agent was not running, or when rounds are missing for more than twice the interval, is "
    "'no data': neither up nor down, and excluded from availability. When the control targets failed in the same "
    "rounds, the time is 'local' (the agent's own network) and is not counted against the provider. Failures on "
    "the agent's side (a probe error, a missing permission, a check skipped by the traffic budget) are recorded "
    "but never counted for or against the provider.\n\n"
    "Availability = (observed time − outage time) / observed time, where observed time is the period less no-data "
    "and local time. Latency percentiles are nearest-rank over the successful checks of the target's first latency "
    "check kind (ICMP, else TCP, else HTTP), from a 1 µs histogram. Loss is lost replies / sent requests over all "
    "ICMP checks. Every row is SHA-256 hash-chained; manifest.json names the chain head at the end of the period.\n\n"
    "Bandwidth tests run on their own long interval and never decide availability: each moves data over N parallel "
    "TCP streams (or runs iperf3), discards a warm-up, and reports the mean throughput of the rest; the report gives "
    "per-direction statistics of those means, and lists failed tests. " + PERF_METHOD
)
METHODS_ZH = (
    "每个目标按固定时间表探测：第 k 轮的计划时间为由目标名称导出的相位加上自 Unix 纪元起的 k 个间隔；每条记录都保存开始时间"
    "（UTC，精确到微秒，取自系统时钟）及其相对计划时间的延迟。ICMP 往返时间取自同一共享套接字上的内核接收时间戳；TCP 为建立连接的时间；"
    "HTTP(S) 为读取（有上限的）响应体结束时的时间。\n\n"
    "一轮中所有检查都失败即为中断，部分失败即为部分故障，全部应答但延迟或丢包在持续窗口内超过阈值即为性能下降。连续失败达到规定轮数后"
    "开启事件，事件起点记为第一轮失败的时间；最短与最长持续时间由失败前最后一次成功和恢复后第一次成功的轮次确定。间隔小于合并间隙的事件"
    "合并为一个。\n\n"
    "代理未运行或缺失轮次超过两个间隔的时间记为“无数据”：既不算正常也不算中断，不计入可用率。控制目标在同一轮次也失败时，该时间记为"
    "“本地故障”（代理自身网络），不计入服务商的停机时间。代理自身的故障（探测程序错误、缺少权限、因流量预算跳过的检查）会被记录，"
    "但不计入服务商的责任。\n\n"
    "可用率 =（观测时间 − 中断时间）/ 观测时间，观测时间为周期减去无数据和本地故障时间。延迟百分位数按最近秩法，取目标第一种延迟检查"
    "（ICMP，否则 TCP，否则 HTTP）的成功检查，基于 1 微秒直方图。丢包率为全部 ICMP 检查中丢失的应答数除以发送的请求数。每条记录都以"
    " SHA-256 串成哈希链；manifest.json 写明周期结束时的链头。\n\n"
    "带宽测试按各自较长的间隔运行，不参与可用率判定：每次通过 N 条并行 TCP 流传输数据（或运行 iperf3），丢弃预热阶段，报告其余部分的"
    "平均吞吐量；报告按方向给出这些平均值的统计，并列出失败的测试。SLA 性能条款的样本：延迟为目标延迟检查每轮成功的 RTT；丢包为每轮"
    " ICMP 请求的丢失比例（含中断）；抖动为多请求轮次的 RTT 标准差，单请求轮次则为相邻成功轮次 RTT 之差的绝对值（IPDV，RFC 3393）；"
    "带宽为每次成功测试的平均值。控制目标同时失败（本地故障）期间的样本及代理自身的故障不计为样本。"
)


def _clock_text() -> str:
    synced = Path("/run/systemd/timesync/synchronized").exists()
    return ("system clock (CLOCK_REALTIME), stored as UTC; "
            + ("systemd-timesyncd reports it synchronised" if synced else "NTP synchronisation state not recorded by the agent; check chrony/timesyncd on the host"))


@dataclass
class Built:
    summary: dict[str, Any]
    series: dict[str, Any]
    analysis: Analysis


def build_summary(settings: Settings, store: Store, an: Analysis, *, lang: str, now: datetime, with_series: bool = True) -> Built:
    from reports.render_input import TargetSeries

    a_us, b_us = to_us(an.start), to_us(an.end)
    info = store.agent_info(an.agent_uuid) if an.agent_uuid else None
    notes: list[str] = []
    targets_out: list[dict[str, Any]] = []
    series: dict[str, Any] = {}
    for idx, t in enumerate(an.targets, 1):
        res = an.results[t.name]
        tc = an.checks[t.name]
        fig = an.figures[t.name]
        kind = latency_kind(tc)
        lat = latency_from_histogram(fig.hist_us)
        hist = [(us / 1000.0, n) for us, n in fig.hist_us]
        sent, received, rows = fig.sent, fig.received, fig.rows
        refs = evidence_refs(store, store_target_id(store, t.name), res, settings.interval_of(t), settings.agent.open_after,
                             tc.of_kind("http"))
        incidents = []
        for i, inc in enumerate(res.incidents):
            j = inc.to_json(f"T{idx}-{i + 1}")
            j["evidence"] = refs.get(i, [])
            incidents.append(j)
        entry: dict[str, Any] = {
            "name": t.name, "address": t.address, "provider": t.provider or "", "control": t.control,
            "interval_s": settings.interval_of(t),
            "availability_pct": res.availability_pct, "downtime_s": res.downtime_s, "coverage_pct": res.coverage_pct,
            "local_s": res.local_s, "no_data_s": res.no_data_s, "partial_s": res.partial_s, "degraded_s": res.degraded_s,
            "latency_ms": lat, "latency_source": kind,
            "loss_pct": None if not sent else 100.0 * (sent - received) / sent,
            "rows": rows, "incidents": incidents,
            "blips": res.blips, "rounds": res.rounds, "rounds_failed": res.rounds_failed,
        }
        bw = bandwidth_summary(store, tc, to_us(an.start), to_us(an.end))
        if bw is not None:
            entry["bandwidth"] = bw
        sla = sla_result(settings, store, t, an.start, an.end, now, res)
        if sla is not None:
            entry["sla"] = sla.to_json()
        targets_out.append(entry)
        if with_series:
            bands = [(inc.start, inc.end, inc.kind_name) for inc in res.incidents]
            bands += [(s.start, s.end, "no_data") for s in res.spans if s.state is State.NO_DATA]
            bands += [(s.start, s.end, "local") for s in res.spans if s.state is State.LOCAL and not any(i.kind is State.LOCAL for i in res.incidents)]
            series[t.name] = TargetSeries(latency=[(from_us(b), m, lo) for b, m, lo in fig.series],
                                          latency_hist=rebin(hist), daily=[d.as_tuple() for d in res.daily], bands=bands)
        if res.no_data_s > 0:
            notes.append(f"{t.name}: {res.no_data_s:.0f} s of the period has no data (agent not running or rounds missing); "
                         "that time is neither up nor down.")
    runs = store.runs_between(a_us, b_us, an.agent_uuid)
    unclean = [r for r in runs if r["stop"] == "unclean"]
    if unclean:
        notes.append(f"{len(unclean)} agent run(s) in the period ended without a clean stop (crash, kill or power loss); "
                     "their time after the last heartbeat is counted as no data.")
    summary: dict[str, Any] = {
        "schema": "slaproof.report/1",
        "generated_at": iso(to_us(now)),
        "lang": lang,
        "period": {"from": iso(a_us), "to": iso(b_us), "timezone": an.tz.key},
        "agent": {"id": an.agent_uuid or "unknown", "host": (info or {}).get("hostname") or socket.gethostname(),
                  "vantage": settings.agent.vantage or "", "network": settings.agent.network or "", "version": VERSION},
        "methods": {
            "probes": [{"target": t.name, "kind": c.kind, "interval_s": (c.interval_s if isinstance(c, BandwidthCheck) else settings.interval_of(t)),
                        "settings": _public_settings(c)} for t in an.targets for c in t.checks],
            "thresholds": {t.name: {"rtt_ms_max": t.thresholds.rtt_ms_max, "loss_pct_max": t.thresholds.loss_pct_max,
                                    "sustain_s": t.thresholds.sustain_s} for t in an.targets
                           if t.thresholds.rtt_ms_max is not None or t.thresholds.loss_pct_max is not None},
            "control_targets": [t.name for t in settings.targets if t.control],
            "clock": _clock_text(),
            "open_after": settings.agent.open_after,
            "merge_gap_s": policy_for(settings, an.targets[0]).merge_gap if an.targets else None,
            "gap_rule": "rounds missing for more than 2 intervals, and time outside the agent's runs, are 'no data'; "
                        "time when every control target failed is 'local' and not the provider's downtime",
            "text_en": METHODS_EN,
            "text_zh": METHODS_ZH,
        },
        "targets": targets_out,
        "notes": notes,
    }
    return Built(summary, series, an)


def _public_settings(c: Any) -> dict[str, Any]:
    d = c.model_dump(mode="json")
    d.pop("kind", None)
    if d.get("token"):
        d["token"] = "(set)"
    return d


def store_target_id(store: Store, name: str) -> int:
    for t in store.target_rows():
        if t["name"] == name:
            return int(t["id"])
    return -1


# -- the bundle ----------------------------------------------------------------------------
FORMATS = ("pdf", "html", "csv", "json")


def parse_formats(text: str) -> list[str]:
    fmts = [f.strip().lower() for f in text.split(",") if f.strip()]
    bad = [f for f in fmts if f not in FORMATS]
    if bad or not fmts:
        raise UsageError(f"--format {text!r}: use a comma-separated list of {', '.join(FORMATS)}")
    return fmts


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def write_bundle(settings: Settings, store: Store, start: datetime, end: datetime, names: Sequence[str] | None,
                 formats: Sequence[str], lang: str, out: Path, *, now: datetime | None = None,
                 progress: ProgressFn | None = None) -> dict[str, Any]:
    """Write the report files into ``out``; returns the manifest."""
    now = now or datetime.now(UTC)
    chosen = select_targets(settings, names)
    names = [t.name for t in chosen]
    checks = target_checks(store, names)
    if not store.has_rows([i for tc in checks.values() for i in tc.ids], to_us(start), to_us(end)):
        raise UsageError(f"no measurements of {', '.join(names)} between {start.isoformat()} and {end.isoformat()}: "
                         "the period is empty (check --from/--to, the time zone, and that the agent was running)")
    out.mkdir(parents=True, exist_ok=True)
    files: list[str] = []
    notes: list[str] = []
    csv_job = None
    if "csv" in formats:
        # The raw rows are written by a second process while this one analyses and renders.
        csv_job = start_csv(store, [i for tc in checks.values() for i in tc.ids], to_us(start), to_us(end), out / "measurements.csv")
    visual = [f for f in ("pdf", "html") if f in formats]
    # Charts and documents are drawn by a second process that loads matplotlib and reportlab
    # while this one analyses.
    renderer = Renderer(visual, lang, out) if visual else None
    try:
        an = analyse(settings, store, start, end, names, progress=progress)
        built = build_summary(settings, store, an, lang=lang, now=now, with_series=bool(visual))
    except BaseException:
        if renderer is not None:
            renderer.cancel()
        raise
    if "json" in formats:
        (out / "summary.json").write_text(json.dumps(built.summary, ensure_ascii=False, indent=2, default=str), encoding="utf-8")
        files.append("summary.json")
    if renderer is not None:
        if progress:
            progress("charts, report.pdf, report.html")
        notes += renderer.render(built.summary, built.series)
        files += [f for f in ("report.pdf", "report.html") if f.split(".")[1] in formats]
    if csv_job is not None:
        if progress:
            progress("measurements.csv")
        finish_csv(csv_job)
        files.insert(1 if "json" in formats else 0, "measurements.csv")
    head_id, head_hash = store.chain_head_before(an.agent_uuid, to_us(end)) if an.agent_uuid else (None, None)
    manifest = {
        "schema": "slaproof.manifest/1",
        "files": {f: {"sha256": sha256_file(out / f), "bytes": (out / f).stat().st_size} for f in files},
        "rows_used": an.rows_used,
        "chain_head": {"row_id": head_id, "hash": head_hash, "agent": an.agent_uuid},
        "period": built.summary["period"],
        "generated_at": built.summary["generated_at"],
        "notes": sorted(set(notes)),
    }
    (out / "manifest.json").write_text(json.dumps(manifest, ensure_ascii=False, indent=2), encoding="utf-8")
    return manifest


def _render(formats: Sequence[str], lang: str, out: Path, summary: Any, series: Any) -> list[str]:
    from reports.charts import make_charts
    from reports.render_html import render_html
    from reports.render_pdf import render_pdf

    charts = make_charts(summary, series, lang)
    notes: list[str] = []
    if "pdf" in formats:
        notes += render_pdf(summary, series, out / "report.pdf", lang=lang, charts=charts)
    if "html" in formats:
        notes += render_html(summary, series, out / "report.html", lang=lang, charts=charts)
    return notes


def _render_child(conn: Any, formats: list[str], lang: str, out: str) -> None:
    try:
        import reports.charts  # noqa: F401 - the point: load these while the parent analyses
        import reports.render_html  # noqa: F401
        from reports.fonts import discover_fonts
        from reports.render_pdf import PdfFonts

        PdfFonts(discover_fonts(), False)  # registers the fonts once (reportlab keeps them)
        job = conn.recv()
        if job is None:
            return
        conn.send(("ok", _render(formats, lang, Path(out), *job)))
    except BaseException as e:  # noqa: BLE001 - reported by the parent
        import traceback

        try:
            conn.send(("error", f"{type(e).__name__}: {e}\n{traceback.format_exc()}"))
        except OSError:
            pass


class Renderer:
    """report.pdf and report.html drawn in a forked process (inline where fork is unavailable)."""

    def __init__(self, formats: Sequence[str], lang: str, out: Path) -> None:
        import multiprocessing as mp

        self.formats, self.lang, self.out = list(formats), lang, out
        self.proc: Any = None
        if "fork" in mp.get_all_start_methods():
            self.conn, child = mp.get_context("fork").Pipe()
            self.proc = mp.get_context("fork").Process(target=_render_child, args=(child, self.formats, lang, str(out)), daemon=True)
            self.proc.start()
            child.close()

    def render(self, summary: Any, series: Any) -> list[str]:
        if self.proc is None:
            return _render(self.formats, self.lang, self.out, summary, series)
        try:
            self.conn.send((summary, series))
            status, value = self.conn.recv()
        except (EOFError, OSError) as e:
            raise SlaproofError(f"the process drawing report.pdf/report.html ended early (exit {self.proc.exitcode}): {e}; "
                                "no manifest was written; the measurements are untouched") from e
        finally:
            self.proc.join(timeout=30)
        if status != "ok":
            import logging

            logging.getLogger(__name__).debug("renderer failure:\n%s", value)
            raise SlaproofError(f"drawing report.pdf/report.html failed: {str(value).splitlines()[0]} "
                                "(SLAPROOF_AGENT__LOG_LEVEL=DEBUG shows where); no manifest was written; the measurements are untouched")
        return list(value)

    def cancel(self) -> None:
        if self.proc is not None and self.proc.is_alive():
            try:
                self.conn.send(None)
            except OSError:
                pass
            self.proc.join(timeout=5)
            if self.proc.is_alive():
                self.proc.kill()


def _csv_child(url: str, check_ids: list[int], a_us: int, b_us: int, path: str) -> None:
    store = Store.open(url, migrate=False)
    try:
        write_measurements_csv(store, check_ids, a_us, b_us, Path(path))
    finally:
        store.close()


def start_csv(store: Store, check_ids: list[int], a_us: int, b_us: int, path: Path) -> Any:
    """Write measurements.csv in a forked process (a second core); inline where fork is unavailable."""
    import multiprocessing as mp

    if "fork" not in mp.get_all_start_methods():
        write_measurements_csv(store, check_ids, a_us, b_us, path)
        return None
    proc = mp.get_context("fork").Process(target=_csv_child, args=(store.raw_url, check_ids, a_us, b_us, str(path)), daemon=True)
    proc.start()
    return proc


def finish_csv(proc: Any) -> None:
    if proc is None:
        return
    proc.join()
    if proc.exitcode != 0:
        raise UsageError(f"writing measurements.csv failed (exit {proc.exitcode}); see the messages above")


def write_measurements_csv(store: Store, check_ids: list[int], a_us: int, b_us: int, path: Path) -> int:
    from agent.exchange import write_csv_export

    with path.open("w", encoding="utf-8", newline="") as fh:
        return write_csv_export(fh, store, check_ids, a_us, b_us)


def month_bounds(month: str, tz: ZoneInfo) -> tuple[datetime, datetime]:
    from agent.dates import parse_month

    return parse_month(month, tz)


def today_in(tz: ZoneInfo, now: datetime | None = None) -> date:
    return (now or datetime.now(UTC)).astimezone(tz).date()
