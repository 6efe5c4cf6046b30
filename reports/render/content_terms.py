"""The appendix "Terms as applied": every term of every SLA the report used, in words, with its value,
where it came from and how sure that is (said once, as a column). Also the words for terms used
elsewhere in the SLA section (durations, tiers, performance terms).

Values arrive as the SLA evaluation wrote them (SlaFieldUse.value: "99.9", "all", "lt=99.9, ge=95.0,
credit_pct=10; …"); they are worded here by the term they belong to, so no stored spelling reaches
the page. A term this module has no words for prints under "another term" with its value quoted.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from reports.render.blocks import Block, Bullets, Heading, Para, Table
from reports.render.i18n import LABELS, kind_label, label
from reports.render.model import Report, SlaFieldUse, SlaSection
from reports.render.preset_notes import note_text
from reports.render.sla_words import evaluation_text

METRIC_UNITS = {"rtt_ms": " ms", "loss_pct": " %", "jitter_ms": " ms", "bandwidth_mbps": " Mbit/s", "steal_pct": " %",
                "cpu_speed_pct": " %", "disk_fsync_p99_ms": " ms", "disk_write_mb_s": " MB/s", "disk_read_mb_s": " MB/s"}


def secs_words(seconds: float, lang: str) -> str:
    """A whole-unit duration: "30 s", "1 min", "5 min", "1 h", else minutes and seconds."""
    s = round(seconds)
    h_u, m_u, s_u = ("小时", "分钟", "秒") if lang == "zh" else ("h", "min", "s")
    if s and s % 3600 == 0:
        return f"{s // 3600} {h_u}"
    if s and s % 60 == 0:
        return f"{s // 60} {m_u}"
    if s > 60:
        return f"{s // 60} {m_u} {s % 60} {s_u}"
    return f"{s} {s_u}"


def parse_objects(value: str) -> list[dict[str, str]]:
    """"lt=99.9, ge=95.0, credit_pct=10; lt=95.0, credit_pct=25" → [{lt: 99.9, ge: 95.0, credit_pct: 10}, …]."""
    out = []
    for part in value.split(";"):
        pairs = [p.strip().split("=", 1) for p in part.split(",") if "=" in p]
        if pairs:
            out.append({k.strip(): v.strip() for k, v in pairs})
    return out


def _num(text: str | None) -> str:
    try:
        return f"{float(text or ''):g}"
    except ValueError:
        return str(text)


def tier_range(lt: str, ge: str | None, lang: str) -> str:
    if ge is None:
        return label("tier.below", lang, lt=_num(lt))
    return label("tier.between", lang, lt=_num(lt), ge=_num(ge))


def term_sentence(metric: str, statistic: str, comparator: str, threshold: float | str, share: float | None,
                  window_s: float, lang: str) -> tuple[str, str]:
    """A performance term in words ("Round-trip time, mean over the period: at most 150 ms") and its unit."""
    unit = METRIC_UNITS.get(metric, "")
    what = label(f"metric.{metric}", lang) if f"metric.{metric}" in LABELS else metric
    how = label(f"stat.{statistic}", lang, w=secs_words(window_s, lang), share=_num(str(share))) if f"stat.{statistic}" in LABELS else statistic
    cmp = label(f"cmp.{comparator}", lang) if f"cmp.{comparator}" in LABELS else comparator
    return label("perf.sentence", lang, what=what, how=how, cmp=cmp, v=_num(str(threshold)), unit=unit), unit


# -- each term's value in words ----------------------------------------------------------------------
def _pct(v: str, lang: str) -> str:
    return f"{_num(v)} %"


def _choice(prefix: str) -> Callable[[str, str], str]:
    def word(v: str, lang: str) -> str:
        key = f"{prefix}.{v}"
        return label(key, lang) if key in LABELS else f"\u201c{v}\u201d"

    return word


def _states(v: str, lang: str) -> str:
    return ", ".join(kind_label("outage" if s.strip() == "down" else s.strip(), lang) for s in v.split(";") if s.strip())


def _tiers(v: str, lang: str) -> str:
    return "\n".join(label("tier.line", lang, range=tier_range(t.get("lt", "?"), t.get("ge"), lang), pct=_num(t.get("credit_pct")))
                     for t in parse_objects(v))


def _table(v: str, lang: str) -> str:
    rows = []
    for r in parse_objects(v):
        lo = secs_words(float(r.get("ge_s", "0")), lang)
        span = label("dur.from", lang, lo=lo) if r.get("lt_s") in (None, "None") else label(
            "dur.between", lang, lo=lo, hi=secs_words(float(r["lt_s"]), lang))
        rows.append(label("dur.line", lang, span=span, h=_num(r.get("credit_hours"))))
    return "\n".join(rows)


def _clock(v: str, lang: str) -> str:
    more = next((r.get("more_than_s") for r in parse_objects(v)), None)
    return label("clock.rule", lang, d=secs_words(float(more), lang)) if more else f"\u201c{v}\u201d"


def _bool(yes: str, no: str) -> Callable[[str, str], str]:
    return lambda v, lang: label(yes if v.strip().lower() == "true" else no, lang)


def _quoted(v: str, lang: str) -> str:
    return "\n".join(f"\u201c{x.strip()}\u201d" for x in v.split(";") if x.strip()) or label("none", lang)


VALUES: dict[str, Callable[[str, str], str]] = {
    "uptime_target_pct": _pct,
    "period.kind": _choice("periodkind"),
    "period.timezone": lambda v, lang: v,
    "period.anchor_day": lambda v, lang: label("anchor.day", lang, n=v),
    "counting.window_s": lambda v, lang: secs_words(float(v), lang),
    "counting.window_down_when": _choice("downwhen"),
    "counting.min_outage_s": lambda v, lang: secs_words(float(v), lang) if float(v) else label("none", lang),
    "counting.down_states": _states,
    "counting.starts_at": _choice("startsat"),
    "counting.checks": lambda v, lang: label("checks.all", lang) if v.strip() == "all" else
    label("rule.or", lang).join(x.strip(" '[]\"").upper() for x in re.split(r"[;,]", v) if x.strip(" '[]\"")),
    "counting.min_outage_strict": _bool("strict.yes", "strict.no"),
    "no_data.rule": _choice("nodatarule"),
    "no_data.min_coverage_pct": _pct,
    "credit.mode": _choice("creditmode"),
    "credit.tiers": _tiers,
    "credit.duration_table": _table,
    "credit.cap_pct": _pct,
    "credit.minimum_amount": lambda v, lang: v,
    "credit.clock_hour_rule": _clock,
    "claim.anchor": _choice("claimanchor"),
    "claim.evidence": _quoted,
}
_PERF = re.compile(r"^performance\[(\d+)\]\.(\w+)$")


def term_row(f: SlaFieldUse, lang: str, sla: SlaSection | None = None) -> list[str]:
    """One row of the appendix: the term, its value, its source, its confidence, all in words."""
    perf = _PERF.match(f.path)
    if perf:
        i, parts = int(perf.group(1)), f.value.split()
        name = label("term.performance", lang)
        term = sla.terms[i] if sla is not None and i < len(sla.terms) else None
        if term is not None:
            value = term_sentence(term.metric, term.statistic, term.comparator, term.threshold, term.share_min_pct,
                                  term.window_s, lang)[0]
        elif len(parts) == 3 and parts[0] != "share":
            value = term_sentence(perf.group(2), parts[0], parts[1], parts[2], None, 300, lang)[0]
        else:
            value = f"\u201c{f.value}\u201d"
    elif f.path in VALUES:
        name = label(f"term.{f.path}", lang)
        value = VALUES[f.path](f.value, lang)
    else:
        name, value = label("term.other", lang), f"\u201c{f.value}\u201d"
    conf = label(f"conf.{f.confidence}", lang) if f"conf.{f.confidence}" in LABELS else f.confidence
    return [name, value, label(f"src.{f.source}", lang) if f"src.{f.source}" in LABELS else f.source, conf]


def _about(sla: SlaSection, lang: str) -> list[Block]:
    date = {"unconfirmed": label("terms.date_unconfirmed", lang), "unknown": label("terms.date_unknown", lang),
            "not applicable": label("terms.date_na", lang)}.get(sla.terms_date, sla.terms_date)
    lines = [label("terms.line", lang, provider=sla.provider, product=sla.product, date=date,
                   preset=sla.preset or label("terms.custom", lang))]
    if sla.sources:
        lines.append(label("terms.sources", lang, urls=", ".join(sla.sources)))
    blocks: list[Block] = [Para("\n".join(lines), "small")]
    if sla.terms_date_note:
        blocks.append(Para(note_text(sla.terms_date_note, lang), "small"))
    return blocks


def terms_appendix(report: Report, lang: str) -> list[Block]:
    """The appendix: per target with an SLA, the terms applied, then the preset's notes."""
    with_sla = [(t, t.sla) for t in report.targets if t.sla is not None]
    if not with_sla:
        return []
    blocks: list[Block] = [Heading(label("terms.heading", lang), 1, "terms"), Para(label("terms.intro", lang), "small")]
    for n, (t, sla) in enumerate(with_sla, 1):
        assert sla is not None
        blocks.append(Heading(label("terms.target", lang, name=t.name), 2, f"terms-{n}"))
        blocks += _about(sla, lang)
        rows = [term_row(f, lang, sla) for f in sla.fields]
        blocks.append(Table([label(k, lang) for k in ("terms.col_term", "terms.col_value", "terms.col_source", "terms.col_conf")],
                            rows, [0.3, 0.34, 0.18, 0.18]))
        notes = [note_text(n, lang) for n in sla.notes] + [evaluation_text(n, lang) for n in sla.credit_notes]
        if notes:
            blocks += [Para(label("terms.notes", lang), "small"), Bullets(notes)]
    return blocks
