"""Which terms a verdict rests on, with their values, provenance and confidence.

A report lists these so a reader can see every rule applied; anything not read
verbatim in the provider's text (and not the user's own override) is printed
as unconfirmed.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Literal

from reports.analysis.sla_result import FieldUse
from reports.analysis.sla_terms import Confidence, SlaDefinition

Source = Literal["preset", "override", "custom"]


def _always(d: SlaDefinition) -> bool:
    return True


# The terms in the order a report lists them, each with when it takes part in the verdict.
_FIELDS: tuple[tuple[str, Callable[[SlaDefinition], bool]], ...] = (
    ("uptime_target_pct", _always),
    ("period.kind", _always),
    ("period.timezone", _always),
    ("period.anchor_day", lambda d: d.period.kind == "billing_month"),
    ("counting.window_s", _always),
    ("counting.window_down_when", _always),
    ("counting.min_outage_s", _always),
    ("counting.down_states", _always),
    ("counting.checks", _always),
    ("no_data.rule", _always),
    ("no_data.min_coverage_pct", _always),
    ("credit.mode", _always),
    ("counting.starts_at", lambda d: d.counting.starts_at != "outage"),
    ("counting.min_outage_strict", lambda d: bool(d.counting.min_outage_s)),
    ("credit.tiers", lambda d: d.credit.mode == "tiered"),
    ("credit.duration_table", lambda d: d.credit.mode == "duration_table"),
    ("credit.cap_pct", lambda d: d.credit.cap_pct is not None),
    ("credit.minimum_amount", lambda d: d.credit.minimum_amount is not None),
    ("credit.clock_hour_rule", lambda d: d.credit.clock_hour_rule is not None),
    ("claim.anchor", lambda d: d.claim is not None),
    ("claim.evidence", lambda d: d.claim is not None),
)


def fields_used(d: SlaDefinition) -> list[FieldUse]:
    """The terms that take part in ``d``'s verdict, then each performance term."""
    out = [_field_use(d, path) for path, applies in _FIELDS if applies(d)]
    for i, term in enumerate(d.performance):
        src = _source(d, f"performance.{i}") if d.preset else "custom"
        out.append(
            FieldUse(f"performance[{i}].{term.metric}", f"{term.statistic} {term.comparator} {term.threshold}",
                     "override" if src == "override" else term.confidence.value, src)
        )
    return out


def unconfirmed(fields: list[FieldUse]) -> list[str]:
    """Paths of preset terms not read verbatim in the provider's text (overrides are the user's word)."""
    return [f.path for f in fields if f.source != "override" and f.confidence != Confidence.VERBATIM.value]


def _source(d: SlaDefinition, path: str) -> Source:
    if d.preset is None:
        return "custom"
    for o in d.overrides:
        if o == path or o.startswith(path + ".") or path.startswith(o + ".") or o == path.split(".")[0] == "performance":
            return "override"
    return "preset"


def _field_use(d: SlaDefinition, path: str) -> FieldUse:
    value: Any = d
    for part in path.split("."):
        value = getattr(value, part)
    if isinstance(value, list):
        text = "; ".join(_short(v) for v in value) or "(none)"
    else:
        text = _short(value)
    src = _source(d, path)
    conf = "override" if src == "override" else d.confidence_of(path).value
    return FieldUse(path, text, conf, src)


def _short(v: Any) -> str:
    if hasattr(v, "model_dump"):
        return ", ".join(f"{k}={x}" for k, x in v.model_dump(exclude_none=True).items())
    return str(v)
