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


AnalyseOne = Callable[[Store, str, Vantage], TargetAnalysis]  # (store, target name, vantage) → its analysis
MIN_FORKED = 4  # analyses below this run in this process


class _Fork:
    """A worker process's state: the analysis (set before the pool forks) and its own store connection."""

    fn: AnalyseOne | None = None
    url: str = ""
    store: Store | None = None


def _forked(task: tuple[str, Vantage]) -> tuple[str, str, TargetAnalysis]:
    name, v = task
    assert _Fork.fn is not None, "set before the pool forks"
    if _Fork.store is None:
        _Fork.store = Store.open(_Fork.url, migrate=False)
    return name, v.name, _Fork.fn(_Fork.store, name, v)


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


def fleet_views(store: Store, found: dict[str, list[Vantage]], analyse_one: AnalyseOne, workers: int | None,
                quorum: int | None = None) -> dict[str, FleetView]:
    """Each target's vantages analysed (in worker processes, one per core, when there are several) and read together."""
    import multiprocessing as mp
    import os

    tasks = [(name, v) for name, vs in found.items() for v in vs]
    n = workers if workers is not None else min(os.cpu_count() or 1, 8)
    per: dict[str, dict[str, TargetAnalysis]] = {name: {} for name in found}
    if len(tasks) >= MIN_FORKED and n > 1 and "fork" in mp.get_all_start_methods() and not store.raw_url.endswith(":memory:"):
        _Fork.fn, _Fork.url, _Fork.store = analyse_one, store.raw_url, None
        try:
            with mp.get_context("fork").Pool(n) as pool:
                for name, vname, res in pool.imap_unordered(_forked, tasks):
                    per[name][vname] = res
        finally:
            _Fork.fn, _Fork.url, _Fork.store = None, "", None
    else:
        for name, v in tasks:
            per[name][v.name] = analyse_one(store, name, v)
    return {name: fleet_view(vs, {v.name: per[name][v.name] for v in vs}, quorum) for name, vs in found.items()}


def fleet_view(vantages: Sequence[Vantage], per: dict[str, TargetAnalysis], quorum: int | None = None) -> FleetView:
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
