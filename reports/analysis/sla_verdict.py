"""The verdict: met, breached, not enough data, or no uptime term; and the sentence saying why.

Comparisons are on exact fractions. With too little data a breach still
stands when known downtime alone proves it (all unknown time taken as up):
missing data must never hide a breach nor invent one.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

from reports.analysis.sla_account import Account, Tiling, account
from reports.analysis.sla_result import Verdict
from reports.analysis.sla_terms import SlaDefinition
from reports.analysis.timeline import pct_down


@dataclass(frozen=True)
class Decision:
    verdict: Verdict
    basis: str  # the sentence a report prints next to the verdict
    uptime: Fraction | None  # the uptime the verdict (and any credit) rests on
    account: Account  # the downtime accounting it rests on


def decide(d: SlaDefinition, tiling: Tiling, acc: Account, *, uptime: Fraction | None, coverage: Fraction) -> Decision:
    """The verdict on ``uptime`` (0..1) when ``coverage`` (%) suffices, else on proven downtime."""
    if d.uptime_target_pct is None:
        return Decision(Verdict.NO_UPTIME_TERM, "the definition has no uptime target", uptime, acc)
    target_pct = Fraction(d.uptime_target_pct)
    need = d.no_data.min_coverage_pct
    shown = pct_down(coverage / 100, 2)
    if coverage >= Fraction(need) and uptime is not None:
        verdict = Verdict.BREACHED if uptime * 100 < target_pct else Verdict.MET
        return Decision(verdict, f"coverage {shown} % >= {need} %; no-data rule: {d.no_data.rule}", uptime, acc)
    proof = acc if d.no_data.rule == "up" else account(d, tiling, "up")
    period_us = tiling.p1 - tiling.p0
    proven = Fraction(period_us - min(proof.counted_us, period_us), period_us)
    if proven * 100 < target_pct:
        return Decision(Verdict.BREACHED, (
            f"coverage {shown} % < {need} %, but the breach is "
            "proven by measured downtime alone (all unknown time taken as up)"
        ), proven, proof)
    return Decision(Verdict.NOT_ENOUGH_DATA, (
        f"coverage {shown} % < {need} % and the measured "
        "downtime alone does not prove a breach"
    ), uptime, acc)
