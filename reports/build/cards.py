"""Incident cards: for each provider incident, the evidence a support agent asks for, read from the store.

A card holds the checks of the last good round before the incident and of its first failing
round (as their rows say), the traceroutes to the target and to a control target the agent took
when it opened, and the first failing HTTP answer; its chart is the incident with half an hour on
each side. Each card reads only its own stretch of rows (bounded queries), never the period.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from agent.core.units import loss_pct
from agent.core.times import from_us, to_us
from agent.store import Store
from reports.analysis.incidents import Incident, TargetAnalysis
from reports.analysis.model import State
from reports.build.accumulate import Accumulator
from reports.build.evidence import http_response, taken_for, traceroute
from reports.build.rounds import TargetChecks, latency_kind
from reports.render.model import IncidentCard, RoundCheck
from reports.render.smokeping import SmokeBucket

WINDOW = timedelta(minutes=30)  # drawn on each side of an incident
MAX_CARDS = 40  # provider incidents that get a card; later ones keep their references in the table
CARD_BUCKETS = 180  # a card chart's time buckets at most


@dataclass(frozen=True)
class CardContext:
    """What every card of one target reads from."""

    store: Store
    checks: TargetChecks
    evidence: Sequence[dict[str, Any]]  # the target's stored evidence rows (evidence.stored_evidence)
    controls: frozenset[str]  # control target names
    interval_s: float
    open_after: int


def card_incidents(res: TargetAnalysis) -> list[int]:
    """Indexes of the incidents that get a card: provider incidents (not local), the first MAX_CARDS."""
    return [i for i, inc in enumerate(res.incidents) if inc.kind is not State.LOCAL][:MAX_CARDS]


def incident_card(ctx: CardContext, inc: Incident, rows: Sequence[tuple[Any, ...]] | None = None) -> IncidentCard:
    """The card of one incident: rounds on its edges, traceroutes taken when it opened, the failing answer.

    ``rows``: the target's rows around the incident when already read (the card's chart window);
    else the two edge rounds are read here, in one bounded query."""
    http_ids = ctx.checks.of_kind("http")
    resp = (ctx.store.first_failed_with_detail(http_ids, to_us(inc.first_failed), to_us(inc.last_failed) + 1)
            if http_ids else None)
    half = int(ctx.interval_s * 500_000)
    if rows is None:
        rows = list(ctx.store.iter_round_rows(ctx.checks.round_ids, to_us(inc.last_good_before or inc.first_failed),
                                              to_us(inc.first_failed) + half))
    return IncidentCard(
        last_good=_round(ctx, rows, inc.last_good_before, half),
        first_failed=_round(ctx, rows, inc.first_failed, half),
        traceroutes=tuple(traceroute(e, ctx.controls) for e in taken_for(inc, ctx.evidence, ctx.interval_s, ctx.open_after)
                          if e["kind"] == "traceroute"),
        http_response=None if resp is None else http_response(resp),
    )


def _round(ctx: CardContext, rows: Sequence[tuple[Any, ...]], sched: datetime | None, half_us: int) -> tuple[RoundCheck, ...]:
    """The checks of the round scheduled at ``sched``: rows whose scheduled time (start − lag) is within half an interval."""
    if sched is None:
        return ()
    a = to_us(sched)
    return tuple(round_check(r, ctx.checks.kind_of[r[3]]) for r in rows if a <= r[1] - (r[2] or 0) < a + half_us)


def round_check(r: tuple[Any, ...], kind: str) -> RoundCheck:
    """A lean row (Store.iter_round_rows: id, ts, lag, check, ok, rtt_ns, sent, received, status, error class)."""
    row_id, ts, _, _, ok, rtt_ns, sent, received, status, error_class = r[:10]
    return RoundCheck(row_id=int(row_id), at=from_us(ts), kind=kind, ok=bool(ok), rtt_ms=None if rtt_ns is None else rtt_ns / 1e6,
                      loss_pct=loss_pct(sent, received or 0), status=status, error_class=error_class)


def window_of(inc: Incident, res: TargetAnalysis) -> tuple[datetime, datetime]:
    """The stretch a card draws: the incident and WINDOW each side, inside the period and its margin."""
    start = (inc.last_good_before or inc.start) - WINDOW
    end = (inc.first_good_after or inc.end) + WINDOW
    return max(start, res.period_start - WINDOW), min(end, res.period_end + WINDOW)


def window_rows(store: Store, tc: TargetChecks, a: datetime, b: datetime, interval_s: float) -> list[tuple[Any, ...]]:
    """The target's rows of a card's window (bounded: the incident and WINDOW each side), half a round early."""
    return list(store.iter_round_rows(tc.round_ids, to_us(a) - int(interval_s * 500_000), to_us(b)))


def window_buckets(rows: Sequence[tuple[Any, ...]], tc: TargetChecks, a: datetime, b: datetime, interval_s: float) -> list[SmokeBucket]:
    """The card chart's buckets over [a, b): one per round when they fit, else merged (bounded)."""
    kind = latency_kind(tc)
    step = int(interval_s * 1e6)
    acc = Accumulator(frozenset(tc.of_kind(kind)) if kind else frozenset(), frozenset(tc.of_kind("icmp")),
                      to_us(a) - step // 2, to_us(b), step, max_buckets=CARD_BUCKETS)  # buckets centred on the rounds
    add = acc.add
    for row in rows:
        add(row)
    return acc.smoke()
