"""What SLA performance terms and the report's bandwidth section are measured on: samples
streamed from the store, with the method stated (PERF_METHOD) and local time left out."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

from reports.build.rounds import AGENT_SIDE, TargetChecks, latency_kind
from agent.core.units import loss_pct
from agent.core.times import from_us, iso, to_us
from agent.store import Store
from agent.core import result as R
from probes.bandwidth import MISSING_TOOL
from reports.analysis.model import Span, State
from reports.analysis.sla_perf import PerfSample

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


def local_intervals(spans: Sequence[Span]) -> list[tuple[int, int]]:
    """[start, end) µs of the spans where the agent's own network was down (sorted, as spans are)."""
    return [(to_us(sp.start), to_us(sp.end)) for sp in spans if sp.state is State.LOCAL]


def perf_samples(store: Store, tc: TargetChecks, start_us: int, end_us: int, spans: Sequence[Span],
                 metrics: set[str]) -> Iterator[PerfSample]:
    """The samples an SLA's performance terms are measured on, streamed from the store (see PERF_METHOD).

    Latency and jitter come from the latency check's rows, loss from the ICMP rows: one pass
    when they are the same rows (an ICMP latency check), two otherwise."""
    local = local_intervals(spans)
    for ids, latency, loss in _round_passes(tc, metrics):
        rows = store.iter_perf_rows(ids, start_us, end_us)
        yield from _round_samples(rows, _IntervalCursor(local), metrics, latency=latency, loss=loss)
    if "bandwidth_mbps" in metrics and tc.of_kind("bandwidth"):
        rows = store.iter_detail_rows(tc.of_kind("bandwidth"), start_us, end_us)
        yield from _bandwidth_samples(rows, _IntervalCursor(local))


def _round_passes(tc: TargetChecks, metrics: set[str]) -> list[tuple[list[int], bool, bool]]:
    """(check ids, yields latency and jitter, yields loss) per pass over the store's rows."""
    kind = latency_kind(tc)
    lat_ids = tc.of_kind(kind) if kind is not None and metrics & {"rtt_ms", "jitter_ms"} else []
    loss_ids = tc.of_kind("icmp") if "loss_pct" in metrics else []
    passes = [(lat_ids, True, lat_ids == loss_ids)] if lat_ids else []
    if loss_ids and loss_ids != lat_ids:
        passes.append((loss_ids, False, True))
    return passes


def _round_samples(rows: Iterable[tuple[Any, ...]], in_local: _IntervalCursor, metrics: set[str], *,
                   latency: bool, loss: bool) -> Iterator[PerfSample]:
    """Loss, latency and jitter samples of probe rounds, skipping agent-side failures and local time."""
    prev: float | None = None  # the previous successful round's RTT, for IPDV jitter
    for ts, ok, rtt_ns, sent, received, jitter_ns, ec in rows:
        if ec in AGENT_SIDE or in_local(ts):
            continue
        when = from_us(ts)
        if loss and sent:
            yield PerfSample(when, "loss_pct", loss_pct(sent, received or 0) or 0.0)
        if not latency:
            continue
        if not ok or rtt_ns is None:
            prev = None
            continue
        rtt = rtt_ns / 1e6
        if "rtt_ms" in metrics:
            yield PerfSample(when, "rtt_ms", rtt)
        jitter = _jitter_ms(jitter_ns, received or 0, rtt, prev) if "jitter_ms" in metrics else None
        if jitter is not None:
            yield PerfSample(when, "jitter_ms", jitter)
        prev = rtt


def _jitter_ms(jitter_ns: int | None, received: int, rtt: float, prev: float | None) -> float | None:
    """The round's own RTT deviation when it had several replies, else IPDV against the previous round."""
    if jitter_ns is not None and received > 1:
        return jitter_ns / 1e6
    if received <= 1 and prev is not None:
        return abs(rtt - prev)
    return None


def _bandwidth_samples(rows: Iterable[tuple[Any, ...]], in_local: _IntervalCursor) -> Iterator[PerfSample]:
    """Each successful bandwidth test's mean, outside agent-side failures and local time."""
    for ts, ok, ec, detail in rows:
        if not ok or ec in AGENT_SIDE or not detail or in_local(ts):
            continue
        try:
            mbps = json.loads(detail).get("mbps_mean")
        except ValueError:
            continue
        if isinstance(mbps, (int, float)):
            yield PerfSample(from_us(ts), "bandwidth_mbps", float(mbps))


MAX_LISTED_TESTS = 200


def bandwidth_summary(store: Store, tc: TargetChecks, start_us: int, end_us: int,
                      local: Sequence[tuple[int, int]] = ()) -> dict[str, Any] | None:
    """The target's bandwidth tests in the period: counts, per-direction statistics of the
    tests' means (nearest rank), and the tests themselves (the first 200; all are in the CSV).

    Only measured tests outside local time make the statistics. Failed tests are listed with
    their error; tests skipped by the budget, failed on the agent's side (internal, permission,
    iperf3 missing), or run while the control targets were failing too (``local``: sorted
    [start, end) µs) are counted apart: none of them says anything about the provider."""
    ids = tc.of_kind("bandwidth")
    if not ids:
        return None
    counts = {"tests": 0, "ok": 0, "failed": 0, "skipped": 0, "agent_side": 0, "local": 0}
    values: dict[str, list[float]] = {}
    listed: list[dict[str, Any]] = []
    in_local = _IntervalCursor(local)
    for ts, ok, ec, detail in store.iter_detail_rows(ids, start_us, end_us):
        counts["tests"] += 1
        try:
            d = json.loads(detail) if detail else {}
        except ValueError:
            d = {}
        direction = str(d.get("direction") or "download")
        mbps = d.get("mbps_mean")
        where = "ok"
        if ec == R.SKIPPED:
            where = "skipped"
        elif ec in AGENT_SIDE or ec == MISSING_TOOL:
            where = "agent_side"
        elif in_local(ts):
            where = "local"
        elif ok and isinstance(mbps, (int, float)):
            values.setdefault(direction, []).append(float(mbps))
        else:
            where = "failed"
        counts[where] += 1
        if len(listed) < MAX_LISTED_TESTS:
            listed.append({"ts": iso(ts), "direction": direction, "ok": bool(ok), "mbps_mean": mbps,
                           "bytes_total": d.get("bytes_total"), "error_class": ec, "counted_as": where})
    stats = {}
    for direction, v in sorted(values.items()):
        v.sort()

        def rank(q: int, v: list[float] = v) -> float:  # nearest rank
            return v[max(0, -(-len(v) * q // 100) - 1)]

        stats[direction] = {"count": len(v), "mean_mbps": sum(v) / len(v), "min_mbps": v[0], "p10_mbps": rank(10),
                            "p50_mbps": rank(50), "p90_mbps": rank(90), "max_mbps": v[-1]}
    return {**counts, "by_direction": stats, "listed": listed, "listed_all": counts["tests"] <= MAX_LISTED_TESTS}
