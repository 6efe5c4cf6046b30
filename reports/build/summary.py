"""The report's figures: reads the store (streaming), calls the pure analysis, builds summary.json.

This module orchestrates; the figures come from reports/ (pure functions), the rows
from agent/store/database.py (the only SQL) through reports/build/rounds.py and reports/build/samples.py. Every
figure built here can be traced to stored rows. reports/build/bundle.py writes the files.
"""

from __future__ import annotations

import json
import socket
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from agent import identity
from agent.config import BandwidthCheck, Settings, Target
from agent.core.errors import UsageError
from agent.core.secrets import mask_settings
from reports.build.rounds import TargetChecks, latency_kind, rounds_for, target_checks
from agent.core.times import from_us, iso, to_us
from reports.build.samples import PERF_METHOD, bandwidth_summary, local_intervals, perf_samples
from agent.store import Store
from agent.version import VERSION
from reports.analysis.incidents import (
    IncidentPolicy,
    TargetAnalysis,
    agent_down_stretches,
    analyse_target,
    control_down_intervals,
)
from reports.analysis.model import AgentRun, State
from reports.analysis.stats import LatencyStats

UTC = timezone.utc
MARGIN = timedelta(hours=1)  # rounds read beyond the period so edges are judged with context
ProgressFn = Callable[[str], None]


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
               analysis: TargetAnalysis | None = None, checks: TargetChecks | None = None) -> Any:
    """The provider's SLA evaluated over [start, end), or None when the target has no sla section.

    Spans reach an hour past both edges (``spans_wide``), so an outage that
    crosses the period's edge is judged whole by minimum-duration rules.
    """
    if not t.sla:
        return None
    from reports.analysis.sla import evaluate
    from reports.presets import resolve

    definition = resolve(dict(t.sla))
    res = analysis if analysis is not None else analyse(settings, store, start, end, [t.name]).results[t.name]
    samples: Iterable[Any] = ()
    if definition.performance:
        tc = checks if checks is not None else target_checks(store, [t.name])[t.name]
        samples = perf_samples(store, tc, to_us(start), to_us(end), res.spans_wide,
                               {p.metric for p in definition.performance})
    return evaluate(definition, res.spans_wide, period_start=start, period_end=end, samples=samples,
                    monthly_fee=Decimal(str(t.monthly_fee)) if t.monthly_fee is not None else None,
                    currency=t.currency, now=now, target=t.name)


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
    from reports.render.inputs import TargetSeries

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
        bw = bandwidth_summary(store, tc, to_us(an.start), to_us(an.end), local_intervals(res.spans_wide))
        if bw is not None:
            entry["bandwidth"] = bw
        sla = sla_result(settings, store, t, an.start, an.end, now, res, tc)
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
