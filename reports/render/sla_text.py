"""Terminal rendering of an SLA result, in English or Chinese.

Every figure printed comes from the result; percentages are truncated, never
rounded up, so a breach is never printed as the target value.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from reports.analysis.sla_result import Verdict
from reports.render.sla_format import fmt_hms, fmt_truncated, term_label

if TYPE_CHECKING:
    from collections.abc import Sequence

    from reports.analysis.sla import SlaResult
    from reports.analysis.sla_terms import SlaDefinition

LABELS: dict[str, dict[str, str]] = {
    "en": {
        "title": "SLA check",
        "terms": "Terms",
        "terms_dated": "Terms dated",
        "date_unconfirmed": "unconfirmed",
        "not_applicable": "not applicable",
        "source": "Source",
        "period": "Period",
        "target": "Uptime target",
        "provider_uptime": "Uptime by the provider's rule",
        "measured_uptime": "Measured uptime (plain)",
        "coverage": "Data coverage",
        "measured_down": "Measured downtime",
        "counted_down": "Counted downtime",
        "windows": "windows of",
        "excluded": "Not counted as downtime",
        "no_data_time": "Time without data",
        "local_time": "Agent's own network down",
        "checks_counted": "Downtime means",
        "all_checks": "every check failed",
        "checks_failed": "failed",
        "interim": "INTERIM: the period is not over",
        "maintenance": "maintenance",
        "below_minimum": "below the minimum duration",
        "local": "agent's own network down",
        "no_data": "no data",
        "verdict": "Verdict",
        "credit": "Credit",
        "clock_hours": "Clock-hours with no charge",
        "deadline": "Claim deadline",
        "passed": "passed",
        "evidence": "Evidence the provider asks for",
        "perf": "Performance terms",
        "met": "met",
        "not_met": "not met",
        "undecided": "undecided",
        "no_samples": "no samples",
        "unconfirmed": "UNCONFIRMED terms used (not read verbatim in the provider's text)",
        "overrides": "Your overrides",
        "warnings": "Notes",
        "none": "none",
        "unknown": "not known",
        "s": "s",
    },
    "zh": {
        "title": "SLA 核对",
        "terms": "条款",
        "terms_dated": "条款日期",
        "date_unconfirmed": "未确认",
        "not_applicable": "不适用",
        "source": "来源",
        "period": "周期",
        "target": "可用性承诺",
        "provider_uptime": "按服务商规则计算的可用性",
        "measured_uptime": "实测可用性（未作排除）",
        "coverage": "数据覆盖率",
        "measured_down": "实测中断时长",
        "counted_down": "计入的中断时长",
        "windows": "个窗口，每个",
        "excluded": "不计为中断",
        "no_data_time": "无数据时间",
        "local_time": "监测端自身网络中断",
        "checks_counted": "中断的含义",
        "all_checks": "所有检查均失败",
        "checks_failed": "失败",
        "interim": "临时：周期尚未结束",
        "maintenance": "维护窗口",
        "below_minimum": "短于最短计入时长",
        "local": "监测端自身网络中断",
        "no_data": "无数据",
        "verdict": "结论",
        "credit": "赔偿",
        "clock_hours": "免收费用的整点小时",
        "deadline": "索赔截止日",
        "passed": "已过期",
        "evidence": "服务商要求的证据",
        "perf": "性能条款",
        "met": "达标",
        "not_met": "未达标",
        "undecided": "无法判定",
        "no_samples": "无样本",
        "unconfirmed": "使用了未确认的条款（未在服务商原文中核实）",
        "overrides": "您的自定义覆盖",
        "warnings": "说明",
        "none": "无",
        "unknown": "未知",
        "s": "秒",
    },
}

VERDICTS: dict[str, dict[Verdict, str]] = {
    "en": {Verdict.MET: "met", Verdict.BREACHED: "BREACHED", Verdict.NOT_ENOUGH_DATA: "not enough data",
           Verdict.NO_UPTIME_TERM: "no uptime term"},
    "zh": {Verdict.MET: "达标", Verdict.BREACHED: "未达标（违约）", Verdict.NOT_ENOUGH_DATA: "数据不足",
           Verdict.NO_UPTIME_TERM: "无可用性承诺"},
}


def _fmt_pct(v: float | None, unknown: str) -> str:
    return unknown if v is None else f"{fmt_truncated(v)} %"


def _when(iso: str, zone: ZoneInfo) -> str:
    dt = datetime.fromisoformat(iso)
    local = dt.astimezone(zone).strftime("%Y-%m-%d %H:%M:%S %Z")
    utc = dt.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
    return local if local.endswith("UTC") else f"{local} ({utc})"


# Sentences the evaluation itself writes (reports/analysis/sla.py, sla_verdict.py), in Chinese. Preset notes quote the
# provider's English terms and stay as they are.
_ZH_SENTENCES: list[tuple[re.Pattern[str], str]] = [(re.compile(a), b) for a, b in (
    (r"^coverage ([\d.]+) % >= ([\d.]+) %; no-data rule: excluded$", r"覆盖率 \1 % ≥ \2 %；无数据规则：从周期中排除"),
    (r"^coverage ([\d.]+) % >= ([\d.]+) %; no-data rule: up$", r"覆盖率 \1 % ≥ \2 %；无数据规则：计为正常"),
    (r"^coverage ([\d.]+) % >= ([\d.]+) %; no-data rule: down$", r"覆盖率 \1 % ≥ \2 %；无数据规则：计为中断"),
    (r"^coverage ([\d.]+) % < ([\d.]+) %, but the breach is proven by measured downtime alone \(all unknown time taken as up\)$",
     r"覆盖率 \1 % < \2 %，但仅凭实测中断时长即可证明违约（所有未知时间均按正常计）"),
    (r"^coverage ([\d.]+) % < ([\d.]+) % and the measured downtime alone does not prove a breach$",
     r"覆盖率 \1 % < \2 %，且仅凭实测中断时长不能证明违约"),
    (r"^the definition has no uptime target$", "该定义没有可用性承诺"),
    (r"^time when the agent's own network was down is excluded: it is not the provider's fault$",
     "监测端自身网络中断的时间已排除：这不是服务商的责任"),
    (r"^time without data is excluded from the period \(neither up nor down\)$", "无数据的时间已从周期中排除（既不算正常也不算中断）"),
    (r"^time without data is counted as up, as the SLA definition says$", "按 SLA 定义，无数据的时间计为正常"),
    (r"^time without data is counted as down, as the SLA definition says$", "按 SLA 定义，无数据的时间计为中断"),
    (r"^the period is not over yet: figures are interim$", "周期尚未结束：数据为临时值"),
    (r"^down windows count only their observed time: ([\d.]+) s inside them without data or in the agent's own network "
     r"outage was not counted$", r"不可用窗口只计其有观测的时间：窗口内无数据或监测端自身网络中断的 \1 秒未计入"),
    (r"^no counted incident: no incident-based claim deadline$", "没有计入的事件：无基于事件的索赔截止日"),
    (r"^the provider counts downtime only from the support ticket: counted downtime here is an upper bound$",
     "服务商只从提交工单起计算中断：此处计入的中断时长为上限"),
    (r"^the provider uses its own measurements; externally measured downtime can exceed what it credits$",
     "服务商以自己的测量为准；外部测得的中断时长可能超过其认可的时长"),
    (r"^the provider also excludes \(not detectable here\): (.*)$", r"服务商另有排除项（此处无法检测）：\1"),
)]
_ZH_WINDOW = {"all": "整个窗口中断才计", "any": "窗口内任何中断即计", "majority": "窗口过半中断才计"}


def evaluation_sentence(text: str, lang: str) -> str:
    """An evaluation sentence in ``lang`` (unknown sentences, e.g. quoted terms, as they are)."""
    if lang != "zh":
        return text
    for pattern, repl in _ZH_SENTENCES:
        if pattern.match(text):
            return pattern.sub(repl, text)
    return text


Json = dict[str, Any]
Words = dict[str, str]


def format_text(result: SlaResult, lang: str = "en") -> str:
    """The result as terminal text: terms, figures, verdict, credit, deadline, terms measured, notes."""
    if lang not in LABELS:
        raise ValueError(f"lang must be one of {sorted(LABELS)}")
    words = LABELS[lang]
    j: Json = result.to_json()
    zone = ZoneInfo(j["timezone"])
    out = [
        *_terms(j, words, zone),
        *_figures(j, words, lang),
        *_verdict(j, words, lang),
        *_clock_hours(j, words, zone),
        *_claim(j, words),
        *_performance(j, words),
        *_provenance(j, words, lang),
        *_notes(j, words, lang),
    ]
    return "\n".join(out) + "\n"


def terms_date_text(terms_date: str, note: str, words: Words) -> str:
    """The terms' version date in words: the date, or "unconfirmed" with what was found instead."""
    shown = {"unconfirmed": words["date_unconfirmed"], "unknown": words["unknown"],
             "not applicable": words["not_applicable"]}.get(terms_date, terms_date)
    return f"{shown} ({note})" if note else shown


def _terms(j: Json, words: Words, zone: ZoneInfo) -> list[str]:
    name = f" — {j['target']}" if j["target"] else ""
    interim = "" if j["period_complete"] else f" ({words['interim']})"
    out = [
        f"{words['title']}{name}{interim}",
        f"{words['terms']}: {j['provider']} · {j['product']} ({j['sla_id']})",
        f"{words['terms_dated']}: {terms_date_text(j['terms_date'], j['terms_date_note'], words)}",
    ]
    if j["sources"]:
        out.append(f"{words['source']}: {', '.join(j['sources'])}")
    out.append(f"{words['period']}: {_when(j['period_start'], zone)} → {_when(j['period_end'], zone)}")
    tgt = j["uptime_target_pct"]
    out.append(f"{words['target']}: {words['unknown'] if tgt is None else f'{tgt:g} %'}")
    return out


def _figures(j: Json, words: Words, lang: str) -> list[str]:
    rule = _ZH_WINDOW.get(j["window_down_when"], j["window_down_when"]) if lang == "zh" else j["window_down_when"]
    # Failure time not charged (never no-data time: that is not downtime, and is said on its own line).
    ex = [f"{words[k]} {fmt_hms(v, lang)}" for k, v in j["excluded"].items() if v and k != "no_data"]
    checks = words["all_checks"] if j["checks"] == "all" else f"{', '.join(j['checks'])} {words['checks_failed']}"
    return [
        f"{words['provider_uptime']}: {_fmt_pct(j['uptime_provider_pct'], words['unknown'])}",
        f"{words['measured_uptime']}: {_fmt_pct(j['uptime_measured_pct'], words['unknown'])}",
        f"{words['coverage']}: {_fmt_pct(j['coverage_pct'], words['unknown'])}",
        f"{words['no_data_time']}: {fmt_hms(j['no_data_s'], lang)}",
        f"{words['local_time']}: {fmt_hms(j['local_s'], lang)}",
        f"{words['checks_counted']}: {checks}",
        f"{words['measured_down']}: {fmt_hms(j['measured_downtime_s'], lang)}",
        f"{words['counted_down']}: {fmt_hms(j['counted_downtime_s'], lang)} "
        f"({j['counted_windows']} {words['windows']} {j['window_s']} {words['s']}, {rule})",
        f"{words['excluded']}: {', '.join(ex) if ex else words['none']}",
    ]


def _verdict(j: Json, words: Words, lang: str) -> list[str]:
    out = [f"{words['verdict']}: {VERDICTS[lang][j['verdict']]} ({evaluation_sentence(j['verdict_basis'], lang)})"]
    if j["verdict"] != Verdict.BREACHED:
        return out
    parts = []
    if j["credit_pct"] is not None:
        parts.append(f"{fmt_truncated(j['credit_pct'], 2)} %")
    if j["credit_amount"] is not None:
        parts.append(f"{j['credit_amount']} {j['currency'] or ''}".strip())
    if j["credit_service_hours"] is not None:
        parts.append(f"{j['credit_service_hours']:g} h")
    out.append(f"{words['credit']}: {' = '.join(parts) if parts else words['unknown']}")
    out.extend(f"  - {n}" for n in j["credit_notes"])
    return out


def _clock_hours(j: Json, words: Words, zone: ZoneInfo) -> list[str]:
    if not j["clock_hours_credited"]:
        return []
    amount = f" = {j['clock_hour_amount']} {j['currency'] or ''}" if j["clock_hour_amount"] else ""
    out = [f"{words['clock_hours']}: {len(j['clock_hours_credited'])}{amount}"]
    out.extend(f"  - {_when(h, zone)}" for h in j["clock_hours_credited"])
    return out


def _claim(j: Json, words: Words) -> list[str]:
    passed = f" ({words['passed']})" if j["claim_deadline_passed"] else ""
    out = [f"{words['deadline']}: {j['claim_deadline'] or words['unknown']}{passed}"]
    if j["evidence"]:
        out.append(f"{words['evidence']}:")
        out.extend(f"  - {e}" for e in j["evidence"])
    return out


def _performance(j: Json, words: Words) -> list[str]:
    if not j["terms"]:
        return []
    out = [f"{words['perf']}:"]
    for t in j["terms"]:
        measured = "-" if t["measured"] is None else f"{t['measured']:.3f}"
        out.append(
            f"  - {t['metric']} {t['statistic']} {t['comparator']} {t['threshold']:g}: {measured} → {_term_state(t, words)}"
            f" ({t['breaching_window_count']} × {t['window_s']} {words['s']})"
        )
    return out


def _term_state(t: Json, words: Words) -> str:
    if t["samples"] == 0:
        return words["no_samples"]
    if t["met"] is None:
        return words["undecided"]
    return words["met"] if t["met"] else words["not_met"]


def _provenance(j: Json, words: Words, lang: str) -> list[str]:
    out = []
    if j["unconfirmed_fields"]:
        out.append(f"{words['unconfirmed']}:")
        out.extend(
            f"  - {term_label(f['path'], lang)}: {f['value']} [{f['confidence']}]"
            for f in j["fields"] if f["path"] in j["unconfirmed_fields"]
        )
    if j["overrides"]:
        out.append(f"{words['overrides']}: {', '.join(j['overrides'])}")
    return out


def _notes(j: Json, words: Words, lang: str) -> list[str]:
    if not (j["notes"] + j["warnings"]):
        return []
    return [
        f"{words['warnings']}:",
        *(f"  - {n}" for n in j["notes"]),
        *(f"  - {evaluation_sentence(n, lang)}" for n in j["warnings"]),
    ]


def format_preset_list(definitions: Sequence[SlaDefinition], lang: str = "en") -> str:
    """``slaproof sla --list-presets``: per preset its id, provider and product, terms date and source."""
    words = LABELS[lang]
    width = max((len(d.id) for d in definitions), default=0) + 2
    pad = " " * width
    out = []
    for d in definitions:
        sources = ", ".join(d.sources) if d.sources else words["none"]
        out += [
            f"{d.id:<{width}}{d.provider} · {d.product}",
            f"{pad}{words['terms_dated']}: {terms_date_text(d.terms_date, '', words)}",
            f"{pad}{words['source']}: {sources}",
        ]
    return "\n".join(out) + "\n"
