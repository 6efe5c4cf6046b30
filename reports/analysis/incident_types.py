"""The policy that turns rounds into incidents, and the results the report states.

Plain frozen values shared by every step of the incident analysis (reports/analysis/incidents.py
runs it) and by the report builders that read its results; kept apart so that the steps can
import them without importing each other.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from reports.analysis import timeline
from reports.analysis.model import Span, State

DEFAULT_MERGE_GAP_S = 60.0
DEFAULT_DEGRADED_SUSTAIN_S = 300.0

# The report's (and summary.json's) names for incident kinds.
KIND_NAMES: dict[State, str] = {
    State.DOWN: "outage",
    State.PARTIAL: "partial",
    State.DEGRADED: "degraded",
    State.LOCAL: "local",
}
KIND_ORDER = {State.DOWN: 0, State.PARTIAL: 1, State.DEGRADED: 2, State.LOCAL: 3}  # for sorting at equal starts

# Bound causes: what was seen next to an incident's start or end.
OBSERVED = "observed"  # a good round was seen next to the incident
NO_DATA = "no_data"  # no rounds (agent stopped, rounds missing)
LOCAL = "local"  # the agent's own network was down next to the incident


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
