"""Page 1: the claim. Anyone holding only this page can file it.

For each rented target: provider, service and its ID, the period (interim while it is not over),
the verdict in words and colour with its reason in one sentence, downtime as the provider counts
it beside downtime as measured, uptime by the provider's rule against its target, the credit, the
deadline with the days left, where to claim, and the incidents with their times (display zone and
UTC) and durations with bounds. Control targets take one line.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import tzinfo

from reports.render.blocks import Block, Callout, Heading, KeyValues, Para, Table, Tone
from reports.render.content_parts import DASH, duration_cell, incident_kind_text, time_cell, time_range
from reports.render.i18n import fmt_duration, fmt_duration_words, fmt_pct, label, verdict_label
from reports.render.model import IncidentEntry, Report, SlaSection, TargetReport
from reports.render.words import deadline_text, fmt_target, fmt_uptime, interim, money

MAX_ON_PAGE_1 = 10  # incidents listed per target on page 1; the rest on the target's page
VERDICT_TONE: dict[str, Tone] = {"met": "good", "breached": "bad", "not enough data": "unknown", "no uptime term": "neutral"}


def claim_page(report: Report, lang: str, zone: tzinfo, files: Sequence[str]) -> list[Block]:
    rented = [t for t in report.targets if not t.control]
    period = report.period
    over = not any(interim(t.sla, period.interim) for t in rented) and not period.interim
    blocks: list[Block] = [
        Para(label("claim.title", lang), "title"),
        Para(label("claim.period", lang, span=time_range(period.start, period.end, zone))
             + ("" if over else " " + label("claim.interim", lang)) + "\n" + _controls(report, lang), "subtitle"),
    ]
    for i, t in enumerate(rented):
        blocks += _target(i, t, report, lang, zone)
    blocks.append(Para(label("claim.evidence", lang, files=", ".join(files), agent=report.agent.id), "small"))
    return blocks


def _target(i: int, t: TargetReport, report: Report, lang: str, zone: tzinfo) -> list[Block]:
    head = t.name + (f" · {t.provider}" if t.provider else "")
    blocks: list[Block] = [Heading(head, 2, f"claim-{i + 1}"), verdict_callout(t, lang)]
    blocks.append(KeyValues(_facts(t, report, lang, zone), 0.33, compact=True))
    provider_incidents = [inc for inc in t.incidents if inc.kind != "local"]
    if provider_incidents:
        blocks.append(incident_table(provider_incidents[:MAX_ON_PAGE_1], lang, zone))
        if len(provider_incidents) > MAX_ON_PAGE_1:
            blocks.append(Para(label("claim.more_incidents", lang, n=len(provider_incidents) - MAX_ON_PAGE_1, name=t.name), "small"))
    else:
        blocks.append(Para(label("claim.no_incidents", lang), "small"))
    return blocks


def verdict_callout(t: TargetReport, lang: str) -> Callout:
    sla = t.sla
    if sla is None:
        return Callout(label("claim.no_sla", lang),
                       label("claim.no_sla_text", lang, availability=fmt_pct(t.availability_pct, lang),
                             coverage=fmt_pct(t.coverage_pct, lang, places=2)), "neutral")
    return Callout(label("claim.verdict_title", lang, verdict=verdict_label(sla.verdict, lang)), verdict_reason(sla, lang, t.provider),
                   VERDICT_TONE.get(sla.verdict, "neutral"))


def verdict_reason(sla: SlaSection, lang: str, provider: str = "") -> str:
    """Why the verdict is what it is, in one sentence."""
    values = {"provider": provider or sla.provider, "uptime": fmt_uptime(sla.uptime_provider_pct, lang),
              "target": fmt_target(sla.uptime_target_pct, lang), "coverage": fmt_pct(sla.coverage_pct, lang, places=2),
              "need": fmt_target(sla.min_coverage_pct, lang)}
    short = sla.min_coverage_pct is not None and sla.coverage_pct < sla.min_coverage_pct
    key = {"met": "reason.met", "breached": "reason.breached_proven" if short else "reason.breached",
           "not enough data": "reason.not_enough_data", "no uptime term": "reason.no_uptime_term"}[sla.verdict]
    return label(key, lang, **values)


def _facts(t: TargetReport, report: Report, lang: str, zone: tzinfo) -> list[tuple[str, str]]:
    sla = t.sla
    service = f"\u201c{sla.product}\u201d" if sla is not None and sla.product else ""
    if t.service_name or t.service_id:
        named = t.service_name or ""
        if t.service_id:
            named = f"{named} ({label('claim.id', lang)} {t.service_id})".strip()
        service = f"{service}\n{named}" if service else named
    rows = [(label("claim.service", lang), service or label("claim.not_configured", lang))]
    if sla is None:
        rows += [(label("claim.measured_down", lang), fmt_duration(t.downtime_s, lang)),
                 (label("col.availability", lang), fmt_pct(t.availability_pct, lang))]
        return rows + _not_counted(t, lang) + _partly(t, lang) + _imported(t, lang, zone)
    credit = credit_line(sla, lang)
    rows += [
        (label("claim.counted_down", lang), fmt_duration(sla.counted_downtime_s, lang)),
        (label("claim.measured_down", lang), fmt_duration(sla.measured_downtime_s, lang)),
        (label("claim.uptime", lang), label("claim.uptime_v", lang, uptime=fmt_uptime(sla.uptime_provider_pct, lang),
                                             target=fmt_target(sla.uptime_target_pct, lang))),
        (label("claim.credit", lang), credit),
        (label("claim.deadline", lang), deadline_text(sla, report.generated_at, lang)),
        (label("claim.where", lang), f"\u201c{sla.claim_channel}\u201d" if sla.claim_channel else label("claim.channel_unknown", lang)),
    ]
    return rows + _not_counted(t, lang) + _partly(t, lang) + _imported(t, lang, zone)


def credit_line(sla: SlaSection, lang: str) -> str:
    if sla.verdict != "breached":
        return label("credit.none_met" if sla.verdict == "met" else "credit.none", lang)
    parts = []
    if sla.credit_pct is not None:
        parts.append(label("credit.pct_of_fee", lang, pct=f"{sla.credit_pct:g}"))
    if sla.credit_amount is not None:
        parts.append(money(sla.credit_amount, sla.currency))
    if sla.credit_service_hours is not None:
        parts.append(label("credit.hours", lang, n=f"{sla.credit_service_hours:g}"))
    if sla.clock_hours_credited:
        parts.append(label("credit.clock_hours", lang, n=len(sla.clock_hours_credited),
                           amount=money(sla.clock_hour_amount, sla.currency)))
    text = " = ".join(parts) if parts else label("credit.unknown", lang)
    if sla.credit_below_minimum:
        text += "\n" + label("credit.below_minimum", lang)
    if sla.credit_capped:
        text += "\n" + label("credit.capped", lang)
    return text


def _not_counted(t: TargetReport, lang: str) -> list[tuple[str, str]]:
    """Time not counted against the provider, each reason apart (never one sum of different things)."""
    parts = []
    local = [i.id for i in t.incidents if i.kind == "local"]
    if t.local_s:
        parts.append(label("apart.local", lang, d=fmt_duration_words(t.local_s, lang), ids=", ".join(local) or DASH))
    if t.no_data_s:
        parts.append(label("apart.no_data", lang, d=fmt_duration_words(t.no_data_s, lang)))
    sla = t.sla
    if sla is not None:
        for reason in ("below_minimum", "maintenance"):
            if sla.excluded.get(reason):
                parts.append(label(f"apart.{reason}", lang, d=fmt_duration_words(sla.excluded[reason], lang)))
    return [(label("claim.apart", lang), "\n".join(parts))] if parts else []


def _partly(t: TargetReport, lang: str) -> list[tuple[str, str]]:
    """Each check on its own, in words, when one failed while the others answered: "HTTP was down 1 h 00 min
    more than the target, while ICMP answered". From the per-check figures; without them, from the cards."""
    lines = []
    if len(t.checks) > 1:
        for c in t.checks:
            extra = c.downtime_s - t.downtime_s
            if extra > 0:
                others = ", ".join(o.kind.upper() for o in t.checks if o.kind != c.kind)
                counts = None
                if t.sla is not None:  # the failure alone is downtime only when the SLA counts this check by itself
                    alone = isinstance(t.sla.checks, tuple) and c.kind in t.sla.checks
                    counts = "partly.counts" if alone else "partly.not_counted"
                line = label("partly.check", lang, kind=c.kind.upper(), d=fmt_duration_words(extra, lang), others=others,
                             total=fmt_duration_words(c.downtime_s, lang), availability=fmt_pct(c.availability_pct, lang))
                lines.append(line + (" " + label(counts, lang) if counts else ""))
    else:
        for inc in t.incidents:
            if inc.kind != "partial" or inc.card is None:
                continue
            failed = sorted({c.kind.upper() for c in inc.card.first_failed if not c.ok})
            answered = sorted({c.kind.upper() for c in inc.card.first_failed if c.ok})
            if failed and answered:
                lines.append(label("partly.which", lang, id=inc.id, failed=", ".join(failed), answered=", ".join(answered),
                                   d=fmt_duration_words(inc.duration_s, lang)))
    return [(label("claim.partly", lang), "\n".join(lines))] if lines else []


def _imported(t: TargetReport, lang: str, zone: tzinfo) -> list[tuple[str, str]]:
    """Rows not measured by this agent, named: how many, from which file and tool, over what time."""
    imp = t.imported
    if imp is None:
        return []
    lines = [label("imported.line", lang, n=imp.rows, share=fmt_pct(imp.share_pct, lang, places=2),
                   span=time_range(imp.first, imp.last, zone))]
    lines += [label("imported.source", lang, file=s.file, tool=s.tool if s.tool != "unknown" else label("imported.tool_unknown", lang),
                    n=s.rows) for s in imp.sources]
    return [(label("claim.imported", lang), "\n".join(lines))]


def incident_table(incidents: Sequence[IncidentEntry], lang: str, zone: tzinfo) -> Table:
    rows = [[inc.id, incident_kind_text(inc, lang), time_cell(inc.start, zone, lang, inc.clipped_start, "start"),
             time_cell(inc.end, zone, lang, inc.clipped_end, "end"), duration_cell(inc, lang, short=True)] for inc in incidents]
    return Table([label(k, lang) for k in ("inc.id", "inc.kind", "inc.start", "inc.end", "inc.duration")], rows,
                 [0.08, 0.14, 0.26, 0.26, 0.26], compact=True)


def _controls(report: Report, lang: str) -> str:
    """Control targets in one line."""
    controls = [t.name for t in report.targets if t.control]
    if not controls:
        return label("claim.no_controls", lang)
    local = max((t.local_s for t in report.targets if not t.control), default=0.0)
    text = label("claim.controls", lang, names=", ".join(controls))
    return text + " " + (label("claim.controls_local", lang, d=fmt_duration_words(local, lang)) if local
                         else label("claim.controls_fine", lang))
