"""The SLA section of a target's page, in words: how the provider counts, what was counted, the credit
and how it follows from the tiers, and the evidence the provider asks for, each ticked with the file
that holds it. Every configured term, with its source and confidence, is in the appendix
"Terms as applied" (content_terms.py); no internal key is printed here.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, tzinfo

from reports.render.blocks import Block, Bullets, Heading, KeyValues, Para, Table
from reports.render.content_claim import credit_line, verdict_reason
from reports.render.content_parts import time_cell
from reports.render.content_terms import parse_objects, secs_words, term_sentence, tier_range
from reports.render.i18n import LABELS, fmt_duration, fmt_pct, label, verdict_label
from reports.render.model import SlaSection, TargetReport
from reports.render.sla_words import evaluation_text
from reports.render.words import deadline_text, fmt_target, fmt_uptime

CHECKED, UNCHECKED = "\u2611", "\u2610"


def counting_rule(sla: SlaSection, lang: str) -> str:
    """The provider's counting rule in one sentence of the report's language."""
    states = ", ".join(label(f"state.{s}", lang) if f"state.{s}" in LABELS else s for s in sla.down_states)
    when = sla.window_down_when if f"rule.window_{sla.window_down_when}" in LABELS else "all"
    window = label("rule.second", lang) if sla.window_s <= 1 else label(
        f"rule.window_{when}", lang, w=secs_words(sla.window_s, lang), states=states)
    parts = [label("rule.head", lang, provider=sla.provider, window=window)]
    if isinstance(sla.checks, tuple) and sla.checks:
        parts.append(label("rule.checks_some", lang, kinds=label("rule.or", lang).join(k.upper() for k in sla.checks)))
    else:
        parts.append(label("rule.checks_all", lang))
    if sla.min_outage_s:
        parts.append(label("rule.min_strict" if sla.min_outage_strict else "rule.min", lang, d=secs_words(sla.min_outage_s, lang)))
    if f"rule.no_data_{sla.no_data_rule}" in LABELS:
        parts.append(label(f"rule.no_data_{sla.no_data_rule}", lang))
    parts.append(label("rule.local", lang))
    return label("rule.join", lang).join(parts) + label("rule.end", lang)


def _figures(sla: SlaSection, lang: str) -> list[tuple[str, str]]:
    counted = fmt_duration(sla.counted_downtime_s, lang)
    if sla.window_s > 1 and sla.counted_windows:
        counted += "\n" + label("sla.windows_v", lang, n=sla.counted_windows, w=secs_words(sla.window_s, lang))
    rows = [
        (label("sla.verdict", lang), label("sla.verdict_v", lang, verdict=verdict_label(sla.verdict, lang), reason=verdict_reason(sla, lang))),
        (label("claim.uptime", lang), label("claim.uptime_v", lang, uptime=fmt_uptime(sla.uptime_provider_pct, lang),
                                             target=fmt_target(sla.uptime_target_pct, lang))),
        (label("sla.uptime_measured", lang), fmt_uptime(sla.uptime_measured_pct, lang)),
        (label("sla.coverage", lang), fmt_pct(sla.coverage_pct, lang, places=2)),
        (label("claim.measured_down", lang), fmt_duration(sla.measured_downtime_s, lang)),
        (label("claim.counted_down", lang), counted),
    ]
    apart = [label(f"apart.{k}_s", lang, d=fmt_duration(v, lang)) for k, v in sla.excluded.items()
             if v and k != "no_data" and f"apart.{k}_s" in LABELS]
    if sla.no_data_s:
        apart.append(label("apart.no_data", lang, d=fmt_duration(sla.no_data_s, lang)))
    rows.append((label("claim.apart", lang), "\n".join(apart) or label("none", lang)))
    return rows


def outage_table(sla: SlaSection, lang: str, zone: tzinfo) -> list[Block]:
    if not sla.outages:
        return [Para(label("sla.no_outages", lang), "small")]
    rows = []
    for o in sla.outages:
        if o.below_minimum:
            counted = label("sla.not_counted_short", lang)
        else:
            counted = fmt_duration(o.counted_s, lang)
            if o.maintenance_s:
                counted += "\n" + label("sla.in_maintenance", lang, d=fmt_duration(o.maintenance_s, lang))
            if o.in_period_s < o.duration_s:
                counted += "\n" + label("sla.partly_outside", lang)
        rows.append([time_cell(o.start, zone), time_cell(o.end, zone), fmt_duration(o.duration_s, lang), counted])
    return [Para(label("sla.outages", lang), "small"),
            Table([label(k, lang) for k in ("inc.start", "inc.end", "sla.measured_col", "sla.counted_col")], rows,
                  [0.28, 0.28, 0.22, 0.22])]


def credit_blocks(sla: SlaSection, lang: str, zone: tzinfo) -> list[Block]:
    """The credit, and how it follows from the tiers (or the per-outage table, or the clock-hour rule)."""
    blocks: list[Block] = [Para(label("sla.credit_heading", lang) + " " + credit_line(sla, lang).replace("\n", "; "))]
    tiers = next((parse_objects(f.value) for f in sla.fields if f.path == "credit.tiers"), [])
    if tiers:
        applied = {i for i, t in enumerate(tiers)
                   if sla.credit_tier is not None and t.get("lt") == sla.credit_tier.lt and t.get("ge") == sla.credit_tier.ge}
        if sla.credit_tier is not None and sla.credit_pct is not None:
            blocks.append(Para(label("credit.tier_sentence", lang, uptime=fmt_uptime(sla.uptime_provider_pct, lang),
                                     range=tier_range(sla.credit_tier.lt, sla.credit_tier.ge, lang), pct=sla.credit_tier.credit_pct),
                               "small"))
        rows = [[tier_range(t.get("lt", "?"), t.get("ge"), lang), f"{t.get('credit_pct', '?')} %",
                 label("credit.applies", lang) if i in applied else ""] for i, t in enumerate(tiers)]
        blocks.append(Table([label(k, lang) for k in ("credit.col_uptime", "credit.col_credit", "credit.col_applies")], rows,
                            [0.5, 0.2, 0.3], frozenset({1}), frozenset(applied)))
    if sla.credit_per_outage:
        rows = [[time_cell(c.start, zone), fmt_duration(c.duration_s, lang),
                 label("credit.hours", lang, n=f"{c.credit_hours:g}") if c.credit_hours is not None else label("credit.between_rows", lang)]
                for c in sla.credit_per_outage]
        blocks.append(Table([label(k, lang) for k in ("inc.start", "inc.duration", "credit.col_credit")], rows, [0.4, 0.3, 0.3]))
    if sla.clock_hours_credited:
        hours = "\n".join(time_cell(h, zone).replace("\n", " ") for h in sla.clock_hours_credited[:24])
        blocks.append(KeyValues([(label("credit.clock_hours_key", lang), hours)]))
    return blocks


def evidence_item(item: str, t: TargetReport, files: Sequence[str], lang: str) -> tuple[bool, str]:
    """Whether the bundle holds what the provider asks for, and where."""
    low = item.lower()
    has = set(files)
    if "subject" in low:
        return False, label("ask.subject", lang)
    if "ticket" in low:
        return False, label("ask.ticket", lang)
    if any(w in low for w in ("id", "resource", "region", "zone")):
        if t.service_id:
            return True, label("ask.service_id", lang, id=t.service_id)
        return False, label("ask.no_service_id", lang)
    if "log" in low:
        where: list[str] = [f for f in ("measurements.csv", "proof/") if f in has] or ["summary.json"]
        return True, label("ask.logs", lang, files=", ".join(where))
    if any(w in low for w in ("date", "time", "duration", "downtime", "incident", "outage", "description")):
        return True, label("ask.times", lang, files=", ".join(f for f in ("report.pdf", "report.html", "summary.json") if f in has))
    return False, label("ask.not_here", lang)


def claim_blocks(t: TargetReport, sla: SlaSection, generated: datetime, files: Sequence[str], lang: str) -> list[Block]:
    channel = f"\u201c{sla.claim_channel}\u201d" if sla.claim_channel else label("claim.channel_unknown", lang)
    blocks: list[Block] = [Para(label("sla.claim_line", lang, deadline=deadline_text(sla, generated, lang), channel=channel))]
    if sla.evidence:
        rows = []
        for item in sla.evidence:
            ok, where = evidence_item(item, t, files, lang)
            rows.append([CHECKED if ok else UNCHECKED, f"\u201c{item}\u201d", where])
        blocks.append(Table([label(k, lang) for k in ("ask.col_done", "ask.col_item", "ask.col_where")], rows, [0.08, 0.5, 0.42]))
    return blocks


def performance_blocks(sla: SlaSection, lang: str) -> list[Block]:
    if not sla.terms:
        return []
    rows = []
    for term in sla.terms:
        sentence, unit = term_sentence(term.metric, term.statistic, term.comparator, term.threshold, term.share_min_pct,
                                       term.window_s, lang)
        measured = label("no_data", lang) if term.measured is None else f"{_round(term.measured)}{unit}"
        if term.measured_range is not None:
            measured += "\n(" + "\u2013".join(f"{_round(v)}{unit}" for v in term.measured_range) + ")"
        if term.samples == 0:
            result = label("perf.no_samples", lang)
        elif term.met is None:
            result = label("perf.undecided", lang)
        else:
            result = label("perf.met" if term.met else "perf.not_met", lang)
        if term.breaching_window_count:
            result += "\n" + label("perf.windows", lang, n=term.breaching_window_count, w=secs_words(term.window_s, lang))
        rows.append([sentence, measured, result, str(term.samples)])
    return [Para(label("sla.terms", lang), "small"),
            Table([label(k, lang) for k in ("perf.col_term", "perf.col_measured", "perf.col_result", "perf.col_samples")], rows,
                  [0.42, 0.2, 0.26, 0.12], frozenset({1, 3}))]


def _round(v: float) -> str:
    """Three significant figures (never 0 for a value above 0)."""
    if v == 0:
        return "0"
    digits = max(0, 2 - int(f"{abs(v):e}".split("e")[1]))
    return f"{v:.{digits}f}"


def sla_blocks(t: TargetReport, sla: SlaSection, lang: str, zone: tzinfo, generated: datetime, files: Sequence[str],
               anchor: str = "") -> list[Block]:
    """The SLA section of one target."""
    blocks: list[Block] = [
        Heading(label("sla.heading", lang), 2, anchor),
        Para(counting_rule(sla, lang)),
        KeyValues(_figures(sla, lang), 0.34),
        *outage_table(sla, lang, zone),
        *credit_blocks(sla, lang, zone),
        *claim_blocks(t, sla, generated, files, lang),
        *performance_blocks(sla, lang),
    ]
    warnings = [evaluation_text(w, lang) for w in sla.warnings]
    if warnings:
        blocks += [Para(label("sla.caveats", lang), "small"), Bullets(warnings)]
    blocks.append(Para(label("sla.see_terms", lang), "small"))
    return blocks
