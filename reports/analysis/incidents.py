"""Incident detection for one target: one streaming pass over its rounds.

Public API::

    policy = IncidentPolicy(interval_s=10, open_after=2, rtt_ms_max=150)
    windows = control_down_intervals(control_rounds, policy)
    result = analyse_target(rounds, period_start=p0, period_end=p1, policy=policy,
                            runs=runs, control_down=windows, tz=ZoneInfo("Asia/Shanghai"))
    result.incidents, result.spans, result.availability_pct, result.to_json()

``rounds`` is any iterable of one target's ``Round`` sorted by ``ts`` (a
generator straight from a database cursor is fine): it is read once, and the
memory held is proportional to the number of incidents and no-data stretches,
never to the number of rounds.  Rounds outside ``[period_start, period_end)``
may be passed (a margin before and after lets edges be judged with context);
they shape incidents, and everything reported is clipped to the period.

The rules (docs/methods.md states them for readers of the report):

* A round stands for ``[ts, next round's ts)`` when the next round follows
  within ``gap_factor × interval``; otherwise for ``[ts, ts + interval)`` and
  the rest up to the next round is NO_DATA.  Time outside the agent's runs
  (``AgentRun``; an unclean run ends at ``last_seen``) is NO_DATA too, except
  where rounds show the agent was in fact measuring on schedule.
* Checks with error class "skipped" are ignored; a round with nothing but
  skipped checks counts as missing.  A round is DOWN when every remaining check
  failed, PARTIAL when some did, SLOW (a DEGRADED candidate) when all passed
  but a check's RTT or loss is past the policy's threshold, UP otherwise.
* A DOWN, PARTIAL or SLOW round whose interval overlaps a stretch in which every
  control target was down is LOCAL: the agent's own network, never charged to
  the provider.  LOCAL and NO_DATA interrupt provider incidents (what happened
  to the provider then is unknown), and incidents are never merged across them.
* Three incident kinds are tracked at once, by severity: an outage needs DOWN
  rounds; a partial incident needs rounds with at least one failed check
  (PARTIAL or DOWN); a degraded incident needs rounds that are SLOW or worse.
  Each opens after ``open_after`` consecutive such rounds (degraded: after the
  sustain window) and is dated back to its first round.  Incidents of the same
  kind separated by less than ``merge_gap_s`` of observed rounds are merged.
  Shorter runs of failed rounds are "blips" (counted, not incidents).
* The spans paint incidents with precedence NO_DATA > LOCAL > DOWN > PARTIAL >
  DEGRADED > UP.  A partial/degraded incident entirely covered by worse ones is
  not listed (it would only repeat them).

Headline times: ``start`` = first failed round's ts; ``end`` = first good
round's ts after it (equivalently the end of the last failed round's time),
or where data stops.  Bounds: ``duration_min_s`` = last failed − first failed;
``duration_max_s`` = first good after − last good before (None when a bound
was not observed: no data or local outage next to the incident).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, tzinfo
from itertools import chain
from typing import Any

from agent.core.result import SKIPPED
from reports.analysis import timeline
from reports.analysis.model import AgentRun, CheckOutcome, Round, Span, State

UTC = UTC
ZERO = timedelta(0)
_MIN = datetime.min.replace(tzinfo=UTC)
_MAX = datetime.max.replace(tzinfo=UTC)

DEFAULT_MERGE_GAP_S = 60.0
DEFAULT_DEGRADED_SUSTAIN_S = 300.0

# The report's (and summary.json's) names for incident kinds.
KIND_NAMES: dict[State, str] = {
    State.DOWN: "outage",
    State.PARTIAL: "partial",
    State.DEGRADED: "degraded",
    State.LOCAL: "local",
}
_KIND_ORDER = {State.DOWN: 0, State.PARTIAL: 1, State.DEGRADED: 2, State.LOCAL: 3}

# Pseudo error classes recorded for rounds that answered but were too slow/lossy.
RTT_OVER = "rtt_over_threshold"
LOSS_OVER = "loss_over_threshold"
UNCLASSIFIED = "unclassified"  # a failed check that carried no error class

# Bound causes.
OBSERVED = "observed"  # a good round was seen next to the incident
NO_DATA = "no_data"  # no rounds (agent stopped, rounds missing)
LOCAL = "local"  # the agent's own network was down next to the incident

# Round severities (ordered: a tracker of level k fails on severity >= k).
_NONE, _UP, _SLOW, _PARTIAL, _DOWN, _LOCAL = -1, 0, 1, 2, 3, 4


@dataclass(frozen=True, slots=True)
class IncidentPolicy:
    """How rounds become incidents for one target.

    ``merge_gap_s`` None means max(60 s, 2 × interval).  ``degraded_sustain_rounds``
    overrides ``degraded_sustain_s`` when given.  ``degraded_kinds`` limits the
    RTT/loss thresholds to checks of those kinds (None: every kind).
    ``local_tolerance_s`` widens each control-down stretch on both sides beyond
    the plain overlap rule (which already reaches one interval back).
    """

    interval_s: float
    open_after: int = 2
    merge_gap_s: float | None = None
    rtt_ms_max: float | None = None
    loss_pct_max: float | None = None
    degraded_sustain_s: float = DEFAULT_DEGRADED_SUSTAIN_S
    degraded_sustain_rounds: int | None = None
    degraded_kinds: frozenset[str] | None = None
    gap_factor: float = 2.0
    local_tolerance_s: float = 0.0

    def __post_init__(self) -> None:
        if not self.interval_s > 0:
            raise ValueError("interval_s must be positive")
        if self.open_after < 1:
            raise ValueError("open_after must be at least 1")
        if self.gap_factor < 1:
            raise ValueError("gap_factor must be at least 1 (a round covers at least its own interval)")
        if self.merge_gap_s is not None and self.merge_gap_s < 0:
            raise ValueError("merge_gap_s must not be negative")
        if self.degraded_sustain_rounds is not None and self.degraded_sustain_rounds < 1:
            raise ValueError("degraded_sustain_rounds must be at least 1")
        if self.local_tolerance_s < 0:
            raise ValueError("local_tolerance_s must not be negative")

    @property
    def merge_gap(self) -> float:
        """The merge gap in seconds, default applied."""
        if self.merge_gap_s is not None:
            return float(self.merge_gap_s)
        return max(DEFAULT_MERGE_GAP_S, 2.0 * self.interval_s)

    @property
    def degraded_rounds(self) -> int:
        """Consecutive SLOW-or-worse rounds that open a degraded incident."""
        if self.degraded_sustain_rounds is not None:
            need = self.degraded_sustain_rounds
        else:
            need = math.ceil(self.degraded_sustain_s / self.interval_s - 1e-9)
        return max(self.open_after, need, 1)

    def to_json(self) -> dict[str, Any]:
        return {
            "interval_s": self.interval_s,
            "open_after": self.open_after,
            "merge_gap_s": self.merge_gap,
            "rtt_ms_max": self.rtt_ms_max,
            "loss_pct_max": self.loss_pct_max,
            "degraded_sustain_rounds": self.degraded_rounds,
            "degraded_kinds": sorted(self.degraded_kinds) if self.degraded_kinds is not None else None,
            "gap_factor": self.gap_factor,
            "local_tolerance_s": self.local_tolerance_s,
        }


@dataclass(frozen=True, slots=True)
class Incident:
    """One incident, clipped to the report period.

    ``counted_s`` is the part of ``[start, end)`` the spans attribute to this
    kind (less than ``duration_s`` when a worse incident overlaps it).
    Bound datetimes are the raw round times (not clipped), for evidence.
    """

    kind: State
    start: datetime
    end: datetime
    duration_s: float
    duration_min_s: float
    duration_max_s: float | None
    counted_s: float
    last_good_before: datetime | None
    first_failed: datetime
    last_failed: datetime
    first_good_after: datetime | None
    start_bound: str
    end_bound: str
    rounds_failed: int
    rounds_good_inside: int
    error_classes: dict[str, int]
    first_row_id: int | None
    last_row_id: int | None
    clipped_start: bool
    clipped_end: bool

    @property
    def kind_name(self) -> str:
        return KIND_NAMES[self.kind]

    def to_json(self, ident: str | int | None = None) -> dict[str, Any]:
        def t(x: datetime | None) -> str | None:
            return timeline.iso_utc(x) if x is not None else None

        out: dict[str, Any] = {}
        if ident is not None:
            out["id"] = str(ident)
        out.update(
            {
                "kind": self.kind_name,
                "state": self.kind.value,
                "start": t(self.start),
                "end": t(self.end),
                "duration_s": self.duration_s,
                "duration_min_s": self.duration_min_s,
                "duration_max_s": self.duration_max_s,
                "counted_s": self.counted_s,
                "start_bounds": {"last_good_before": t(self.last_good_before), "first_failed": t(self.first_failed)},
                "end_bounds": {"last_failed": t(self.last_failed), "first_good_after": t(self.first_good_after)},
                "start_bound": self.start_bound,
                "end_bound": self.end_bound,
                "rounds_failed": self.rounds_failed,
                "rounds_good_inside": self.rounds_good_inside,
                "error_classes": dict(self.error_classes),
                "first_row_id": self.first_row_id,
                "last_row_id": self.last_row_id,
                "clipped_start": self.clipped_start,
                "clipped_end": self.clipped_end,
            }
        )
        return out


@dataclass(frozen=True, slots=True)
class TargetAnalysis:
    """Everything the report states about one target over one period.

    Seconds partition the period: up_s + downtime_s + partial_s + degraded_s
    + local_s + no_data_s == period_s.  covered_s = period_s − no_data_s;
    observed_s = covered_s − local_s; availability_pct = (observed_s −
    downtime_s) / observed_s × 100 (None when nothing was observed).
    """

    target: str | None
    period_start: datetime
    period_end: datetime
    timezone: str
    policy: IncidentPolicy
    incidents: tuple[Incident, ...]
    spans: tuple[Span, ...]  # tiling the period exactly
    spans_wide: tuple[Span, ...]  # tiling spans_window (== spans when none was given)
    period_s: float
    up_s: float
    downtime_s: float
    partial_s: float
    degraded_s: float
    local_s: float
    no_data_s: float
    covered_s: float
    observed_s: float
    availability_pct: float | None
    coverage_pct: float
    blips: int
    blip_rounds: int
    rounds: int
    rounds_failed: int
    rounds_local: int
    rounds_skipped: int
    daily: tuple[timeline.DayFigures, ...]

    def incidents_of(self, kind: State) -> list[Incident]:
        return [i for i in self.incidents if i.kind is kind]

    def to_json(self) -> dict[str, Any]:
        return {
            "target": self.target,
            "period": {
                "from": timeline.iso_utc(self.period_start),
                "to": timeline.iso_utc(self.period_end),
                "timezone": self.timezone,
            },
            "policy": self.policy.to_json(),
            "availability_pct": self.availability_pct,
            "coverage_pct": self.coverage_pct,
            "period_s": self.period_s,
            "up_s": self.up_s,
            "downtime_s": self.downtime_s,
            "partial_s": self.partial_s,
            "degraded_s": self.degraded_s,
            "local_s": self.local_s,
            "no_data_s": self.no_data_s,
            "covered_s": self.covered_s,
            "observed_s": self.observed_s,
            "blips": self.blips,
            "blip_rounds": self.blip_rounds,
            "rounds": self.rounds,
            "rounds_failed": self.rounds_failed,
            "rounds_local": self.rounds_local,
            "rounds_skipped": self.rounds_skipped,
            "incidents": [inc.to_json(i + 1) for i, inc in enumerate(self.incidents)],
            "spans": [
                {"start": timeline.iso_utc(s.start), "end": timeline.iso_utc(s.end), "state": s.state.value}
                for s in self.spans
            ],
            "daily": [d.to_json() for d in self.daily],
        }


# --------------------------------------------------------------------------
# Control targets


def control_down_intervals(
    control_rounds: Iterable[Iterable[Round]] | Iterable[Round],
    policy: IncidentPolicy,
) -> list[tuple[datetime, datetime]]:
    """Stretches ``[a, b)`` during which every control target was down.

    Accepts one iterable per control target, or one flat iterable of the
    rounds of all controls (grouped by ``Round.target``; each target's rounds
    sorted by ts).  A control's DOWN round (every non-skipped check failed)
    stands for ``[ts, ts + interval)``; the result is the intersection over
    the controls that sent any round.  Memory: O(down stretches).
    """
    it = iter(control_rounds)
    first = next(it, None)
    if first is None:
        return []
    stream: Iterable[Round]
    if isinstance(first, Round):
        stream = chain((first,), it)  # type: ignore[arg-type]
    else:
        stream = chain.from_iterable(chain((first,), it))  # type: ignore[arg-type]
    interval = timedelta(seconds=policy.interval_s)
    # target -> [last ts, open stretch start, open stretch end, closed stretches]
    state: dict[str, list[Any]] = {}
    for r in stream:
        st = state.get(r.target)
        if st is None:
            st = state[r.target] = [None, None, None, []]
        ts = r.ts
        if st[0] is not None and ts < st[0]:
            raise ValueError(f"control rounds of {r.target!r} are not sorted by ts")
        st[0] = r.until or ts
        n = fails = 0
        for c in r.checks:
            if c.error_class == SKIPPED:
                continue
            n += 1
            if not c.ok:
                fails += 1
        if n == 0:
            continue  # nothing measured: neither down nor up; ends nothing
        if n == fails:
            if st[1] is not None and ts <= st[2]:
                st[2] = max(st[2], ts + interval)
            else:
                if st[1] is not None:
                    st[3].append((st[1], st[2]))
                st[1], st[2] = ts, ts + interval
        elif st[1] is not None:
            st[3].append((st[1], st[2]))
            st[1] = st[2] = None
    per_target = []
    for st in state.values():
        if st[1] is not None:
            st[3].append((st[1], st[2]))
        per_target.append(st[3])
    if not per_target:
        return []
    result: list[tuple[datetime, datetime]] = per_target[0]
    for other in per_target[1:]:
        result = _intersect(result, other)
    return result


def _intersect(
    xs: Sequence[tuple[datetime, datetime]], ys: Sequence[tuple[datetime, datetime]]
) -> list[tuple[datetime, datetime]]:
    out = []
    i = j = 0
    while i < len(xs) and j < len(ys):
        a, b = max(xs[i][0], ys[j][0]), min(xs[i][1], ys[j][1])
        if a < b:
            out.append((a, b))
        if xs[i][1] < ys[j][1]:
            i += 1
        else:
            j += 1
    return out


def _local_windows(
    control_down: Sequence[tuple[datetime, datetime]], interval: timedelta, tolerance: timedelta
) -> list[tuple[datetime, datetime]]:
    """Open windows (lo, hi) for a round's ts: its [ts, ts+interval) overlaps a stretch."""
    wins = sorted((a - interval - tolerance, b + tolerance) for a, b in control_down if a < b)
    merged: list[tuple[datetime, datetime]] = []
    for a, b in wins:
        if merged and a < merged[-1][1]:
            if b > merged[-1][1]:
                merged[-1] = (merged[-1][0], b)
        else:
            merged.append((a, b))
    return merged


def agent_down_stretches(runs: Sequence[AgentRun] | None) -> list[tuple[datetime, datetime]]:
    """The complement of the agent's runs, as sorted [a, b) stretches."""
    return _agent_down(runs)


def _agent_down(runs: Sequence[AgentRun] | None) -> list[tuple[datetime, datetime]]:
    """The complement of the agent's runs, as sorted [a, b) stretches."""
    if runs is None:
        return []
    ivs = []
    for run in runs:
        start = run.started_at
        if run.clean is True:
            end = run.ended_at or run.last_seen or start
        elif run.clean is False:
            end = run.last_seen or start  # an unclean stop is known only to its last heartbeat
        else:
            end = run.ended_at or _MAX  # still running
        if end > start:
            ivs.append((start, end))
    ivs.sort()
    down = []
    cursor = _MIN
    for s, e in ivs:
        if s > cursor:
            down.append((cursor, s))
        if e > cursor:
            cursor = e
    if cursor < _MAX:
        down.append((cursor, _MAX))
    return down


# --------------------------------------------------------------------------
# The streaming pass


class _Building:
    """An incident (or a run of failed rounds that may become one) being built."""

    __slots__ = (
        "end",
        "end_bound",
        "errors",
        "first_good_after",
        "first_row",
        "first_ts",
        "good_inside",
        "last_good_before",
        "last_row",
        "last_ts",
        "opened",
        "rounds",
        "run",
        "start_bound",
    )

    def __init__(
        self,
        ts: datetime,
        last_good_before: datetime | None,
        start_bound: str,
        errs: tuple[str, ...],
        first_row: int | None,
        last_row: int | None,
    ) -> None:
        self.first_ts = ts
        self.last_good_before = last_good_before
        self.start_bound = start_bound
        self.last_ts = ts
        self.end: datetime | None = None
        self.first_good_after: datetime | None = None
        self.end_bound = OBSERVED
        self.rounds = 1
        self.run = 1
        self.good_inside = 0
        # Keyed by the round's tuple of error classes (one dict update per
        # round); expanded to per-class counts when the incident is finished.
        self.errors: dict[tuple[str, ...], int] = {errs: 1}
        self.first_row = first_row
        self.last_row = last_row if last_row is not None else first_row
        self.opened = False

    def add(self, ts: datetime, errs: tuple[str, ...], first_row: int | None, last_row: int | None) -> None:
        self.last_ts = ts
        self.rounds += 1
        self.run += 1
        errors = self.errors
        errors[errs] = errors.get(errs, 0) + 1
        if self.first_row is None:
            self.first_row = first_row
        if last_row is not None:
            self.last_row = last_row


class _Tracker:
    """Open/close/merge logic for one incident kind (DOWN, PARTIAL or DEGRADED)."""

    __slots__ = (
        "blip_rounds",
        "blips",
        "cur",
        "level",
        "merge_gap",
        "need",
        "out",
        "p0",
        "p1",
        "pending",
        "tent_blip_rounds",
        "tent_blips",
        "tent_errors",
        "tent_good",
        "tent_rounds",
    )

    def __init__(self, level: int, need: int, merge_gap: timedelta, p0: datetime, p1: datetime) -> None:
        self.level = level
        self.need = need
        self.merge_gap = merge_gap
        self.p0 = p0
        self.p1 = p1
        self.cur: _Building | None = None  # the current run of failed rounds (opened or not)
        self.pending: _Building | None = None  # closed, but may still merge with the next one
        self._reset_tentative()
        self.blips = 0
        self.blip_rounds = 0
        self.out: list[_Building] = []

    def _reset_tentative(self) -> None:
        # Short runs and good rounds after a pending incident: absorbed if it merges.
        self.tent_rounds = 0
        self.tent_errors: dict[tuple[str, ...], int] = {}
        self.tent_blips = 0
        self.tent_blip_rounds = 0
        self.tent_good = 0

    @property
    def idle(self) -> bool:
        return self.cur is None and self.pending is None

    def _blip(self, b: _Building) -> None:
        if self.p0 <= b.first_ts < self.p1:
            self.blips += 1
            self.blip_rounds += b.rounds

    def _finalize_pending(self) -> None:
        p = self.pending
        assert p is not None
        self.out.append(p)
        self.blips += self.tent_blips
        self.blip_rounds += self.tent_blip_rounds
        self.pending = None
        self._reset_tentative()

    def fail(
        self,
        ts: datetime,
        seg_prev: datetime | None,
        seg_reason: str,
        errs: tuple[str, ...],
        r0: int | None,
        r1: int | None,
    ) -> None:
        b = self.cur
        if b is None:
            p = self.pending
            if p is not None and ts - p.end >= self.merge_gap:  # type: ignore[operator]
                self._finalize_pending()
            if seg_prev is None:
                b = _Building(ts, None, seg_reason, errs, r0, r1)
            else:
                b = _Building(ts, seg_prev, OBSERVED, errs, r0, r1)
            self.cur = b
        else:
            b.add(ts, errs, r0, r1)
        if not b.opened and b.run >= self.need:
            p = self.pending
            if p is None:
                b.opened = True
                return
            # Merge: the pending incident absorbs the short runs and good rounds
            # in between, and this run.
            p.rounds += self.tent_rounds + b.rounds
            p.good_inside += self.tent_good
            errors = p.errors
            for src in (self.tent_errors, b.errors):
                for k, v in src.items():
                    errors[k] = errors.get(k, 0) + v
            p.last_ts = b.last_ts
            if b.last_row is not None:
                p.last_row = b.last_row
            if p.first_row is None:
                p.first_row = b.first_row
            p.end = None
            p.first_good_after = None
            p.run = b.run
            p.opened = True
            self.cur = p
            self.pending = None
            self._reset_tentative()

    def good(self, ts: datetime) -> None:
        b = self.cur
        if b is not None:
            self.cur = None
            if b.opened:
                b.end = ts
                b.first_good_after = ts
                b.end_bound = OBSERVED
                self.pending = b
                self._reset_tentative()
                self.tent_good = 1
                return
            if self.pending is not None:
                self.tent_rounds += b.rounds
                for k, v in b.errors.items():
                    self.tent_errors[k] = self.tent_errors.get(k, 0) + v
                if self.p0 <= b.first_ts < self.p1:
                    self.tent_blips += 1
                    self.tent_blip_rounds += b.rounds
            else:
                self._blip(b)
        p = self.pending
        if p is not None:
            if ts - p.end >= self.merge_gap:  # type: ignore[operator]
                self._finalize_pending()
            else:
                self.tent_good += 1

    def brk(self, at: datetime, reason: str) -> None:
        """Observation stops at ``at`` (no data or local outage): close everything."""
        b = self.cur
        if self.pending is not None:
            self._finalize_pending()
        if b is not None:
            self.cur = None
            if b.opened:
                b.end = at
                b.first_good_after = None
                b.end_bound = reason
                self.out.append(b)
            else:
                self._blip(b)


def _detail(
    checks: Sequence[CheckOutcome],
    any_failed: bool,
    rtt_max: float | None,
    loss_max: float | None,
    kinds: frozenset[str] | None,
) -> tuple[tuple[str, ...], int | None, int | None]:
    """Error classes and first/last evidence row ids of a non-UP round."""
    errs = []
    r0 = r1 = None
    for c in checks:
        if c.error_class == SKIPPED:
            continue
        if not c.ok:
            errs.append(c.error_class or UNCLASSIFIED)
        elif not any_failed and (kinds is None or c.kind in kinds):
            if rtt_max is not None and c.rtt_ms is not None and c.rtt_ms > rtt_max:
                errs.append(RTT_OVER)
            elif loss_max is not None and c.loss_pct is not None and c.loss_pct > loss_max:
                errs.append(LOSS_OVER)
            else:
                continue
        else:
            continue
        if c.row_id is not None:
            if r0 is None:
                r0 = c.row_id
            r1 = c.row_id
    return tuple(errs), r0, r1


def analyse_target(
    rounds: Iterable[Round],
    *,
    period_start: datetime,
    period_end: datetime,
    policy: IncidentPolicy,
    runs: Sequence[AgentRun] | None = None,
    control_down: Sequence[tuple[datetime, datetime]] = (),
    tz: tzinfo = UTC,
    target: str | None = None,
    spans_window: tuple[datetime, datetime] | None = None,
) -> TargetAnalysis:
    """Incidents, spans and figures for one target over ``[period_start, period_end)``.

    ``runs``: the agent's runs; None means "not known" (coverage from rounds
    alone), an empty sequence means the agent never ran (only rounds that
    exist count).  ``control_down``: from ``control_down_intervals`` (do not
    pass a control target's own stretches when analysing that control).
    ``tz``: the display zone for daily figures.  ``spans_window``: a wider
    window (containing the period) for ``spans_wide``, so that the SLA engine
    can judge an outage crossing a period edge whole; pass rounds covering it.
    Raises ValueError if rounds are not sorted by ts or times are naive.
    """
    if period_start.tzinfo is None or period_end.tzinfo is None:
        raise ValueError("period bounds must be timezone-aware")
    p0 = period_start.astimezone(UTC)
    p1 = period_end.astimezone(UTC)
    if p1 <= p0:
        raise ValueError("period_end must be after period_start")
    if spans_window is not None:
        w0, w1 = (w.astimezone(UTC) for w in spans_window)
        if not (w0 <= p0 and p1 <= w1):
            raise ValueError("spans_window must contain the period")
        spans_window = (w0, w1)

    interval = timedelta(seconds=policy.interval_s)
    tol = timedelta(seconds=policy.interval_s * policy.gap_factor)
    merge_gap = timedelta(seconds=policy.merge_gap)
    rtt_max = policy.rtt_ms_max
    loss_max = policy.loss_pct_max
    kinds = policy.degraded_kinds
    thresholds = rtt_max is not None or loss_max is not None

    downs = _agent_down(runs)
    n_downs = len(downs)
    di = 0
    da, db = downs[0] if downs else (_MAX, _MAX)
    wins = _local_windows(control_down, interval, timedelta(seconds=policy.local_tolerance_s))
    n_wins = len(wins)
    wi = 0
    wa, wb = wins[0] if wins else (_MAX, _MAX)

    deg = _Tracker(_SLOW, policy.degraded_rounds, merge_gap, p0, p1)
    par = _Tracker(_PARTIAL, policy.open_after, merge_gap, p0, p1)
    dwn = _Tracker(_DOWN, policy.open_after, merge_gap, p0, p1)
    trackers = (deg, par, dwn)

    nodata: list[tuple[datetime, datetime]] = []
    local_out: list[_Building] = []
    loc: _Building | None = None

    prev_ts: datetime | None = None  # last observed round (any state)
    seg_prev: datetime | None = None  # last observed non-local round since a break
    seg_reason = NO_DATA
    local_prev: datetime | None = None  # last observed round since a no-data break
    busy = False
    n_rounds = n_failed = n_local = n_skipped = 0

    for r in rounds:
        ts = r.ts
        checks = r.checks
        # --- classify (hot path: keep it to local variables) ---
        n = fails = 0
        slow = False
        for c in checks:
            if c.error_class == SKIPPED:
                continue
            n += 1
            if not c.ok:
                fails += 1
            elif thresholds and not slow and (kinds is None or c.kind in kinds):
                v = c.rtt_ms
                if rtt_max is not None and v is not None and v > rtt_max:
                    slow = True
                else:
                    v = c.loss_pct
                    if loss_max is not None and v is not None and v > loss_max:
                        slow = True
        inp = p0 <= ts < p1
        if n == 0:
            if inp:
                n_skipped += 1
            continue  # nothing measured: the round counts as missing
        if fails == 0:
            sev = _SLOW if slow else _UP
        elif fails == n:
            sev = _DOWN
        else:
            sev = _PARTIAL
        if inp:
            n_rounds += r.count

        # --- coverage between the previous round and this one ---
        if prev_ts is None:
            cov_end = ts
            nodata.append((_MIN, ts))
            if da <= ts:
                while db <= ts:
                    di += 1
                    da, db = downs[di] if di < n_downs else (_MAX, _MAX)
                if da <= ts:
                    da = ts + interval
                    if da >= db:
                        di += 1
                        da, db = downs[di] if di < n_downs else (_MAX, _MAX)
        else:
            d = ts - prev_ts
            if d > tol:
                cov_end = prev_ts + interval
                gap = True
            elif d < ZERO:
                raise ValueError(f"rounds not sorted by ts: {ts.isoformat()} after {prev_ts.isoformat()}")
            else:
                cov_end = ts
                gap = False
            if da <= ts:  # the agent's run table says it stopped somewhere here
                while db <= ts:
                    if da < cov_end:
                        cov_end = da
                    di += 1
                    da, db = downs[di] if di < n_downs else (_MAX, _MAX)
                if da <= ts:
                    # This round lies in a "not running" stretch: the round proves
                    # otherwise (a heartbeat can lag behind the last round).
                    if gap and da < cov_end:
                        cov_end = da
                    da = ts + interval
                    if da >= db:
                        di += 1
                        da, db = downs[di] if di < n_downs else (_MAX, _MAX)
            if cov_end < ts:
                nodata.append((cov_end, ts))
                if busy:
                    for t in trackers:
                        t.brk(cov_end, NO_DATA)
                    if loc is not None:
                        loc.end = cov_end
                        loc.end_bound = NO_DATA
                        local_out.append(loc)
                        loc = None
                seg_prev = None
                seg_reason = NO_DATA
                local_prev = None

        last = r.until or ts  # a compressed run of up rounds ends at its last round
        if sev == _UP and not busy:
            prev_ts = seg_prev = local_prev = last
            continue

        # --- the slow path: something is going on ---
        if sev > _UP and wa < ts:
            while wb <= ts:
                wi += 1
                wa, wb = wins[wi] if wi < n_wins else (_MAX, _MAX)
            if wa < ts < wb:
                sev = _LOCAL
        if sev > _UP:
            errs, r0, r1 = _detail(checks, fails > 0, rtt_max, loss_max, kinds)
        else:
            errs, r0, r1 = (), None, None
        if sev == _LOCAL:
            if inp:
                n_local += 1
            for t in trackers:
                t.brk(ts, LOCAL)
            seg_prev = None
            seg_reason = LOCAL
            if loc is None:
                loc = _Building(ts, local_prev, OBSERVED if local_prev is not None else NO_DATA, errs, r0, r1)
                loc.opened = True
            else:
                loc.add(ts, errs, r0, r1)
        else:
            if loc is not None:
                loc.end = ts
                loc.first_good_after = ts
                loc.end_bound = OBSERVED
                local_out.append(loc)
                loc = None
            if sev >= _PARTIAL and inp:
                n_failed += 1
            for t in trackers:
                if sev >= t.level:
                    b = t.cur
                    if b is not None and b.opened:  # inline: the common case in a long incident
                        b.last_ts = ts
                        b.rounds += 1
                        errors = b.errors
                        errors[errs] = errors.get(errs, 0) + 1
                        if r1 is not None:
                            b.last_row = r1
                    else:
                        t.fail(ts, seg_prev, seg_reason, errs, r0, r1)
                else:
                    t.good(ts)
            seg_prev = ts
            if last is not ts and sev == _UP:  # a run while an incident may still merge: its last round counts too
                for t in trackers:
                    t.good(last)
                seg_prev = last
        prev_ts = local_prev = last
        busy = loc is not None or not (deg.idle and par.idle and dwn.idle)

    # --- end of data ---
    if prev_ts is None:
        nodata = [(_MIN, _MAX)]
    else:
        cov_end = prev_ts + interval
        if da < cov_end:
            cov_end = da
        nodata.append((cov_end, _MAX))
        for t in trackers:
            t.brk(cov_end, NO_DATA)
        if loc is not None:
            loc.end = cov_end
            loc.end_bound = NO_DATA
            local_out.append(loc)

    return _assemble(
        target=target,
        p0=p0,
        p1=p1,
        tz=tz,
        policy=policy,
        nodata=nodata,
        built={State.DOWN: dwn.out, State.PARTIAL: par.out, State.DEGRADED: deg.out, State.LOCAL: local_out},
        blips=par.blips,
        blip_rounds=par.blip_rounds,
        counts=(n_rounds, n_failed, n_local, n_skipped),
        spans_window=spans_window,
    )


def _assemble(
    *,
    target: str | None,
    p0: datetime,
    p1: datetime,
    tz: tzinfo,
    policy: IncidentPolicy,
    nodata: list[tuple[datetime, datetime]],
    built: dict[State, list[_Building]],
    blips: int,
    blip_rounds: int,
    counts: tuple[int, int, int, int],
    spans_window: tuple[datetime, datetime] | None,
) -> TargetAnalysis:
    layers: dict[State, list[tuple[datetime, datetime]]] = {State.NO_DATA: nodata}
    for kind, bs in built.items():
        layers[kind] = [(b.first_ts, b.end) for b in bs]  # type: ignore[misc]
    spans = timeline.paint(p0, p1, layers)
    incidents = []
    for kind, bs in built.items():
        for b in bs:
            inc = _finish(b, kind, p0, p1, spans)
            if inc is None:
                continue
            if kind in (State.PARTIAL, State.DEGRADED) and inc.counted_s <= 0:
                continue  # entirely inside worse incidents: listing it would repeat them
            incidents.append(inc)
    incidents.sort(key=lambda i: (i.start, _KIND_ORDER[i.kind], i.end))
    tot = timeline.totals(spans)
    period = p1 - p0
    covered = period - tot[State.NO_DATA]
    observed = covered - tot[State.LOCAL]
    n_rounds, n_failed, n_local, n_skipped = counts
    return TargetAnalysis(
        target=target,
        period_start=p0,
        period_end=p1,
        timezone=getattr(tz, "key", None) or str(tz),
        policy=policy,
        incidents=tuple(incidents),
        spans=tuple(spans),
        spans_wide=tuple(timeline.paint(*spans_window, layers)) if spans_window else tuple(spans),
        period_s=period.total_seconds(),
        up_s=tot[State.UP].total_seconds(),
        downtime_s=tot[State.DOWN].total_seconds(),
        partial_s=tot[State.PARTIAL].total_seconds(),
        degraded_s=tot[State.DEGRADED].total_seconds(),
        local_s=tot[State.LOCAL].total_seconds(),
        no_data_s=tot[State.NO_DATA].total_seconds(),
        covered_s=covered.total_seconds(),
        observed_s=observed.total_seconds(),
        availability_pct=timeline.availability(observed, tot[State.DOWN]),
        coverage_pct=100.0 * (covered / period),
        blips=blips,
        blip_rounds=blip_rounds,
        rounds=n_rounds,
        rounds_failed=n_failed,
        rounds_local=n_local,
        rounds_skipped=n_skipped,
        daily=tuple(timeline.daily(spans, p0, p1, tz)),
    )


def _finish(b: _Building, kind: State, p0: datetime, p1: datetime, spans: Sequence[Span]) -> Incident | None:
    raw_start, raw_end = b.first_ts, b.end
    assert raw_end is not None
    if raw_end <= p0 or raw_start >= p1:
        return None
    clipped_start = raw_start < p0
    clipped_end = raw_end > p1
    start = max(raw_start, p0)
    end = min(raw_end, p1)

    def clip(x: datetime) -> datetime:
        return min(max(x, p0), p1)

    lo = p0 if clipped_start else (clip(b.last_good_before) if b.last_good_before is not None else None)
    hi = p1 if clipped_end else (clip(b.first_good_after) if b.first_good_after is not None else None)
    per_class: dict[str, int] = {}
    for errs, count in b.errors.items():
        for e in errs:
            per_class[e] = per_class.get(e, 0) + count
    errors = dict(sorted(per_class.items(), key=lambda kv: (-kv[1], kv[0])))
    return Incident(
        kind=kind,
        start=start,
        end=end,
        duration_s=(end - start).total_seconds(),
        duration_min_s=(clip(b.last_ts) - clip(b.first_ts)).total_seconds(),
        duration_max_s=(hi - lo).total_seconds() if lo is not None and hi is not None else None,
        counted_s=timeline.overlap(spans, start, end, kind).total_seconds(),
        last_good_before=b.last_good_before,
        first_failed=b.first_ts,
        last_failed=b.last_ts,
        first_good_after=b.first_good_after,
        start_bound=b.start_bound,
        end_bound=b.end_bound,
        rounds_failed=b.rounds,
        rounds_good_inside=b.good_inside,
        error_classes=errors,
        first_row_id=b.first_row,
        last_row_id=b.last_row,
        clipped_start=clipped_start,
        clipped_end=clipped_end,
    )
