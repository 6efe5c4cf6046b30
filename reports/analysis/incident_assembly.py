"""From the incidents the pass built to the figures the report states about one target.

The spans paint the period with precedence NO_DATA > LOCAL > DOWN > PARTIAL >
DEGRADED > UP, so that every second is counted once; each incident is clipped
to the period, and its error classes, bounds and counted seconds are taken from
what the pass recorded.  Kept apart from the pass: this runs once per target,
over a few incidents, not once per round.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, tzinfo

from reports.analysis import timeline
from reports.analysis.incident_tracker import Building
from reports.analysis.incident_types import KIND_ORDER, Incident, IncidentPolicy, TargetAnalysis
from reports.analysis.model import Span, State
from reports.analysis.severity import ErrorKey

Layers = dict[State, list[tuple[datetime, datetime]]]


def assemble(
    *,
    target: str | None,
    p0: datetime,
    p1: datetime,
    tz: tzinfo,
    policy: IncidentPolicy,
    nodata: list[tuple[datetime, datetime]],
    built: dict[State, list[Building]],
    blips: int,
    blip_rounds: int,
    counts: tuple[int, int, int, int],
    spans_window: tuple[datetime, datetime] | None,
) -> TargetAnalysis:
    """The analysis of one target: spans painted, incidents clipped and listed, seconds added up.

    ``counts``: rounds, failed rounds, local rounds and skipped rounds in the period.
    """
    layers = _layers(nodata, built)
    spans = timeline.paint(p0, p1, layers)
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
        incidents=tuple(_listed(built, p0, p1, spans)),
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


def _layers(nodata: list[tuple[datetime, datetime]], built: dict[State, list[Building]]) -> Layers:
    """What the spans are painted from: no-data stretches and each kind's incidents, first to last round's end."""
    layers: Layers = {State.NO_DATA: nodata}
    for kind, bs in built.items():
        layers[kind] = [(b.first_ts, _end(b)) for b in bs]
    return layers


def _end(b: Building) -> datetime:
    assert b.end is not None, "the pass closes every incident it builds"
    return b.end


def _listed(built: dict[State, list[Building]], p0: datetime, p1: datetime, spans: Sequence[Span]) -> list[Incident]:
    """The incidents the report lists, by start (outage first at equal starts)."""
    incidents = []
    for kind, bs in built.items():
        for b in bs:
            inc = _clipped(b, kind, p0, p1, spans)
            if inc is None:
                continue
            if kind in (State.PARTIAL, State.DEGRADED) and inc.counted_s <= 0:
                continue  # entirely inside worse incidents: listing it would repeat them
            incidents.append(inc)
    incidents.sort(key=lambda i: (i.start, KIND_ORDER[i.kind], i.end))
    return incidents


def _per_class(errors: dict[ErrorKey, int]) -> dict[str, int]:
    """Rounds per error class, most frequent first (a round counts once for each class it shows)."""
    per_class: dict[str, int] = {}
    for errs, count in errors.items():
        for e in errs:
            per_class[e] = per_class.get(e, 0) + count
    return dict(sorted(per_class.items(), key=lambda kv: (-kv[1], kv[0])))


def _clipped(b: Building, kind: State, p0: datetime, p1: datetime, spans: Sequence[Span]) -> Incident | None:
    """The incident as the period sees it (None when it lies outside); bound times stay raw, for evidence."""
    raw_start, raw_end = b.first_ts, _end(b)
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
        error_classes=_per_class(b.errors),
        first_row_id=b.first_row,
        last_row_id=b.last_row,
        clipped_start=clipped_start,
        clipped_end=clipped_end,
    )
