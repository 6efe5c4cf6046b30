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
from agent.core.units import loss_pct
from agent.core import result as R
from agent.core.times import from_us
from agent.store import Store
from reports.analysis.incidents import IncidentPolicy
from reports.analysis.model import CheckOutcome, Round
from reports.analysis.severity import RoundClassifier

# Agent-side failures: recorded, never counted for or against the provider.
AGENT_SIDE = {R.INTERNAL, R.PERMISSION, R.SKIPPED}
LATENCY_PREFERENCE = ("icmp", "tcp", "http")
# Kinds on an interval of their own: never part of a round, never an outage by themselves.
OWN_SCHEDULE_KINDS = frozenset({"bandwidth", "host"})
_NEVER_US = 2**63  # later than any stored time
_END: tuple[Any, ...] = ("after the last row",)  # completes the last round (compared by identity)


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
    """A target's rows as rounds, one Round per scheduled time: :func:`iter_rounds_compressed` compressing nothing."""
    return iter_rounds_compressed(store, name, tc, start_us, end_us, IncidentPolicy(interval_s=interval_s), (), counter,
                                  on_row=on_row, compress=False)


def _rtt_ms(rtt_ns: int | None) -> float | None:
    return None if rtt_ns is None else rtt_ns / 1e6


def _loss(sent: int | None, received: int | None) -> float | None:
    """Loss as the analysis sees it: nothing received of what was sent is 100 %."""
    return loss_pct(sent, received or 0)


def _outcome(kind: str, row: tuple[Any, ...]) -> CheckOutcome:
    """One stored row (as :meth:`Store.iter_round_rows` gives it) as the analysis sees it."""
    row_id, _ts, _lag, _cid, ok, rtt_ns, sent, received, status, ec = row
    return CheckOutcome(kind, bool(ok), _rtt_ms(rtt_ns), _loss(sent, received), status,
                        R.SKIPPED if ec in AGENT_SIDE else ec, row_id)


PlainTest = Callable[[list[tuple[Any, ...]]], bool]


def _plain_test(policy: IncidentPolicy, kind_of: dict[int, str], compress: bool = True) -> PlainTest:
    """Whether a round's rows are plain: every check answered, without an error class, and none is past a
    threshold of the policy (the incident analysis's own :class:`RoundClassifier`, on the same figures).

    A plain round is UP to the analysis; the test is stricter (a skipped check is not plain), which is safe.
    Without ``compress`` no round is plain.
    """
    if not compress:
        return _never_plain
    classifier = RoundClassifier.of(policy)
    exceeds = classifier.exceeds

    # Loops, not all(...): this runs for every round, and a generator per round costs more than the test.
    def answered(rows: list[tuple[Any, ...]]) -> bool:
        for r in rows:  # noqa: SIM110
            if not r[4] or r[9] is not None:
                return False
        return True

    def within(rows: list[tuple[Any, ...]]) -> bool:
        for r in rows:  # noqa: SIM110
            if not r[4] or r[9] is not None or exceeds(kind_of[r[3]], _rtt_ms(r[5]), _loss(r[6], r[7])) is not None:
                return False
        return True

    return within if classifier.thresholds else answered


def _never_plain(rows: list[tuple[Any, ...]]) -> bool:
    return False


def _round_builder(name: str, kind_of: dict[int, str]) -> Callable[[list[tuple[Any, ...]], int, int, int], Round]:
    """Rounds of ``name`` from rows: one round (``count`` 1), or a run of ``count`` plain rounds from ``s`` to ``last``."""

    def build(rows: list[tuple[Any, ...]], s: int, last: int, count: int) -> Round:
        return Round(name, from_us(s), tuple(_outcome(kind_of[r[3]], r) for r in rows), from_us(last) if count > 1 else None, count)

    return build


class _Fences:
    """What a compressed run must not cross: period and run boundaries (``cuts``), and stretches in which the
    runs table says the agent was not running (``downs``: rounds there each prove the agent was running).

    Rounds are asked in time order; ``next`` is the earliest time at which the answer can change, so that
    the reader asks only then.
    """

    __slots__ = ("_ci", "_cuts", "_di", "_down_end", "_downs", "_next_cut", "down_start", "next")

    def __init__(self, cuts_us: Sequence[int], down_us: Sequence[tuple[int, int]]) -> None:
        self._cuts = sorted({int(c) for c in cuts_us})
        self._downs = sorted(down_us)
        self._ci = self._di = 0
        self._next_cut = self._cuts[0] if self._cuts else _NEVER_US
        self.down_start, self._down_end = self._downs[0] if self._downs else (_NEVER_US, _NEVER_US)
        self.next = min(self._next_cut, self._down_end)

    def crossed(self, s: int) -> bool:
        """Move to ``s``: True when a cut lies between the previous round asked and ``s``."""
        crossed = False
        while s >= self._next_cut:
            self._ci += 1
            self._next_cut = self._cuts[self._ci] if self._ci < len(self._cuts) else _NEVER_US
            crossed = True
        while s >= self._down_end:
            self._di += 1
            self.down_start, self._down_end = self._downs[self._di] if self._di < len(self._downs) else (_NEVER_US, _NEVER_US)
        self.next = min(self._next_cut, self._down_end)
        return crossed


def iter_rounds_compressed(store: Store, name: str, tc: TargetChecks, start_us: int, end_us: int, policy: IncidentPolicy,
                           cuts_us: Sequence[int], counter: RowCounter | None = None,
                           down_us: Sequence[tuple[int, int]] = (),
                           on_row: Callable[[tuple[Any, ...]], None] | None = None, *, compress: bool = True) -> Iterator[Round]:
    """A target's rows grouped into rounds, runs of plain up rounds passed as one Round (``until``/``count``).

    Rows sharing a scheduled time (ts − lag) are one round; imported rows carry no lag, so rows
    within half an interval of a round's first row join it. A round joins a run only when nothing
    about it can matter to an incident: it is plain (:func:`_plain_test`), it follows the previous
    round within the gap rule, no period or agent-run boundary (``cuts_us``) lies between them, it
    is more than the merge gap plus two intervals after the last round that was not plain, and it
    does not fall where the runs table says the agent was not running (``down_us``). Everything else
    is passed one by one; ``compress=False`` passes every round so.

    Grouping and compressing are one loop over the rows: this reads every row of the report.
    """
    half_us = int(policy.interval_s * 500_000)
    tol_us = int(policy.interval_s * policy.gap_factor * 1_000_000)
    quiet_us = int((policy.merge_gap + 2 * policy.interval_s) * 1_000_000)
    plain = _plain_test(policy, tc.kind_of, compress)
    fences = _Fences(cuts_us, down_us)
    next_fence, down_start = fences.next, fences.down_start
    build = _round_builder(name, tc.kind_of)
    last_bad = prev_s = -(2**62)
    run: list[tuple[Any, ...]] | None = None  # the rows of a run's first round
    run_s = run_last = run_n = 0
    cur = sched = n = 0
    buf: list[tuple[Any, ...]] = []  # the rows of the current round, scheduled at cur
    for row in chain(store.iter_round_rows(tc.round_ids, start_us, end_us), (_END,)):
        if row is not _END:
            n += 1
            if on_row is not None:
                on_row(row)
            sched = row[1] - (row[2] or 0)
            if buf and sched - cur < half_us:  # another check of the same round
                buf.append(row)
                continue
        if buf:  # the round in buf is complete
            if cur >= next_fence:
                crossed = fences.crossed(cur)
                next_fence, down_start = fences.next, fences.down_start
            else:
                crossed = False
            is_plain = plain(buf)
            quiet = is_plain and cur - last_bad > quiet_us and cur < down_start
            if run is not None and quiet and not crossed and cur - prev_s <= tol_us:
                run_last = cur
                run_n += 1
            else:
                if run is not None:
                    yield build(run, run_s, run_last, run_n)
                    run = None
                if quiet:
                    run, run_s, run_last, run_n = buf, cur, cur, 1
                else:
                    yield build(buf, cur, cur, 1)
                    if not is_plain:
                        last_bad = cur
            prev_s = cur
        cur, buf = sched, [row]
    if run is not None:
        yield build(run, run_s, run_last, run_n)
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
