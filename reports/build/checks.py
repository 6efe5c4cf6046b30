"""Per-check truth: each check kind of a target judged on its own, by the target's own rules.

Why: a target is down only when every check failed. A web service refusing connections for an hour
while ping answers is "partial" for the target, with an availability of 100 %, and nothing in the
target's figures says the web service was down. So each check kind is analysed as if it were the
target's only check (the same incident pass, gap rule, no-data and local rules, open-after and
merge gap: reports.analysis.incidents.analyse_target over that kind's rows alone), and its own
downtime and availability are reported beside the target's (docs/methods.md, "Each check on its
own"). The SLA counts the checks its definition names (``counting.checks``): "all" is the target's
outage state; a list of kinds is the same analysis over those kinds' rows alone.
"""

from __future__ import annotations

from collections.abc import Iterable

from agent.config import Target
from reports.analysis.incidents import TargetAnalysis
from reports.analysis.sla_terms import SlaConfigError
from reports.analysis.timeline import coverage_pct, observed_time
from reports.build.rounds import OWN_SCHEDULE_KINDS, TargetChecks
from reports.render.model import CheckFigures

KindSet = tuple[str, ...]  # sorted check kinds


def round_kinds(tc: TargetChecks) -> KindSet:
    """The check kinds of a target's rounds (every check but those on their own schedule: bandwidth, host), sorted."""
    return tuple(sorted({tc.kind_of[i] for i in tc.round_ids}))


def restrict(tc: TargetChecks, kinds: Iterable[str]) -> TargetChecks:
    """The target's checks of ``kinds`` only (every settings version of each)."""
    keep = set(kinds)
    pairs = [(i, s) for i, s in zip(tc.ids, tc.settings) if tc.kind_of[i] in keep]
    return TargetChecks(tc.name, [i for i, _ in pairs], {i: tc.kind_of[i] for i, _ in pairs}, [s for _, s in pairs])


def sla_check_kinds(t: Target) -> KindSet | None:
    """The check kinds whose joint failure is the SLA's downtime, or None for every check ("all").

    A kind the target does not configure is a configuration error naming the key."""
    if not t.sla:
        return None
    from reports.presets import resolve

    kinds = resolve(dict(t.sla)).counting.check_kinds
    configured = sorted({c.kind for c in t.checks if c.kind not in OWN_SCHEDULE_KINDS})
    missing = [k for k in kinds or () if k not in configured]
    if missing:
        raise SlaConfigError(f"targets.{t.name}.sla.counting.checks: {', '.join(missing)} is not a check of this target "
                             f"(its checks: {', '.join(configured) or 'none'}); name its checks or use \"all\"")
    return kinds


def kind_sets(tc: TargetChecks, sla_kinds: KindSet | None) -> list[KindSet]:
    """The check-kind sets to analyse apart from the target: each kind, when the target has several,
    and the SLA's own set when it is neither one of those nor every kind."""
    kinds = round_kinds(tc)
    sets: list[KindSet] = [(k,) for k in kinds] if len(kinds) > 1 else []
    if sla_kinds is not None and sla_kinds != kinds and sla_kinds not in sets:
        sets.append(sla_kinds)
    return sets


def analysis_for(kinds: KindSet | None, target: TargetAnalysis, apart: dict[KindSet, TargetAnalysis]) -> TargetAnalysis:
    """The analysis of ``kinds`` (None: every check, the target's own)."""
    if kinds is None:
        return target
    return apart.get(kinds, target)


def check_figures(tc: TargetChecks, target: TargetAnalysis, apart: dict[KindSet, TargetAnalysis],
                  sla_kinds: KindSet | None, has_sla: bool) -> tuple[CheckFigures, ...]:
    """Each check kind's own figures; with a single kind, they are the target's."""
    out = []
    for kind in round_kinds(tc):
        res = apart.get((kind,), target)
        observed, length = observed_time(res.spans)
        out.append(CheckFigures(
            kind=kind,
            availability_pct=res.availability_pct,
            downtime_s=res.downtime_s,
            coverage_pct=coverage_pct(observed, length),
            outages=sum(1 for i in res.incidents if i.kind_name == "outage"),
            rounds=res.rounds,
            rounds_failed=res.rounds_failed,
            counts_toward_sla=(sla_kinds is None or kind in sla_kinds) if has_sla else None,
        ))
    return tuple(out)
