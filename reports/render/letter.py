"""A complaint / SLA credit request letter drafted from measured facts only.

Every figure in the letter comes from the SLA result, the incidents, the
customer/service settings or the attachment list; what is not configured is
left as a bracketed placeholder for the user to fill in. No clause numbers,
regulator hotlines or amounts are made up.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from reports.analysis.sla import SlaResult
from reports.render.sla_format import fmt_hms, fmt_truncated

PLACEHOLDERS = {
    "en": {
        "name": "[your name]",
        "account_id": "[account id]",
        "contract_id": "[contract no.]",
        "email": "[e-mail]",
        "phone": "[phone]",
        "service_name": "[service]",
        "service_id": "[service id]",
        "address": "[server address]",
    },
    "zh": {
        "name": "[您的姓名/公司名称]",
        "account_id": "[账号ID]",
        "contract_id": "[合同编号]",
        "email": "[电子邮箱]",
        "phone": "[电话]",
        "service_name": "[服务名称]",
        "service_id": "[实例/服务ID]",
        "address": "[服务器地址]",
    },
}

KIND = {
    "en": {"outage": "outage", "partial": "partial outage", "degraded": "degraded service", "local": "local network"},
    "zh": {"outage": "服务中断", "partial": "部分中断", "degraded": "服务质量下降", "local": "本地网络故障"},
}


def _pct(v: float, places: int = 4) -> str:
    """Truncated (never rounded up) and without trailing zeros: 100.0 → 100, 99.289157 → 99.2891."""
    return fmt_truncated(v, places).rstrip("0").rstrip(".")


def _get(d: dict[str, Any], key: str, lang: str, alias: str | None = None) -> str:
    v = d.get(key)
    return str(v) if v not in (None, "") else PLACEHOLDERS[lang][alias or key]


def _times(iso: str, zone: ZoneInfo) -> tuple[str, str]:
    dt = datetime.fromisoformat(iso)
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)  # the store writes UTC
    return (
        dt.astimezone(zone).strftime("%Y-%m-%d %H:%M:%S"),
        dt.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S"),
    )


def _incident_line(i: int, inc: dict[str, Any], zone: ZoneInfo, tzname: str, lang: str) -> str:
    s_loc, s_utc = _times(inc["start"], zone)
    e_loc, e_utc = _times(inc["end"], zone)
    kind = KIND[lang].get(inc.get("kind", "outage"), str(inc.get("kind", "")))
    dur = fmt_hms(float(inc["duration_s"]), lang)
    lo, hi = inc.get("duration_min_s"), inc.get("duration_max_s")
    bounds = ""
    if lo is not None and hi is not None and float(lo) != float(hi):
        bounds = (
            f"（按监测间隔，实际介于 {fmt_hms(float(lo), lang)} 与 {fmt_hms(float(hi), lang)} 之间）"
            if lang == "zh"
            else f" (given the measurement interval, between {fmt_hms(float(lo), lang)} and {fmt_hms(float(hi), lang)})"
        )
    if lang == "zh":
        return (
            f"- {kind}：{s_loc} 至 {e_loc}（{tzname}），即 UTC {s_utc} 至 {e_utc}，"
            f"持续 {dur}（{float(inc['duration_s']):g} 秒）{bounds}"
        )
    return (
        f"- {kind}: from {s_loc} to {e_loc} ({tzname}), i.e. {s_utc} to {e_utc} UTC; "
        f"duration {dur} ({float(inc['duration_s']):g} s){bounds}"
    )


def _rule_text(j: dict[str, Any], lang: str) -> str:
    when = {
        "en": {"any": "any downtime in it", "all": "all of it is down", "majority": "more than half of it is down"},
        "zh": {"any": "窗口内出现任何中断", "all": "整个窗口均中断", "majority": "窗口一半以上时间中断"},
    }[lang][j["window_down_when"]]
    w = j["window_s"]
    if lang == "zh":
        text = f"按 {w} 秒窗口计算，窗口在{when}时计为不可用"
        if j["min_outage_s"]:
            text += f"；持续{'超过' if j['min_outage_strict'] else '不少于'} {j['min_outage_s']} 秒的中断才计入"
        return text
    text = f"counted in {w}-second windows, a window counting as unavailable when {when}"
    if j["min_outage_s"]:
        text += f"; outages count only if they last {'more than' if j['min_outage_strict'] else 'at least'} {j['min_outage_s']} s"
    return text


def draft_letter(
    result: SlaResult,
    *,
    incidents: Sequence[dict[str, Any]],
    customer: dict[str, Any],
    service: dict[str, Any],
    attachments: Sequence[tuple[str, str]],
    lang: str = "en",
    today: date,
    reply_days: int = 14,
) -> str:
    """Plain-text/Markdown letter; ``incidents`` carry ISO ``start``/``end`` and ``duration_*_s``."""
    if lang not in PLACEHOLDERS:
        raise ValueError(f"lang must be one of {sorted(PLACEHOLDERS)}")
    j = result.to_json()
    zone = ZoneInfo(j["timezone"])
    tzname = j["timezone"]
    reply_by = today + timedelta(days=reply_days)
    provider = str(service.get("provider") or j["provider"])
    name = _get(customer, "name", lang)
    svc_name = _get(service, "name", lang, "service_name")
    svc_id = _get(service, "service_id", lang)
    period_from = datetime.fromisoformat(j["period_start"]).astimezone(zone).strftime("%Y-%m-%d")
    period_to = (datetime.fromisoformat(j["period_end"]).astimezone(zone) - timedelta(microseconds=1)).strftime("%Y-%m-%d")
    lines = (_zh if lang == "zh" else _en)(
        j, result, incidents, customer, service, attachments, zone, tzname, reply_by, today,
        provider, name, svc_name, svc_id, period_from, period_to,
    )
    return "\n".join(lines) + "\n"


def _credit_phrase(j: dict[str, Any], lang: str) -> str | None:
    parts = []
    if j["credit_pct"] is not None and j["credit_mode"] == "tiered":
        pct = _pct(j["credit_pct"], 2)
        parts.append(f"{pct} % of the monthly fee" if lang == "en" else f"月费的 {pct} %")
    if j["credit_service_hours"] is not None:
        parts.append(f"{j['credit_service_hours']:g} h" if lang == "en" else f"{j['credit_service_hours']:g} 小时服务时长")
    if j["credit_amount"] is not None and not j["credit_below_minimum"]:
        parts.append(f"{j['credit_amount']} {j['currency'] or ''}".strip())
    return " / ".join(parts) if parts else None


def _en(j: dict[str, Any], result: SlaResult, incidents: Sequence[dict[str, Any]], customer: dict[str, Any],
        service: dict[str, Any], attachments: Sequence[tuple[str, str]], zone: ZoneInfo, tzname: str, reply_by: date,
        today: date, provider: str, name: str, svc_name: str, svc_id: str, period_from: str, period_to: str) -> list[str]:
    lines: list[str] = []
    lines.append(f"Subject: Formal complaint / SLA credit request: outages of {svc_name} ({svc_id}), {period_from} to {period_to}")
    lines.append("")
    lines.append(f"To: {provider}, customer support / complaints department")
    lines.append(f"From: {name}; account {_get(customer, 'account_id', 'en')}; contract {_get(customer, 'contract_id', 'en')}")
    lines.append(f"Date: {today.isoformat()}")
    lines.append("")
    lines.append(f"Dear {provider} team,")
    lines.append("")
    lines.append(
        f"I am your customer (account {_get(customer, 'account_id', 'en')}, contract {_get(customer, 'contract_id', 'en')}) "
        f"and use the service {svc_name}, service id {svc_id}, address {_get(service, 'address', 'en')}. "
        f"I make this formal complaint about its availability from {period_from} to {period_to} ({tzname})."
    )
    lines.append("")
    lines.append("## What happened")
    lines.append("")
    if incidents:
        lines.append("My independent monitoring recorded the following incidents:")
        lines.append("")
        lines.extend(_incident_line(i, inc, zone, tzname, "en") for i, inc in enumerate(incidents, 1))
    else:
        lines.append("My monitoring recorded no individual incident to list here.")
    lines.append("")
    lines.append(
        f"In total {fmt_hms(j['measured_downtime_s'], 'en')} ({j['measured_downtime_s']:g} s) of downtime was measured; "
        f"my monitoring covered {_pct(j['coverage_pct'], 2)} % of the period."
    )
    excluded = [(k, v) for k, v in j["excluded"].items() if v]
    if excluded:
        words = {"maintenance": "announced maintenance", "below_minimum": "outages shorter than your minimum duration",
                 "local": "times my own network was down", "no_data": "times without measurements"}
        lines.append("I have left out, as your terms or fairness require: " + "; ".join(
            f"{words[k]} ({fmt_hms(v, 'en')})" for k, v in excluded))
    lines.append("")
    lines.append("## Your commitment")
    lines.append("")
    if j["uptime_target_pct"] is not None:
        lines.append(
            f"Your service level agreement ({j['provider']}, {j['product']}"
            + (f", {', '.join(j['sources'])}" if j["sources"] else "")
            + f") commits to {j['uptime_target_pct']:g} % availability per {_period_word(j, 'en')}, "
            f"{_rule_text(j, 'en')}."
        )
        up = j["uptime_provider_pct"]
        if up is not None:
            lines.append(
                f"Counted by that rule, availability in this period was {_pct(up)} % "
                f"({fmt_hms(j['counted_downtime_s'], 'en')} of counted downtime)."
            )
    if result.unconfirmed:
        lines.append(
            "Some of the terms applied here could not be confirmed in your published text ("
            + ", ".join(result.unconfirmed) + "); please tell me if your terms differ."
        )
    lines.append("")
    lines.append("## My request")
    lines.append("")
    credit = _credit_phrase(j, "en")
    if j["verdict"] == "breached":
        lines.append("The commitment was not met. I therefore request:")
        if credit:
            lines.append(f"- the service credit due under your terms: {credit};")
        else:
            lines.append("- the service credit due under your terms;")
        if j["clock_hours_credited"]:
            amount = f", {j['clock_hour_amount']} {j['currency'] or ''}".rstrip() if j["clock_hour_amount"] else ""
            lines.append(f"- no charge for the {len(j['clock_hours_credited'])} clock-hour(s) with more than the allowed unavailability{amount};")
    elif j["verdict"] == "not enough data":
        lines.append("My monitoring does not cover enough of the period to settle the monthly figure. I request:")
        lines.append("- your own availability records for the period, so that the credit due can be established;")
    else:
        lines.append("I request:")
        if j["clock_hours_credited"]:
            lines.append(f"- no charge for the {len(j['clock_hours_credited'])} clock-hour(s) with more than the allowed unavailability;")
    lines.append("- a written explanation of the cause of each incident and of the measures taken to prevent it recurring.")
    if j["claim_deadline"] and j["claim_deadline_passed"] is False:
        lines.append("")
        lines.append(f"This request is made within your claim period, which ends on {j['claim_deadline']}.")
    lines.append("")
    lines.append("## Attachments")
    lines.append("")
    if attachments:
        lines.extend(f"- {fname} (SHA-256 {digest})" for fname, digest in attachments)
    else:
        lines.append("- [none attached]")
    lines.append("")
    lines.append(
        f"Please reply in writing by {reply_by.isoformat()}. If I receive no satisfactory reply by then, "
        "I will escalate the matter through the channels open to me."
    )
    lines.append("")
    lines.append("Thank you for your attention.")
    lines.append("")
    lines.append("Yours faithfully,")
    lines.append(name)
    lines.append(f"{_get(customer, 'email', 'en')} · {_get(customer, 'phone', 'en')}")
    return lines


def _period_word(j: dict[str, Any], lang: str) -> str:
    words = {
        "en": {"calendar_month": "calendar month", "billing_month": "billing month", "per_outage": "outage"},
        "zh": {"calendar_month": "自然月", "billing_month": "计费月", "per_outage": "次中断"},
    }
    return words[lang][j["period_kind"]]


def _zh(j: dict[str, Any], result: SlaResult, incidents: Sequence[dict[str, Any]], customer: dict[str, Any],
        service: dict[str, Any], attachments: Sequence[tuple[str, str]], zone: ZoneInfo, tzname: str, reply_by: date,
        today: date, provider: str, name: str, svc_name: str, svc_id: str, period_from: str, period_to: str) -> list[str]:
    lines: list[str] = []
    lines.append(f"主题：关于{svc_name}（{svc_id}）服务中断的正式投诉及SLA赔偿申请（{period_from} 至 {period_to}）")
    lines.append("")
    lines.append(f"致：{provider} 客户服务/投诉部门")
    lines.append(f"投诉人：{name}；账号 {_get(customer, 'account_id', 'zh')}；合同 {_get(customer, 'contract_id', 'zh')}")
    lines.append(f"日期：{today.isoformat()}")
    lines.append("")
    lines.append(f"{provider} 您好：")
    lines.append("")
    lines.append(
        f"本人/本公司是贵司客户（账号 {_get(customer, 'account_id', 'zh')}，合同 {_get(customer, 'contract_id', 'zh')}），"
        f"使用贵司服务 {svc_name}（服务ID {svc_id}，地址 {_get(service, 'address', 'zh')}）。"
        f"现就该服务在 {period_from} 至 {period_to}（{tzname}）期间的可用性问题正式提出投诉。"
    )
    lines.append("")
    lines.append("## 一、事实")
    lines.append("")
    if incidents:
        lines.append("本方独立监测记录到以下事件：")
        lines.append("")
        lines.extend(_incident_line(i, inc, zone, tzname, "zh") for i, inc in enumerate(incidents, 1))
    else:
        lines.append("本方监测未记录到可单独列出的事件。")
    lines.append("")
    lines.append(
        f"本周期内实测中断共 {fmt_hms(j['measured_downtime_s'], 'zh')}（{j['measured_downtime_s']:g} 秒）；"
        f"监测覆盖了周期的 {_pct(j['coverage_pct'], 2)} %。"
    )
    excluded = [(k, v) for k, v in j["excluded"].items() if v]
    if excluded:
        words = {"maintenance": "已公告的维护时间", "below_minimum": "短于贵司最短计入时长的中断",
                 "local": "本方自身网络故障时间", "no_data": "无监测数据的时间"}
        lines.append("以下时间已按贵司条款或公平原则剔除：" + "；".join(f"{words[k]}（{fmt_hms(v, 'zh')}）" for k, v in excluded))
    lines.append("")
    lines.append("## 二、贵司承诺")
    lines.append("")
    if j["uptime_target_pct"] is not None:
        src = f"，{', '.join(j['sources'])}" if j["sources"] else ""
        lines.append(
            f"贵司服务等级协议（{j['provider']}，{j['product']}{src}）承诺每{_period_word(j, 'zh')}可用性 "
            f"{j['uptime_target_pct']:g} %，{_rule_text(j, 'zh')}。"
        )
        up = j["uptime_provider_pct"]
        if up is not None:
            lines.append(f"按此规则计算，本周期可用性为 {_pct(up)} %（计入中断 {fmt_hms(j['counted_downtime_s'], 'zh')}）。")
    if result.unconfirmed:
        lines.append("以下条款未能在贵司公开文本中核实（" + "，".join(result.unconfirmed) + "），如贵司条款不同，请予说明。")
    lines.append("")
    lines.append("## 三、诉求")
    lines.append("")
    credit = _credit_phrase(j, "zh")
    if j["verdict"] == "breached":
        lines.append("上述承诺未能达到，特此请求：")
        lines.append(f"- 按贵司条款给予服务赔偿：{credit}；" if credit else "- 按贵司条款给予服务赔偿；")
        if j["clock_hours_credited"]:
            lines.append(f"- 免收 {len(j['clock_hours_credited'])} 个超出允许不可用时长的整点小时的费用；")
    elif j["verdict"] == "not enough data":
        lines.append("本方监测数据不足以确定整月数值，特此请求：")
        lines.append("- 提供贵司本周期的可用性记录，以便确定应予赔偿；")
    else:
        lines.append("特此请求：")
        if j["clock_hours_credited"]:
            lines.append(f"- 免收 {len(j['clock_hours_credited'])} 个超出允许不可用时长的整点小时的费用；")
    lines.append("- 书面说明每次事件的原因及防止再次发生的措施。")
    if j["claim_deadline"] and j["claim_deadline_passed"] is False:
        lines.append("")
        lines.append(f"本申请在贵司规定的索赔期限（截至 {j['claim_deadline']}）内提出。")
    lines.append("")
    lines.append("## 四、附件")
    lines.append("")
    if attachments:
        lines.extend(f"- {fname}（SHA-256 {digest}）" for fname, digest in attachments)
    else:
        lines.append("- [无附件]")
    lines.append("")
    lines.append(f"请于 {reply_by.isoformat()} 前书面答复。如届时未获满意答复，本方将通过其他可用渠道继续反映。")
    lines.append("")
    lines.append("感谢贵司的重视与配合。")
    lines.append("")
    lines.append("此致")
    lines.append("敬礼")
    lines.append("")
    lines.append(name)
    lines.append(f"{_get(customer, 'email', 'zh')} · {_get(customer, 'phone', 'zh')}")
    return lines
