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
from typing import Any

from agent.config import Target
from agent.rows import from_us
from agent.store import Store
from probes import result as R
from reports.incidents import IncidentPolicy
from reports.model import CheckOutcome, Round

# Agent-side failures: recorded, never counted for or against the provider.
AGENT_SIDE = {R.INTERNAL, R.PERMISSION, R.SKIPPED}
LATENCY_PREFERENCE = ("icmp", "tcp", "http")


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


def rounds_for(store: Store, t: Target, tc: TargetChecks, a_us: int, b_us: int, policy: IncidentPolicy,
               cuts_us: Sequence[int], counter: RowCounter | None = None, *, compress: bool = True,
               down_us: Sequence[tuple[int, int]] = (), on_row: Callable[[tuple[Any, ...]], None] | None = None) -> Iterator[Round]:
    """The target's rounds, compressed where that cannot change the analysis."""
    if compress and len({tc.kind_of[i] for i in tc.round_ids}) == 1:
        return iter_rounds_compressed(store, t.name, tc, a_us, b_us, policy, cuts_us, counter, down_us, on_row)
    if compress and tc.round_ids:
        return iter_rounds_compressed_multi(store, t.name, tc, a_us, b_us, policy, cuts_us, counter, down_us, on_row)
    return iter_rounds(store, t.name, tc, a_us, b_us, policy.interval_s, counter, on_row)


def latency_kind(tc: TargetChecks) -> str | None:
    kinds = set(tc.kind_of.values())
    return next((k for k in LATENCY_PREFERENCE if k in kinds), None)
