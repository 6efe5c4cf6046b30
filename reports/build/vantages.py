"""A target measured by several agents: each agent's view analysed apart, then read together.

Only when the database holds more than one agent's rows for the target in the window (the
central database of a fleet): a single agent's report takes none of this. Each vantage's
timeline comes from the same analysis as the report's own (its rows, its runs, its control
targets), through ``AnalyseOne`` supplied by reports/build/summary.py; the reading across
vantages is reports.analysis.vantage (confirmed by a quorum, or seen from too few).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from agent.store import Store
from agent.store.vantages import agent_checks
from reports.analysis.incidents import TargetAnalysis
from reports.analysis.vantage import FleetAnalysis, VantageTimeline, analyse_vantages
from reports.build.rounds import TargetChecks
from reports.render.model_vantage import (
    QUORUM_ROW,
    FleetIncidentEntry,
    VantageEntry,
    VantageSection,
    VantageSightEntry,
)



@dataclass(frozen=True)
class Vantage:
    """One agent's checks of a target and of the control targets."""

    name: str
    agent_uuid: str
    host: str
    checks: dict[str, TargetChecks] = field(default_factory=dict)


AnalyseOne = Callable[[Vantage], TargetAnalysis]


@dataclass(frozen=True)
class FleetView:
    """The vantages of one target: each one's analysis, the period's reading, and the wide one
    (an hour past both edges, the same quorum) that the SLA evaluation counts."""

    vantages: tuple[Vantage, ...]
    per_vantage: dict[str, TargetAnalysis]
    period: FleetAnalysis
    wide: FleetAnalysis


def vantages_of(store: Store, target: str, controls: Sequence[str], a_us: int, b_us: int) -> list[Vantage]:
    """The agents with rows of ``target`` in [a_us, b_us); empty unless there are two or more."""
    found: dict[str, Vantage] = {}
    for c in agent_checks(store, [target, *controls]):
        v = found.setdefault(c.agent_uuid, Vantage(c.hostname, c.agent_uuid, c.hostname))
        tc = v.checks.setdefault(c.target, TargetChecks(c.target))
        tc.ids.append(c.id)
        tc.kind_of[c.id] = c.kind
        tc.settings.append(json.loads(c.settings))
    if len(found) < 2:
        return []
    measured = [v for v in found.values() if target in v.checks and store.has_rows(v.checks[target].round_ids, a_us, b_us)]
    if len(measured) < 2:
        return []
    hosts = [v.host for v in measured]
    named = [Vantage(v.host if hosts.count(v.host) == 1 else f"{v.host} ({v.agent_uuid[:8]})", v.agent_uuid, v.host, v.checks)
             for v in measured]
    return sorted(named, key=lambda v: v.name)


def fleet_view(vantages: Sequence[Vantage], analyse_one: AnalyseOne, quorum: int | None = None) -> FleetView:
    per = {v.name: analyse_one(v) for v in vantages}
    any_res = next(iter(per.values()))
    period = analyse_vantages([VantageTimeline(n, r.spans) for n, r in per.items()], any_res.period_start,
                              any_res.period_end, quorum)
    wide_start, wide_end = any_res.spans_wide[0].start, any_res.spans_wide[-1].end
    wide = analyse_vantages([VantageTimeline(n, r.spans_wide) for n, r in per.items()], wide_start, wide_end,
                            period.quorum)
    return FleetView(tuple(vantages), per, period, wide)


def section(view: FleetView, idx: int) -> VantageSection:
    """The report model's vantage section; incidents numbered T<idx>-V<n>."""
    fa = view.period
    figures = {f.vantage: f for f in fa.figures}
    entries = tuple(VantageEntry(name=v.name, agent_id=v.agent_uuid, host=v.host, observed_s=figures[v.name].observed_s,
                                 down_s=figures[v.name].down_s, local_s=figures[v.name].local_s,
                                 no_data_s=figures[v.name].no_data_s) for v in view.vantages)
    incidents = tuple(
        FleetIncidentEntry(id=f"T{idx}-V{n}", confirmed=i.confirmed, start=i.start, end=i.end, earliest=i.earliest,
                           latest=i.latest, agreed_s=i.agreed_s, vantages=i.vantages,
                           sights=tuple(VantageSightEntry(vantage=s.vantage, start=s.start, end=s.end) for s in i.sights))
        for n, i in enumerate(fa.incidents, 1))
    return VantageSection(quorum=fa.quorum, quorum_rule="majority" if fa.quorum_rule == "majority" else "fixed",
                          vantages=entries, with_data=fa.with_data, confirmed_s=fa.confirmed_s, sla_counts="confirmed",
                          incidents=incidents)


def strip_series(view: FleetView) -> list[tuple[str, datetime, datetime, str]]:
    """(row, start, end, state) for the per-vantage strip: each vantage, then the combined reading."""
    out: list[tuple[str, datetime, datetime, str]] = []
    for name, res in view.per_vantage.items():
        out += [(name, s.start, s.end, s.state.value) for s in res.spans]
    out += [(QUORUM_ROW, s.start, s.end, s.state.value) for s in view.period.spans]
    return out
