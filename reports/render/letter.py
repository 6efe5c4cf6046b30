"""A complaint / SLA credit request letter, drafted from the report model only.

The letter states what the report holds and nothing else: its figures come from the target's
figures and SLA section in the report model (the same object summary.json is written from), the
customer and service identities from the settings, the attachments from the bundle's manifest.
What is not configured is a bracketed placeholder. No clause numbers, hotlines or amounts of its
own; no internal key (terms are named in words: sla_format.term_label); every number printed
through the one rounding rule (reports/render/numbers.py), so nothing above 0 reads as 0.
Its subject says what its body says: a credit request only when the SLA was breached, a
complaint only when there were incidents, and "interim" while the period is not over.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, timedelta
from zoneinfo import ZoneInfo

from reports.render.letter_facts import (
    CHECK,
    KIND,
    PERIOD_WORD,
    PLACEHOLDERS,
    Letter,
    alone_failures,
    dur,
    incident_counts,
    pct,
    subject_kind,
    unconfirmed_terms,
)
from reports.render.letter_zh import body_zh
from reports.render.model import IncidentEntry, Report, SlaSection


def draft_letter(report: Report, target: str, *, customer: Mapping[str, str | None], service: Mapping[str, str | None],
                 attachments: Sequence[tuple[str, str]], lang: str = "en", today: date, reply_days: int = 14) -> str:
    """The letter about ``target`` of ``report`` (which must hold its SLA section), as Markdown text."""
    if lang not in PLACEHOLDERS:
        raise ValueError(f"lang must be one of {sorted(PLACEHOLDERS)}")
    t = next((x for x in report.targets if x.name == target), None)
    if t is None or t.sla is None:
        raise ValueError(f"the report holds no SLA evaluation of target {target!r}")
    ctx = Letter(report, t, t.sla, lang, ZoneInfo(t.sla.timezone), customer, service, attachments, today,
                 today + timedelta(days=reply_days))
    lines = body_zh(ctx) if lang == "zh" else body_en(ctx)
    return "\n".join(lines) + "\n"


# -- English -------------------------------------------------------------------------------------
def _subject_en(ctx: Letter) -> str:
    p0, p1 = ctx.period
    svc = f"{ctx.svc_name} ({ctx.svc_id}), {p0} to {p1}"
    interim = " (interim: the period is not over)" if ctx.interim else ""
    kind = subject_kind(ctx)
    if kind == "breached":
        target = f" below the committed {pct(ctx.s.uptime_target_pct)} % availability" if ctx.s.uptime_target_pct is not None else ""
        return f"Subject: {ctx.s.claim_subject or 'SLA credit request'}: {svc}{target}{interim}"
    if kind == "incidents":
        what = incident_counts(ctx) or "failures of its checks"
        return f"Subject: Formal complaint: {what} of {svc}{interim}"
    if kind == "records":
        return f"Subject: Request for your availability records: {svc}{interim}"
    return f"Subject: Service record: {svc}: no incident recorded{interim}"


def _incident_en(ctx: Letter, inc: IncidentEntry) -> str:
    s_loc, s_utc = ctx.times(inc.start)
    e_loc, e_utc = ctx.times(inc.end)
    lo, hi = inc.duration_min_s, inc.duration_max_s
    if hi is None:
        bounds = f" (at least {dur(lo, 'en')}; the upper bound was not observed)"
    elif lo != hi:
        bounds = f" (given the measurement interval, between {dur(lo, 'en')} and {dur(hi, 'en')})"
    else:
        bounds = ""
    edge = " (began before the period)" if inc.clipped_start else ""
    edge += " (continued after the period)" if inc.clipped_end else ""
    return (f"- {KIND['en'][inc.kind]}: from {s_loc} to {e_loc} ({ctx.s.timezone}), i.e. {s_utc} to {e_utc} UTC; "
            f"duration {dur(inc.duration_s, 'en')}{bounds}{edge}")


def _rule_en(s: SlaSection) -> str:
    when = {"any": "any downtime in it", "all": "all of it is down", "majority": "more than half of it is down"}[s.window_down_when]
    text = f"counted in {pct(s.window_s)}-second windows, a window counting as unavailable when {when}"
    if s.min_outage_s:
        text += f"; outages count only if they last {'more than' if s.min_outage_strict else 'at least'} {dur(s.min_outage_s, 'en')}"
    if s.checks == "all":
        text += "; a moment counts as down when every check failed"
    else:
        text += "; a moment counts as down when the " + " and ".join(CHECK["en"].get(k, k) for k in s.checks) + " failed"
    return text


def _facts_en(ctx: Letter) -> list[str]:
    t, s = ctx.t, ctx.s
    lines = ["## What happened", ""]
    if ctx.incidents:
        lines += ["My independent monitoring recorded the following incidents:", ""]
        lines += [_incident_en(ctx, i) for i in ctx.incidents]
    elif not s.measured_downtime_s:
        lines.append("My monitoring recorded no outage, partial outage or degradation in this period.")
    for kind, down, avail in alone_failures(t):
        shown = "" if avail is None else f"; it was available {pct(avail, 3)} % of the observed time"
        lines.append(f"The {CHECK['en'].get(kind, kind)} on its own failed for {dur(down, 'en')} in total, "
                     f"including times when other checks answered{shown}.")
    lines.append("")
    if s.measured_downtime_s:
        lines.append(f"In total {dur(s.measured_downtime_s, 'en')} of downtime was measured.")
    else:
        lines.append("No downtime was measured.")
    observed = f"My monitoring observed the service for {pct(s.coverage_pct, 2)} % of the period"
    apart = []
    if s.no_data_s:
        apart.append(f"{dur(s.no_data_s, 'en')} has no measurements (my agent was not running or rounds were missing)")
    if s.local_s:
        apart.append(f"for {dur(s.local_s, 'en')} my own network was down, which I do not count against you")
    lines.append(observed + ("; " + "; ".join(apart) if apart else "") + ".")
    not_counted = [(w, s.excluded.get(k, 0.0)) for k, w in (("maintenance", "announced maintenance"),
                                                            ("below_minimum", "outages shorter than your minimum duration"))]
    not_counted = [(w, v) for w, v in not_counted if v]
    if not_counted:
        lines.append("As your terms say, I have not counted: " + "; ".join(f"{w} ({dur(v, 'en')})" for w, v in not_counted) + ".")
    if t.imported is not None:
        srcs = "; ".join(f"{x.file} (measured with: {x.tool})" for x in t.imported.sources)
        lines.append(f"{pct(t.imported.share_pct, 2)} % of these measurements ({t.imported.rows} rows) were not taken by my agent "
                     f"but imported from {srcs}; the report says so.")
    return lines


def _terms_en(ctx: Letter) -> list[str]:
    s = ctx.s
    lines = ["## Your commitment", ""]
    if s.uptime_target_pct is not None:
        src = f", {', '.join(s.sources)}" if s.sources else ""
        lines.append(f"Your service level agreement ({s.provider}, {s.product}{src}) commits to {pct(s.uptime_target_pct)} % "
                     f"availability per {PERIOD_WORD['en'][s.period_kind]}, {_rule_en(s)}.")
        if s.uptime_provider_pct is not None:
            so_far = " so far" if ctx.interim else ""
            counted = f"{dur(s.counted_downtime_s, 'en')} of counted downtime" if s.counted_downtime_s else "no counted downtime"
            lines.append(f"Counted by that rule, availability in this period{so_far} was {pct(s.uptime_provider_pct)} % ({counted}).")
    if s.unconfirmed_fields:
        lines.append(f"Some of the terms applied here could not be confirmed in your published text ({unconfirmed_terms(ctx)}); "
                     "please tell me if your terms differ.")
    return lines


def _credit_en(s: SlaSection) -> str | None:
    parts = []
    if s.credit_pct is not None and s.credit_mode == "tiered":
        parts.append(f"{pct(s.credit_pct, 2)} % of the monthly fee")
    if s.credit_service_hours is not None:
        parts.append(f"{pct(s.credit_service_hours, 3)} h of service")
    if s.credit_amount is not None and not s.credit_below_minimum:
        parts.append(f"{s.credit_amount} {s.currency or ''}".strip())
    return " / ".join(parts) if parts else None


def _request_en(ctx: Letter) -> list[str]:
    s = ctx.s
    lines = ["## My request", ""]
    hours = len(s.clock_hours_credited)
    if s.verdict == "breached":
        lines.append("The commitment was not met" + (" in the period so far" if ctx.interim else "") + ". I therefore request:")
        credit = _credit_en(s)
        lines.append(f"- the service credit due under your terms: {credit};" if credit else "- the service credit due under your terms;")
    elif s.verdict == "not enough data":
        lines.append("My monitoring does not cover enough of the period to settle the figure for it. I request:")
        lines.append("- your own availability records for the period, so that the credit due can be established;")
    else:
        lines.append("I request:")
    if hours:
        amount = f", {s.clock_hour_amount} {s.currency or ''}".rstrip() if s.clock_hour_amount else ""
        lines.append(f"- no charge for the {hours} clock-hour(s) with more than the allowed unavailability{amount};")
    if ctx.incidents or alone_failures(ctx.t):
        lines.append("- a written explanation of the cause of each incident and of the measures taken to prevent it recurring.")
    else:
        lines.append("- a written confirmation of the availability you recorded for this period.")
    if ctx.interim:
        lines += ["", f"The period is not over: these figures are interim, and I will confirm them after {ctx.period[1]}."]
    if s.claim_deadline and s.claim_deadline_passed is False:
        lines += ["", f"This request is made within your claim period, which ends on {s.claim_deadline.isoformat()}."]
    return lines


def body_en(ctx: Letter) -> list[str]:
    c, (p0, p1) = ctx.customer, ctx.period
    account, contract = ctx.get(c, "account_id"), ctx.get(c, "contract_id")
    return [
        _subject_en(ctx), "",
        f"To: {ctx.provider}, customer support / complaints department",
        f"From: {ctx.get(c, 'name')}; account {account}; contract {contract}",
        f"Date: {ctx.today.isoformat()}", "",
        f"Dear {ctx.provider} team,", "",
        f"I am your customer (account {account}, contract {contract}) and use the service {ctx.svc_name}, service id "
        f"{ctx.svc_id}, address {ctx.get(ctx.service, 'address')}. I write about its availability from {p0} to {p1} "
        f"({ctx.s.timezone}){', a period not yet over' if ctx.interim else ''}.",
        "",
        *_facts_en(ctx), "",
        *_terms_en(ctx), "",
        *_request_en(ctx), "",
        "## Attachments", "",
        *([f"- {name} (SHA-256 {digest})" for name, digest in ctx.attachments] or ["- [none attached]"]), "",
        f"Please reply in writing by {ctx.reply_by.isoformat()}. If I receive no satisfactory reply by then, "
        "I will escalate the matter through the channels open to me.", "",
        "Thank you for your attention.", "",
        "Yours faithfully,",
        ctx.get(c, "name"),
        f"{ctx.get(c, 'email')} · {ctx.get(c, 'phone')}",
    ]
