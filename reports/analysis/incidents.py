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

The steps live in modules of their own: incident_types (policy and results),
severity (the one round classifier), coverage (no data), control (control
targets, local outages), incident_tracker (open/close/merge), incident_pass (the
streaming pass) and incident_assembly (spans, clipping, figures).

Headline times: ``start`` = first failed round's ts; ``end`` = first good
round's ts after it (equivalently the end of the last failed round's time),
or where data stops.  Bounds: ``duration_min_s`` = last failed − first failed;
``duration_max_s`` = first good after − last good before (None when a bound
was not observed: no data or local outage next to the incident).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, datetime, tzinfo

from reports.analysis.control import control_down_intervals
from reports.analysis.coverage import ZERO, agent_down_stretches
from reports.analysis.incident_assembly import assemble
from reports.analysis.incident_pass import IncidentPass
from reports.analysis.incident_types import (
    DEFAULT_DEGRADED_SUSTAIN_S,
    DEFAULT_MERGE_GAP_S,
    KIND_NAMES,
    LOCAL,
    NO_DATA,
    OBSERVED,
    Incident,
    IncidentPolicy,
    TargetAnalysis,
)
from reports.analysis.model import AgentRun, Round
from reports.analysis.severity import LOSS_OVER, RTT_OVER, UNCLASSIFIED

__all__ = [
    "DEFAULT_DEGRADED_SUSTAIN_S",
    "DEFAULT_MERGE_GAP_S",
    "KIND_NAMES",
    "LOCAL",
    "LOSS_OVER",
    "NO_DATA",
    "OBSERVED",
    "RTT_OVER",
    "UNCLASSIFIED",
    "UTC",
    "ZERO",
    "Incident",
    "IncidentPolicy",
    "TargetAnalysis",
    "agent_down_stretches",
    "analyse_target",
    "control_down_intervals",
]


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
    p0, p1, window = _checked_period(period_start, period_end, spans_window)
    scan = IncidentPass(policy, p0, p1, runs, control_down)
    scan.feed(rounds)
    return assemble(
        target=target,
        p0=p0,
        p1=p1,
        tz=tz,
        policy=policy,
        nodata=scan.coverage.nodata,
        built=scan.built(),
        blips=scan.partial.blips,
        blip_rounds=scan.partial.blip_rounds,
        counts=(scan.rounds, scan.rounds_failed, scan.rounds_local, scan.rounds_skipped),
        spans_window=window,
    )


def _checked_period(
    period_start: datetime, period_end: datetime, spans_window: tuple[datetime, datetime] | None
) -> tuple[datetime, datetime, tuple[datetime, datetime] | None]:
    """The period (and the wider spans window) in UTC; ValueError when naive, empty or not nested."""
    if period_start.tzinfo is None or period_end.tzinfo is None:
        raise ValueError("period bounds must be timezone-aware")
    p0 = period_start.astimezone(UTC)
    p1 = period_end.astimezone(UTC)
    if p1 <= p0:
        raise ValueError("period_end must be after period_start")
    if spans_window is None:
        return p0, p1, None
    w0, w1 = (w.astimezone(UTC) for w in spans_window)
    if not (w0 <= p0 and p1 <= w1):
        raise ValueError("spans_window must contain the period")
    return p0, p1, (w0, w1)
