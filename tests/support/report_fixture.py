"""A realistic report input: one week, two provider targets and a control target.

Deterministic (seeded). It holds what the renderers must cope with: an
outage at a known moment, an incident clipped at the period start, one that
continued past the end, a degraded and a partial stretch, a local-network band, a
whole display-zone day without data, an SLA section with unconfirmed terms,
a control target without series, and markup in names and evidence texts.
It is a report model (reports/render/model.py), built as report building builds one.
"""

from __future__ import annotations

import math
import random
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from reports.render.model import (
    AgentInfo,
    BandKind,
    BandwidthSection,
    BandwidthStats,
    BandwidthTest,
    CreditTier,
    EndBounds,
    EvidenceRef,
    HttpResponse,
    IncidentCard,
    IncidentEntry,
    IncidentKind,
    LatencyFigures,
    Methods,
    Period,
    ProbeMethod,
    Report,
    RoundCheck,
    SlaFieldUse,
    SlaOutage,
    SlaSection,
    SlaTerm,
    StartBounds,
    TargetReport,
    TargetSeries,
    Thresholds,
    TraceHop,
    Traceroute,
    Verdict,
    report_lang,
)
from reports.render.smokeping import SmokeBucket, quantiles

ZONE = ZoneInfo("Asia/Shanghai")
UTC = UTC
PERIOD_FROM = datetime(2026, 10, 31, 16, 0, tzinfo=UTC)  # 2026-11-01 00:00 CST
PERIOD_TO = datetime(2026, 11, 7, 16, 0, tzinfo=UTC)  # 2026-11-08 00:00 CST
GENERATED_AT = datetime(2026, 11, 8, 1, 2, 3, 456789, tzinfo=UTC)

EVIL_NAME = '<script>alert("x")</script> & co'
HTTP_NAME = "api-https"
CONTROL_NAME = "gateway-control"

# What the tests look for in the rendered output.
OUTAGE_START_LOCAL = "2026-11-03 10:00:00 CST"
OUTAGE_START_UTC = "02:00:00 UTC"
OUTAGE_DURATION_WORDS = "47 min 10 s"
OUTAGE_DURATION_S = 2830
NO_DATA_DAY = date(2026, 11, 5)
LOCAL_START = datetime(2026, 11, 6, 12, 0, tzinfo=UTC)
LOCAL_END = datetime(2026, 11, 6, 12, 20, tzinfo=UTC)
METHODS_TEXT_EN = (
    "Each target was checked at its interval from one agent. A round failed when every check "
    "of the round failed. Periods in which the agent was not running are reported as no data "
    "and are not counted as available. When the control targets failed at the same time, the "
    "period is attributed to the local network and not to the provider."
)
METHODS_TEXT_ZH = (
    "每个目标由同一代理按其间隔检测。一轮中所有检测都失败时，该轮判为失败。代理未运行的时段报告为无数据，"
    "不计为可用。对照目标同时失败时，该时段归因于本地网络，而非服务商。"
)
SLA_UNCONFIRMED = ["credit.tiers", "claim.anchor"]


def _no_data_span() -> tuple[datetime, datetime]:
    start = datetime(NO_DATA_DAY.year, NO_DATA_DAY.month, NO_DATA_DAY.day, tzinfo=ZONE).astimezone(UTC)
    return start, start + timedelta(days=1)


def _incident(
    iid: str,
    kind: IncidentKind,
    start: datetime,
    end: datetime,
    *,
    slack_s: float = 10.0,
    clipped_start: bool = False,
    clipped_end: bool = False,
    errors: dict[str, int] | None = None,
    evidence: list[EvidenceRef] | None = None,
) -> IncidentEntry:
    dur = (end - start).total_seconds()
    slack = timedelta(seconds=slack_s)
    return IncidentEntry(
        id=iid, kind=kind, state="down" if kind == "outage" else kind, start=start, end=end,
        duration_s=dur, duration_min_s=max(dur - slack_s, 0.0), duration_max_s=dur + slack_s, counted_s=dur,
        start_bounds=StartBounds(last_good_before=start - slack, first_failed=start),
        end_bounds=EndBounds(last_failed=end - slack, first_good_after=None if clipped_end else end),
        start_bound="observed", end_bound="observed",
        rounds_failed=sum((errors or {}).values()), rounds_good_inside=0, error_classes=errors or {},
        first_row_id=None, last_row_id=None, clipped_start=clipped_start, clipped_end=clipped_end,
        evidence=tuple(evidence or ()),
    )


def _ev(kind: str, ref: str, summary: str) -> EvidenceRef:
    return EvidenceRef(type=kind, ref=ref, summary=summary)


def _latency_series(
    rng: random.Random,
    base_ms: float,
    step: timedelta,
    down: list[tuple[datetime, datetime]],
    slow: list[tuple[datetime, datetime]],
    lossy: list[tuple[datetime, datetime]],
    absent: list[tuple[datetime, datetime]],
) -> list[tuple[datetime, float | None, float | None]]:
    def inside(t: datetime, spans: list[tuple[datetime, datetime]]) -> bool:
        return any(a <= t < b for a, b in spans)

    points: list[tuple[datetime, float | None, float | None]] = []
    t = PERIOD_FROM
    while t < PERIOD_TO:
        if inside(t, absent):
            pass
        elif inside(t, down):
            points.append((t, None, 100.0))
        else:
            hour = t.astimezone(ZONE).hour + t.minute / 60
            diurnal = 1.0 + 0.25 * max(0.0, math.sin((hour - 12) / 24 * 2 * math.pi))
            rtt = base_ms * diurnal + rng.gauss(0, base_ms * 0.04)
            loss = 0.0 if rng.random() > 0.05 else rng.choice([10.0, 20.0])
            if inside(t, slow):
                rtt *= 4.5
            if inside(t, lossy):
                loss = rng.choice([30.0, 40.0, 50.0])
            points.append((t, round(rtt, 3), loss))
        t += step
    return points


def _smoke(rng: random.Random, points: list[tuple[datetime, float | None, float | None]], width: timedelta) -> list[SmokeBucket]:
    """SmokePing buckets of ``width`` from the 5-min points, each point standing for 30 rounds around it."""
    by: dict[int, list[tuple[float | None, float | None]]] = {}
    w_us = int(width.total_seconds() * 1e6)
    p0 = int(PERIOD_FROM.timestamp() * 1e6)
    for t, rtt, loss in points:
        by.setdefault((int(t.timestamp() * 1e6) - p0) // w_us, []).append((rtt, loss))
    out = []
    for k, vals in sorted(by.items()):
        rtts = sorted(r * (1 + rng.gauss(0, 0.03)) for r, _ in vals for _ in range(30) if r is not None)
        losses = [lo for _, lo in vals if lo is not None]
        out.append(SmokeBucket(p0 + k * w_us, p0 + (k + 1) * w_us, quantiles(rtts), rtts[len(rtts) // 2] if rtts else None,
                               sum(losses) / len(losses) if losses else None, len(rtts)))
    return out


def _card(first_failed: datetime) -> IncidentCard:
    """An outage's evidence: the rounds on its edge, traceroutes to the target and to the control target."""
    before = first_failed - timedelta(seconds=10)

    def check(at: datetime, ok: bool, row: int) -> RoundCheck:
        return RoundCheck(row_id=row, at=at, kind="icmp", ok=ok, rtt_ms=37.9 if ok else None, loss_pct=0.0 if ok else 100.0,
                          status=None, error_class=None if ok else "timeout")

    def hops(reached: bool, last: str) -> tuple[TraceHop, ...]:
        path = [TraceHop(ttl=i + 1, address=a, rtt_ms=1.5 + 5 * i, answered=3, sent=3, note=None)
                for i, a in enumerate(("192.168.1.1", "10.48.0.1", "202.97.33.18", "10.23.0.1"))]
        end = TraceHop(ttl=5, address=last, rtt_ms=37.9, answered=3, sent=3, note=None) if reached else \
            TraceHop(ttl=5, address=None, rtt_ms=None, answered=0, sent=3, note=None)
        return (*path, end)

    trace = Traceroute(ref="ev-0042", at=first_failed + timedelta(seconds=24), to=EVIL_NAME, address="203.0.113.10", control=False,
                       reached=False, hops=hops(False, ""), error="destination not reached", sha256="ab" * 32)
    control = Traceroute(ref="ev-0043", at=first_failed + timedelta(seconds=24), to=CONTROL_NAME, address="198.51.100.1",
                         control=True, reached=True, hops=hops(True, "198.51.100.1"), error=None, sha256="cd" * 32)
    return IncidentCard(last_good=(check(before, True, 40210),), first_failed=(check(first_failed, False, 40211),),
                        traceroutes=(trace, control), http_response=None)


def _http_card(first_failed: datetime) -> IncidentCard:
    """An HTTP outage's evidence: the failing answer, quoted (markup and all: it is untrusted text)."""
    resp = HttpResponse(row_id=51002, at=first_failed, status=502, error_class="http_status", error="HTTP 502, expected 200-399",
                        headers={"server": "nginx <b>1.24</b>", "retry-after": "120"},
                        body_head='<h1>502 Bad Gateway</h1> & <img src="http://evil.example/x.png">', row_sha256="ef" * 32)
    good = RoundCheck(row_id=51001, at=first_failed - timedelta(seconds=60), kind="http", ok=True, rtt_ms=110.2, loss_pct=None,
                      status=200, error_class=None)
    bad = RoundCheck(row_id=51002, at=first_failed, kind="http", ok=False, rtt_ms=95.0, loss_pct=None, status=502,
                     error_class="http_status")
    return IncidentCard(last_good=(good,), first_failed=(bad,), traceroutes=(), http_response=resp)


def _percentiles(points: list[tuple[datetime, float | None, float | None]]) -> LatencyFigures:
    vals = sorted(r for _, r, _ in points if r is not None)

    def pct(p: float) -> float:
        return vals[min(len(vals) - 1, round(p / 100 * (len(vals) - 1)))]

    return LatencyFigures(p50=pct(50), p95=pct(95), p99=pct(99), mean=sum(vals) / len(vals), min=vals[0], max=vals[-1],
                          count=len(vals))


def _daily(
    down: list[tuple[datetime, datetime]], absent: list[tuple[datetime, datetime]], local: list[tuple[datetime, datetime]]
) -> list[tuple[date, float | None, float]]:
    def overlap(a0: datetime, a1: datetime, spans: list[tuple[datetime, datetime]]) -> float:
        return sum(max(0.0, (min(a1, b1) - max(a0, b0)).total_seconds()) for b0, b1 in spans)

    out = []
    day = PERIOD_FROM.astimezone(ZONE).date()
    while True:
        d0 = datetime(day.year, day.month, day.day, tzinfo=ZONE).astimezone(UTC)
        d1 = d0 + timedelta(days=1)
        if d0 >= PERIOD_TO:
            break
        absent_s = overlap(d0, d1, absent)
        counted = 86400 - absent_s - overlap(d0, d1, local)
        cov = 100.0 * (86400 - absent_s) / 86400
        avail = None if counted <= 0 else 100.0 * (counted - overlap(d0, d1, down)) / counted
        out.append((day, avail, cov))
        day += timedelta(days=1)
    return out


def sla_section(verdict: Verdict = "breached", *, warnings: tuple[str, ...] = (), basis: str | None = None,
                notes: tuple[str, ...] = ()) -> SlaSection:
    """The SLA section of target 1: breached, with unconfirmed terms, two outages and two performance terms."""
    sh = timezone(timedelta(hours=8))

    def outage(start: datetime, seconds: float) -> SlaOutage:
        end = start + timedelta(seconds=seconds)
        return SlaOutage(start=start.astimezone(sh), end=end.astimezone(sh), start_utc=start, end_utc=end, duration_s=seconds,
                         in_period_s=seconds, counted_s=seconds, maintenance_s=0.0, below_minimum=False)

    def term(metric: str, statistic: str, threshold: float, measured: float | None, met: bool | None, samples: int,
             confidence: str) -> SlaTerm:
        return SlaTerm(metric=metric, statistic=statistic, comparator="le", threshold=threshold, share_min_pct=None,
                       measured=measured, measured_range=None, met=met, samples=samples, window_s=300,
                       breaching_window_count=0, breaching_windows=(), remedy="", confidence=confidence)

    return SlaSection(
        target=EVIL_NAME, preset="generic-99.9", sla_id="generic-99.9", provider="Example Cloud", product="VPS",
        terms_date="2026-01-15", terms_date_note="", sources=("https://example.net/sla",), overrides=(), timezone="Asia/Shanghai",
        period_start=PERIOD_FROM.astimezone(sh), period_end=PERIOD_TO.astimezone(sh), period_kind="calendar_month",
        period_complete=True, uptime_target_pct=99.9, uptime_provider_pct=99.3078, uptime_provider_exact="993078/1000000",
        uptime_measured_pct=99.3078, coverage_pct=85.7142, period_s=604800.0, known_s=518400.0, no_data_s=86400.0, local_s=0.0,
        measured_downtime_s=3580.0, qualifying_downtime_s=3580.0, counted_downtime_s=3580.0, counted_windows=60,
        window_s=60, window_down_when="any", min_outage_s=0, min_outage_strict=False, down_states=("down",), checks="all",
        excluded_downtime_s=0.0, excluded={}, no_data_rule="excluded", min_coverage_pct=50.0,
        verdict=verdict, verdict_basis=basis or "uptime 99.3078 % < 99.9 % over the known time",
        credit_mode="tiered", credit_tier=CreditTier(lt="99.9", ge="99.0", credit_pct="10"), credit_pct=10.0, credit_amount="4.20", monthly_fee="42.00", currency="USD",
        credit_capped=False, credit_below_minimum=False, credit_service_hours=None, credit_per_outage=(), credit_notes=(),
        clock_hours_credited=(), clock_hour_amount=None, claim_deadline=date(2026, 12, 31), claim_deadline_passed=False,
        claim_channel="support ticket", claim_subject=None,
        evidence=("logs showing each Downtime Period with its date and time", "the affected instance IDs"),
        outages=(outage(PERIOD_FROM, 750.0), outage(datetime(2026, 11, 3, 2, 0, tzinfo=UTC), 2830.0)),
        terms=(term("loss_pct", "mean", 1.0, 0.8121, True, 1715, "secondary"),
               term("rtt_ms", "p95", 150.0, None, None, 0, "unconfirmed")),
        fields=(SlaFieldUse(path="uptime_target_pct", value="99.9", confidence="verbatim", source="preset"),
                SlaFieldUse(path="credit.tiers", value="lt=99.9, ge=99.0, credit_pct=10; lt=99.0, credit_pct=25",
                            confidence="unconfirmed", source="preset"),
                SlaFieldUse(path="claim.anchor", value="period_end", confidence="secondary", source="preset")),
        unconfirmed_fields=tuple(SLA_UNCONFIRMED), notes=notes, warnings=warnings,
    )


def _bandwidth() -> BandwidthSection:
    """Three download tests a day for the week: one failed, one skipped by the budget."""
    tests = [BandwidthTest(ts=PERIOD_FROM + timedelta(hours=8 * i), direction="download", ok=i != 4,
                           mbps_mean=None if i in (4, 7) else 90.0 + i % 5, bytes_total=None if i in (4, 7) else 1_125_000_000,
                           error_class="timeout" if i == 4 else "skipped" if i == 7 else None,
                           counted_as="failed" if i == 4 else "skipped" if i == 7 else "ok") for i in range(21)]
    speeds = sorted(t.mbps_mean for t in tests if t.mbps_mean is not None)
    stats = BandwidthStats(count=len(speeds), mean_mbps=sum(speeds) / len(speeds), min_mbps=speeds[0], p10_mbps=speeds[1],
                           p50_mbps=speeds[len(speeds) // 2], p90_mbps=speeds[-2], max_mbps=speeds[-1])
    return BandwidthSection(tests=21, ok=19, failed=1, skipped=1, agent_side=0, local=0, by_direction={"download": stats},
                            listed=tuple(tests), listed_all=True)


def build_sample(lang: str = "en") -> tuple[Report, dict[str, TargetSeries]]:
    """The report model and series dict for the sample week."""
    rng = random.Random(20261108)
    nd0, nd1 = _no_data_span()
    local = [(LOCAL_START, LOCAL_END)]

    # Target 1: ICMP to a VPS, with the 47 min 10 s outage.
    t1_outage = datetime(2026, 11, 3, 2, 0, tzinfo=UTC)
    t1_down = [
        (PERIOD_FROM, PERIOD_FROM + timedelta(minutes=12, seconds=30)),
        (t1_outage, t1_outage + timedelta(seconds=OUTAGE_DURATION_S)),
    ]
    t1_slow = [(datetime(2026, 11, 4, 6, 0, tzinfo=UTC), datetime(2026, 11, 4, 7, 35, tzinfo=UTC))]
    t1_lossy = [(datetime(2026, 11, 2, 13, 5, tzinfo=UTC), datetime(2026, 11, 2, 13, 50, tzinfo=UTC))]
    t1_points = _latency_series(rng, 38.0, timedelta(minutes=5), t1_down, t1_slow, t1_lossy, [(nd0, nd1)])
    t1_incidents = [
        _incident("T1-1", "outage", t1_down[0][0], t1_down[0][1], clipped_start=True, errors={"timeout": 75},
                  evidence=[_ev("rows", "1\u201375", "75 rounds, every ICMP echo timed out")]),
        replace(_incident("T1-3", "outage", t1_down[1][0], t1_down[1][1], errors={"timeout": 280, "unreachable": 3},
                          evidence=[_ev("traceroute", "ev-0042", "last hop answering: 10.23.0.1 (hop 6); hops 7\u201330 silent"),
                                    _ev("rows", "40211\u201340493", "283 failed rounds")]),
                first_row_id=40211, last_row_id=40493, card=_card(t1_down[1][0])),
        _incident("T1-4", "degraded", t1_slow[0][0], t1_slow[0][1], slack_s=5.0, errors={},
                  evidence=[_ev("rows", "47310\u201347880", "median RTT 171 ms > threshold 150 ms")]),
        _incident("T1-2", "partial", t1_lossy[0][0], t1_lossy[0][1], errors={"timeout": 41},
                  evidence=[_ev("rows", "31001\u201331270", "loss 30\u201350 % > threshold 20 %")]),
        # The analysis leaves duration_max_s None when a bound was not observed.
        replace(_incident("T1-5", "local", LOCAL_START, LOCAL_END, errors={"unreachable": 120},
                          evidence=[_ev("rows", "61002\u201361121", "control target failed at the same time")]),
                duration_max_s=None),
    ]
    t1_incidents.sort(key=lambda i: i.start)
    t1_bands: list[tuple[datetime, datetime, BandKind, str]] = [(nd0, nd1, "no_data", "")]
    t1_bands += [(i.start, i.end, i.kind, i.id) for i in t1_incidents]

    # Target 2: HTTPS health check, an outage that continued past the period end.
    t2_open = PERIOD_TO - timedelta(minutes=23, seconds=20)
    t2_down = [(datetime(2026, 11, 1, 22, 14, 5, tzinfo=UTC), datetime(2026, 11, 1, 22, 31, 45, tzinfo=UTC)), (t2_open, PERIOD_TO)]
    t2_points = _latency_series(rng, 112.0, timedelta(minutes=5), t2_down, [], [], [(nd0, nd1)])
    t2_incidents = [
        replace(_incident("T2-1", "outage", t2_down[0][0], t2_down[0][1], slack_s=30.0, errors={"http_status": 18},
                          evidence=[_ev("http_response", "ev-0051",
                                        'HTTP 502 body: "<h1>502 Bad Gateway</h1>" & <img src="http://evil.example/x.png"> \'quoted\'')]),
                card=_http_card(t2_down[0][0])),
        _incident("T2-2", "outage", t2_open, PERIOD_TO, slack_s=30.0, clipped_end=True, errors={"tls": 2, "timeout": 21},
                  evidence=[_ev("http_response", "ev-0057", "TLS handshake timeout <after 10 s>")]),
    ]
    t2_bands: list[tuple[datetime, datetime, BandKind, str]] = [(nd0, nd1, "no_data", ""), (LOCAL_START, LOCAL_END, "local", "")]
    t2_bands += [(i.start, i.end, i.kind, i.id) for i in t2_incidents]

    period_s = (PERIOD_TO - PERIOD_FROM).total_seconds()
    no_data_s = (nd1 - nd0).total_seconds()
    local_s = (LOCAL_END - LOCAL_START).total_seconds()

    def figures(down: list[tuple[datetime, datetime]], points: list[Any], partial_s: float, degraded_s: float) -> dict[str, Any]:
        downtime = sum((b - a).total_seconds() for a, b in down)
        counted = period_s - no_data_s - local_s
        losses = [v for _, _, v in points if v is not None]
        return {
            "availability_pct": 100.0 * (counted - downtime) / counted,
            "downtime_s": downtime,
            "coverage_pct": 100.0 * counted / period_s,  # observed time / period (docs/methods.md)
            "local_s": local_s,
            "no_data_s": no_data_s,
            "partial_s": partial_s,
            "degraded_s": degraded_s,
            "latency_ms": _percentiles(points),
            "loss_pct": sum(losses) / len(losses),
            "rows": len(points) * 30,
        }

    def counts(incidents: list[IncidentEntry]) -> dict[str, Any]:
        return {"incidents": tuple(incidents), "blips": 0, "rounds": 60480, "rounds_failed": sum(i.rounds_failed for i in incidents)}

    t1 = TargetReport(
        name=EVIL_NAME, address="203.0.113.10", provider='Example Cloud & Co "Ltd" <hk-2>', control=False, interval_s=10,
        latency_source="icmp", **figures(t1_down, t1_points, 45 * 60, 95 * 60), **counts(t1_incidents), sla=sla_section(),
    )
    t2 = TargetReport(
        name=HTTP_NAME, address="https://api.example.net/health", provider="Example Cloud", control=False, interval_s=60,
        latency_source="http", **figures(t2_down, t2_points, 0.0, 0.0), **counts(t2_incidents), bandwidth=_bandwidth(),
    )
    t3 = TargetReport(
        name=CONTROL_NAME, address="198.51.100.1", provider="", control=True, interval_s=10,
        availability_pct=None, downtime_s=0.0, coverage_pct=85.71428571428571, local_s=local_s,
        no_data_s=no_data_s, partial_s=0.0, degraded_s=0.0,
        latency_ms=LatencyFigures(p50=None, p95=None, p99=None, mean=None, min=None, max=None, count=0), latency_source=None,
        loss_pct=None, rows=0, **counts([]),
    )
    report = Report(
        generated_at=GENERATED_AT,
        lang=report_lang(lang),
        period=Period(start=PERIOD_FROM, end=PERIOD_TO, timezone="Asia/Shanghai"),
        agent=AgentInfo(id="7f3c2a9e-4b1d-4e8f-9a6b-2c5d8e1f0a37", host="probe-sh-01", vantage="Shanghai office, wired",
                        network="AS4812 China Telecom (Shanghai)", version="0.1.0"),
        methods=Methods(
            probes=(
                ProbeMethod(target=EVIL_NAME, kind="icmp", interval_s=10, settings={"count": 3, "timeout_s": 2.0}),
                ProbeMethod(target=HTTP_NAME, kind="http", interval_s=60, settings={"timeout_s": 10.0, "expect_status": 200, "keyword": "<ok>"}),
                ProbeMethod(target=CONTROL_NAME, kind="icmp", interval_s=10, settings={"count": 3, "timeout_s": 2.0}),
            ),
            thresholds={EVIL_NAME: Thresholds(rtt_ms_max=150.0, loss_pct_max=20.0, sustain_s=300.0)},
            control_targets=(CONTROL_NAME,),
            clock="system clock synchronised by chrony (NTP), offset < 5 ms throughout the period",
            open_after=2,
            merge_gap_s=60,
            gap_rule="gaps longer than 2 intervals are no data; rounds where control targets also failed are local",
            text_en=METHODS_TEXT_EN,
            text_zh=METHODS_TEXT_ZH,
        ),
        targets=(t1, t2, t3),
        notes=(
            "Agent restarted once (clean stop) on 2026-11-05; see the no-data day.",
            "Evidence texts are quoted as received & may contain <markup>.",
        ),
    )
    t1_window = [p for p in t1_points if t1_down[1][0] - timedelta(minutes=30) <= p[0] < t1_down[1][1] + timedelta(minutes=30)]
    t2_window = [p for p in t2_points if t2_down[0][0] - timedelta(minutes=30) <= p[0] < t2_down[0][1] + timedelta(minutes=30)]
    series = {
        EVIL_NAME: TargetSeries(smoke=_smoke(rng, t1_points, timedelta(hours=1)), latency_kind="icmp", icmp=True,
                                daily=_daily(t1_down, [(nd0, nd1)], local), bands=t1_bands,
                                windows={"T1-3": _smoke(rng, t1_window, timedelta(minutes=5))}),
        HTTP_NAME: TargetSeries(smoke=_smoke(rng, t2_points, timedelta(hours=1)), latency_kind="http", icmp=False,
                                daily=_daily(t2_down, [(nd0, nd1)], local), bands=t2_bands,
                                windows={"T2-1": _smoke(rng, t2_window, timedelta(minutes=5))}),
    }
    return report, series


# -- summary.json checks ----------------------------------------------------------------
SCHEMA = Path(__file__).parents[2] / "docs" / "summary.schema.json"


def same_json(a: Any, b: Any) -> bool:
    """Equal as JSON text: 47 and 47.0 differ (== would call them equal)."""
    import json

    return json.dumps(a, sort_keys=True) == json.dumps(b, sort_keys=True)


def validate_summary(data: dict[str, Any]) -> None:
    """Check a summary.json object against docs/summary.schema.json (every error, not the first)."""
    import json

    from jsonschema import Draft202012Validator

    schema = json.loads(SCHEMA.read_text(encoding="utf-8"))
    Draft202012Validator.check_schema(schema)
    errors = [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in Draft202012Validator(schema).iter_errors(data)]
    assert not errors, "\n".join(errors[:20])
