"""The vantage section of a target's page: the quorum rule in one sentence, each vantage point's
share, and every outage with its finding (confirmed, or seen from too few places) and each
vantage's own bounds. Read from the report model's VantageSection only."""

from __future__ import annotations

from datetime import tzinfo

from reports.render.blocks import Block, Heading, Para, Table
from reports.render.i18n import fmt_duration, fmt_time, label
from reports.render.model_vantage import FleetIncidentEntry, VantageSection

DASH = "\u2013"


def rule_sentence(v: VantageSection, lang: str) -> str:
    """The quorum rule as the reader needs it: how many places had to agree, and what counts."""
    key = "vantage.rule_majority" if v.quorum_rule == "majority" else "vantage.rule_fixed"
    return label(key, lang, n=len(v.vantages), quorum=v.quorum, with_data=len(v.with_data))


def finding(inc: FleetIncidentEntry, v: VantageSection, lang: str) -> str:
    k = len(inc.vantages)
    if inc.confirmed:
        return label("vantage.confirmed", lang, k=k, n=len(v.vantages))
    return label("vantage.single", lang) if k == 1 else label("vantage.few", lang, k=k, quorum=v.quorum)


def _sights(inc: FleetIncidentEntry, zone: tzinfo) -> str:
    return "\n".join(f"{s.vantage}: {fmt_time(s.start, zone)} \u2192 {fmt_time(s.end, zone)}" for s in inc.sights)


def vantage_blocks(v: VantageSection | None, lang: str, zone: tzinfo) -> list[Block]:
    if v is None:
        return []
    blocks: list[Block] = [
        Heading(label("vantage.heading", lang), 2),
        Para(rule_sentence(v, lang)),
        Para(label("vantage.confirmed_total", lang, duration=fmt_duration(v.confirmed_s, lang))),
        Table([label(k, lang) for k in ("vantage.name", "vantage.agent", "vantage.observed", "vantage.down",
                                        "vantage.local", "vantage.no_data")],
              [[e.name, e.agent_id, fmt_duration(e.observed_s, lang), fmt_duration(e.down_s, lang),
                fmt_duration(e.local_s, lang), fmt_duration(e.no_data_s, lang)] for e in v.vantages],
              [0.22, 0.30, 0.12, 0.12, 0.12, 0.12], frozenset({2, 3, 4, 5})),
        Heading(label("vantage.incidents", lang), 2),
    ]
    if not v.incidents:
        return [*blocks, Para(label("vantage.none", lang), "small")]
    rows = [[i.id, finding(i, v, lang), fmt_time(i.start, zone), fmt_time(i.end, zone),
             fmt_duration(i.agreed_s, lang) if i.confirmed else DASH, _sights(i, zone)] for i in v.incidents]
    cols = ("vantage.id", "vantage.status", "vantage.start", "vantage.end", "vantage.counted", "vantage.sights")
    return [*blocks, Table([label(k, lang) for k in cols], rows, [0.08, 0.16, 0.15, 0.15, 0.10, 0.36], frozenset({4}))]
