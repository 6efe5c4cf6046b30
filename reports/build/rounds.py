"""Reading a target's rows from the store as rounds, the input of the incident analysis.

Rows come in time order from the covering (check, time, figures) index as lean tuples; rows
that share a scheduled time (ts − lag) are one round. Runs of plain up rounds, which cannot
matter to any incident, are passed as one compressed Round (``until``/``count``); property
tests hold the analysis of compressed and plain rounds identical.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from itertools import chain
from typing import Any

from agent.config import Target
from agent.core.times import from_us
from agent.store import Store
from agent.core import result as R
from reports.analysis.incidents import IncidentPolicy
from reports.analysis.model import CheckOutcome, Round

# Agent-side failures: recorded, never counted for or against the provider.
AGENT_SIDE = {R.INTERNAL, R.PERMISSION, R.SKIPPED}
LATENCY_PREFERENCE = ("icmp", "tcp", "http")
# Kinds on an interval of their own: never part of a round, never an outage by themselves.
OWN_SCHEDULE_KINDS = frozenset({"bandwidth", "host"})


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
        return [i for i in self.ids if self.kind_of[i] not in OWN_SCHEDULE_KINDS]


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
        ts_us, lag_us, check_id = row[1], row[2], row[3]
        n += 1
        if on_row is not None:
            on_row(row)
        sched = ts_us - (lag_us or 0)
        if cur_sched is None or sched - cur_sched >= half_us:
            if checks:
                yield Round(name, from_us(cur_sched), tuple(checks))  # type: ignore[arg-type]
            cur_sched = sched
            checks = []
        checks.append(_outcome(kind_of[check_id], row))
    if checks:
        yield Round(name, from_us(cur_sched), tuple(checks))  # type: ignore[arg-type]
    if counter is not None:
        counter.n += n


def _outcome(kind: str, row: tuple[Any, ...]) -> CheckOutcome:
    """One stored row (as :meth:`Store.iter_round_rows` gives it) as the analysis sees it."""
    row_id, _ts, _lag, _cid, ok, rtt_ns, sent, received, status, ec = row
    return CheckOutcome(kind, bool(ok), None if rtt_ns is None else rtt_ns / 1e6,
                        None if not sent else 100.0 * (sent - (received or 0)) / sent, status,
                        R.SKIPPED if ec in AGENT_SIDE else ec, row_id)


def iter_rounds_compressed(store: Store, name: str, tc: TargetChecks, start_us: int, end_us: int, policy: IncidentPolicy,
                           cuts_us: Sequence[int], counter: RowCounter | None = None,
                           down_us: Sequence[tuple[int, int]] = (),
                           on_row: Callable[[tuple[Any, ...]], None] | None = None) -> Iterator[Round]:
    """Like :func:`iter_rounds` (rows grouped into rounds the same way), but runs of plain up
    rounds are passed as one Round (``until``/``count``).

    A round is plain when every one of its checks is up, without an error class, and under
    both thresholds (stricter than the analysis, which is safe: a round not plain is passed
    as it is). A round joins a run only when nothing about it can matter to an incident: it
    is plain, it follows the previous round within the gap rule, no period or agent-run
    boundary (``cuts_us``) lies between them, it is more than the merge gap plus two
    intervals after the last round that was not plain, and it does not fall where the runs
    table says the agent was not running (``down_us``: such rounds each prove the agent was
    running, one interval at a time). Everything else is passed one by one, exactly as
    :func:`iter_rounds` would.
    """
    half_us = int(policy.interval_s * 500_000)
    tol_us = int(policy.interval_s * policy.gap_factor * 1_000_000)
    quiet_us = int((policy.merge_gap + 2 * policy.interval_s) * 1_000_000)
    rtt_max_ns = None if policy.rtt_ms_max is None else policy.rtt_ms_max * 1e6
    loss_max = policy.loss_pct_max
    kind_of = tc.kind_of
    downs = sorted(down_us)
    nd = len(downs)
    di = 0
    d_a, d_b = downs[0] if downs else (2**63, 2**63)
    cuts = sorted(set(int(c) for c in cuts_us))
    ncuts = len(cuts)
    ci = 0
    next_cut = cuts[0] if cuts else 2**63
    last_bad = prev_s = -(2**62)
    run: list[tuple[Any, ...]] | None = None  # the rows of a run's first round
    run_s = run_last = run_n = 0
    cur: int | None = None  # the current round: its scheduled time, rows, and whether all are plain
    buf: list[tuple[Any, ...]] = []
    plain = True
    n = 0

    def row_plain(r: tuple[Any, ...]) -> bool:
        if not r[4] or r[9] is not None:
            return False
        if rtt_max_ns is not None and r[5] is not None and r[5] > rtt_max_ns:
            return False
        return not (loss_max is not None and r[6] and 100.0 * (r[6] - (r[7] or 0)) / r[6] > loss_max)

    def build(rows: list[tuple[Any, ...]], s: int, until: int | None = None, count: int = 1) -> Round:
        return Round(name, from_us(s), tuple(_outcome(kind_of[r[3]], r) for r in rows),
                     from_us(until) if until is not None else None, count)

    sched = 0
    for row in chain(store.iter_round_rows(tc.round_ids, start_us, end_us), (None,)):
        if row is not None:
            n += 1
            if on_row is not None:
                on_row(row)
            sched = row[1] - (row[2] or 0)
            if cur is not None and sched - cur < half_us:  # another check of the same round
                buf.append(row)
                plain = plain and row_plain(row)
                continue
        if cur is not None:  # the round in buf is complete
            s = cur
            crossed = False
            while s >= next_cut:
                ci += 1
                next_cut = cuts[ci] if ci < ncuts else 2**63
                crossed = True
            while s >= d_b:
                di += 1
                d_a, d_b = downs[di] if di < nd else (2**63, 2**63)
            quiet = s - last_bad > quiet_us and not d_a <= s
            if run is not None and plain and quiet and not crossed and s - prev_s <= tol_us:
                run_last = s
                run_n += 1
            else:
                if run is not None:
                    yield build(run, run_s, run_last if run_n > 1 else None, run_n)
                    run = None
                if plain and quiet:
                    run, run_s, run_last, run_n = buf, s, s, 1
                else:
                    yield build(buf, s)
                    if not plain:
                        last_bad = s
            prev_s = s
        if row is None:
            break
        cur, buf, plain = sched, [row], row_plain(row)
    if run is not None:
        yield build(run, run_s, run_last if run_n > 1 else None, run_n)
    if counter is not None:
        counter.n += n


def rounds_for(store: Store, t: Target, tc: TargetChecks, a_us: int, b_us: int, policy: IncidentPolicy,
               cuts_us: Sequence[int], counter: RowCounter | None = None, *, compress: bool = True,
               down_us: Sequence[tuple[int, int]] = (), on_row: Callable[[tuple[Any, ...]], None] | None = None) -> Iterator[Round]:
    """The target's rounds, compressed where that cannot change the analysis."""
    if compress and tc.round_ids:
        return iter_rounds_compressed(store, t.name, tc, a_us, b_us, policy, cuts_us, counter, down_us, on_row)
    return iter_rounds(store, t.name, tc, a_us, b_us, policy.interval_s, counter, on_row)


def latency_kind(tc: TargetChecks) -> str | None:
    kinds = set(tc.kind_of.values())
    return next((k for k in LATENCY_PREFERENCE if k in kinds), None)
