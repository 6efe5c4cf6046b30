"""Alert messages in the configured language: what happened, since when, for how long, the
evidence taken, and a ticket text ready to paste to the provider (service ID, claim rule).

Times are shown in the display zone with UTC beside (a provider's support reads UTC).
Pure: the event, the service facts and the zone in; a title and a body out.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, tzinfo

from agent.live.alerts.ticket import ClaimRule, ServiceInfo
from agent.live.events import Event, Kind
from agent.live.text import mask

TICKET_KINDS = frozenset({Kind.CONFIRMED, Kind.STILL_DOWN, Kind.RECOVERED})


@dataclass(frozen=True, slots=True)
class Message:
    title: str
    body: str


S: dict[str, dict[str, str]] = {
    "en": {
        "confirmed": "{kind} confirmed: {target}",
        "still_down": "still down after {dur}: {target}",
        "recovered": "recovered after {dur}: {target}",
        "local_outage": "local outage: the agent's own network is down",
        "local_recovered": "local outage over",
        "sla_tier": "SLA credit tier close: {target}",
        "claim_deadline": "claim deadline {deadline}: {target}",
        "cert_expiry": "certificate expires in {days} days: {target}",
        "budget_reached": "traffic budget reached: {target}",
        "outage": "Outage", "partial": "Partial outage",
        "down_since": "{target} ({address}) has been {state} since {since}: {dur} so far, {n} failed rounds in a row.",
        "was_down": "{target} ({address}) was {state} from {since} to {until}: {dur}.",
        "state_outage": "down", "state_partial": "partly down",
        "failing": "Failing checks: {errors}.",
        "evidence": "Evidence taken: {items}.",
        "evidence_pending": "Evidence: a traceroute to the target and to the control target is being taken now; it is quoted in the next message and in the report.",
        "local_body": "Every control target failed from {since}: the agent's own network, not the provider. Incidents of other targets in this time are not charged to providers.",
        "local_over": "The control targets answer again since {until} (local outage {dur}).",
        "sla_body": "Counted downtime this period: {down}; the next credit tier ({tier}) starts at {limit} ({left} left). Period: {p0} to {p1}.",
        "claim_body": "The period {p0} to {p1} breached the SLA ({detail}); a claim must reach {provider} by {deadline}.{channel}",
        "cert_body": "The TLS certificate of {url} expires in {days} days.",
        "budget_body": "Bandwidth checks are skipped until the budget allows them again: {reason}.",
        "ticket_head": "Ticket text (paste to the provider):",
        "t_subject_down": "Subject: {subject}Service outage: {service} down since {since_utc}",
        "t_subject_up": "Subject: {subject}Service outage: {service} was down {since_utc} to {until_utc}",
        "t_hello": "Hello,",
        "t_down": "our service {service} ({address}) has been {state} since {since_utc} and is still affected ({dur} so far). Our monitoring recorded: {errors}.",
        "t_up": "our service {service} ({address}) was {state} from {since_utc} to {until_utc} ({dur}). Our monitoring recorded: {errors}.",
        "t_evidence": "Evidence: {items}. Full measurements with signed checkpoints are available on request.",
        "t_ticket_counts": "Your SLA counts downtime from the opening of a ticket: please record this ticket as the start of the outage for SLA purposes.",
        "t_credit": "Please confirm the outage and record it for SLA service credit{terms}.",
        "t_terms": " under your terms for {product} (uptime commitment {pct} %)",
        "t_deadline": "Claim channel: {channel}. Claim deadline by our reading of the terms: {deadline}.",
        "t_channel": "Claim channel: {channel}.",
        "t_account": "Account: {account}.",
        "t_id": "Service ID: {id}.",
        "t_thanks": "Thank you.",
        "no_id": "[service ID: set service_id in the target's config]",
    },
    "zh": {
        "confirmed": "确认{kind}：{target}",
        "still_down": "已中断 {dur}，仍未恢复：{target}",
        "recovered": "已恢复（中断 {dur}）：{target}",
        "local_outage": "本地故障：监测端自身网络中断",
        "local_recovered": "本地故障已结束",
        "sla_tier": "即将达到 SLA 赔付档位：{target}",
        "claim_deadline": "索赔截止日 {deadline}：{target}",
        "cert_expiry": "证书将在 {days} 天后过期：{target}",
        "budget_reached": "流量预算已用尽：{target}",
        "outage": "中断", "partial": "部分中断",
        "down_since": "{target}（{address}）自 {since} 起{state}：至今 {dur}，连续 {n} 轮检测失败。",
        "was_down": "{target}（{address}）在 {since} 至 {until} 期间{state}：共 {dur}。",
        "state_outage": "不可用", "state_partial": "部分不可用",
        "failing": "失败的检测：{errors}。",
        "evidence": "已取得的证据：{items}。",
        "evidence_pending": "证据：正在对目标和对照目标做路由追踪（traceroute），结果见下一条消息和报告。",
        "local_body": "自 {since} 起所有对照目标均失败：这是监测端自身的网络故障，不是服务商的问题。此期间其他目标的故障不计入服务商。",
        "local_over": "对照目标自 {until} 起恢复应答（本地故障共 {dur}）。",
        "sla_body": "本周期已计停机时间：{down}；下一赔付档位（{tier}）始于 {limit}（还差 {left}）。周期：{p0} 至 {p1}。",
        "claim_body": "{p0} 至 {p1} 周期未达到 SLA（{detail}）；须在 {deadline} 前向 {provider} 提出索赔。{channel}",
        "cert_body": "{url} 的 TLS 证书将在 {days} 天后过期。",
        "budget_body": "在预算允许之前，带宽检测暂停：{reason}。",
        "ticket_head": "工单文本（可直接粘贴给服务商）：",
        "t_subject_down": "主题：{subject}服务中断：{service} 自 {since_utc} 起不可用",
        "t_subject_up": "主题：{subject}服务中断：{service} 在 {since_utc} 至 {until_utc} 期间不可用",
        "t_hello": "您好，",
        "t_down": "我方服务 {service}（{address}）自 {since_utc} 起{state}，目前仍受影响（至今 {dur}）。我方监测记录：{errors}。",
        "t_up": "我方服务 {service}（{address}）在 {since_utc} 至 {until_utc} 期间{state}（共 {dur}）。我方监测记录：{errors}。",
        "t_evidence": "证据：{items}。带签名检查点的完整测量数据可按要求提供。",
        "t_ticket_counts": "贵方 SLA 自工单提交时起计算停机时间：请将本工单记录为此次中断在 SLA 上的开始时间。",
        "t_credit": "请确认此次中断并按 SLA 记录服务赔偿{terms}。",
        "t_terms": "（{product}，可用性承诺 {pct}%）",
        "t_deadline": "索赔渠道：{channel}。按我方对条款的理解，索赔截止日：{deadline}。",
        "t_channel": "索赔渠道：{channel}。",
        "t_account": "账户：{account}。",
        "t_id": "服务 ID：{id}。",
        "t_thanks": "谢谢。",
        "no_id": "[服务 ID：请在目标配置中设置 service_id]",
    },
}


def duration_words(seconds: float, lang: str) -> str:
    s = round(seconds)
    d, h, m, sec = s // 86400, s % 86400 // 3600, s % 3600 // 60, s % 60
    units = (("d", "h", "min", "s") if lang == "en" else ("天", "小时", "分", "秒"))
    parts = [f"{v}{'' if lang == 'zh' else ' '}{u}" for v, u in zip((d, h, m, sec), units) if v]
    sep = "" if lang == "zh" else " "
    return sep.join(parts[:3]) or (f"0 {units[3]}" if lang == "en" else f"0{units[3]}")


def when(moment: datetime, tz: tzinfo) -> str:
    """'2026-11-28 19:00:03 CST (11:00:03 UTC)'."""
    local = moment.astimezone(tz)
    utc = moment.astimezone(UTC)
    if local.utcoffset() == utc.utcoffset():
        return f"{utc:%Y-%m-%d %H:%M:%S} UTC"
    same_day = local.date() == utc.date()
    return f"{local:%Y-%m-%d %H:%M:%S} {local.tzname()} ({utc:{'%H:%M:%S' if same_day else '%Y-%m-%d %H:%M:%S'}} UTC)"


def utc_text(moment: datetime) -> str:
    return f"{moment.astimezone(UTC):%Y-%m-%d %H:%M:%S} UTC"


def compose(event: Event, info: ServiceInfo | None, lang: str, tz: tzinfo) -> Message:
    """The title and body of one alert."""
    s = S[lang]
    dur = duration_words(event.duration_s or 0.0, lang)
    target = event.target or ""
    kind_word = s.get(event.incident_kind or "outage", s["outage"])
    title = "[slaproof] " + s[_title_key(event.kind)].format(kind=kind_word, target=target, dur=dur,
                                                              deadline=event.figures.get("deadline", ""),
                                                              days=event.figures.get("days", ""))
    if event.kind in TICKET_KINDS:
        body = _incident_body(event, info, lang, tz, dur)
    else:
        body = _other_body(event, lang, tz, dur)
    return Message(mask(title), mask(body))


def _title_key(kind: Kind) -> str:
    return {Kind.CONFIRMED: "confirmed", Kind.STILL_DOWN: "still_down", Kind.RECOVERED: "recovered",
            Kind.LOCAL_OUTAGE: "local_outage", Kind.LOCAL_RECOVERED: "local_recovered", Kind.SLA_TIER: "sla_tier",
            Kind.CLAIM_DEADLINE: "claim_deadline", Kind.CERT_EXPIRY: "cert_expiry", Kind.BUDGET_REACHED: "budget_reached"}[kind]


def _incident_body(event: Event, info: ServiceInfo | None, lang: str, tz: tzinfo, dur: str) -> str:
    s = S[lang]
    since = event.since or event.at
    state = s["state_partial"] if event.incident_kind == "partial" else s["state_outage"]
    address = info.address if info else ""
    errors = "; ".join(event.errors) or "-"
    lines = []
    if event.kind is Kind.RECOVERED and event.until is not None:
        lines.append(s["was_down"].format(target=event.target, address=address, state=state, since=when(since, tz),
                                          until=when(event.until, tz), dur=dur))
    else:
        lines.append(s["down_since"].format(target=event.target, address=address, state=state, since=when(since, tz), dur=dur,
                                            n=event.failed_rounds))
        lines.append(s["failing"].format(errors=errors))
    items = _evidence_items(event, tz)
    if items:
        lines.append(s["evidence"].format(items=items))
    if event.kind is Kind.CONFIRMED or not items:
        lines.append(s["evidence_pending"])
    lines += ["", s["ticket_head"], "---", *_ticket(event, info, lang, tz, dur, state, errors, items), "---"]
    return "\n".join(lines)


def _evidence_items(event: Event, tz: tzinfo) -> str:
    return "; ".join(f"{e.kind} ({e.about}, {when(e.taken_at, tz)}): {e.summary}" for e in event.evidence)


def _ticket(event: Event, info: ServiceInfo | None, lang: str, tz: tzinfo, dur: str, state: str, errors: str, items: str) -> list[str]:
    s = S[lang]
    since = event.since or event.at
    service = (info.service_name or info.target) if info else (event.target or "")
    claim = info.claim if info else None
    subject = f"{claim.subject}: " if claim and claim.subject else ""
    address = info.address if info else ""
    recovered = event.kind is Kind.RECOVERED and event.until is not None
    out = [s["t_subject_up" if recovered else "t_subject_down"].format(
        subject=subject, service=service, since_utc=utc_text(since), until_utc=utc_text(event.until or event.at)), "", s["t_hello"]]
    body = s["t_up" if recovered else "t_down"].format(service=service, address=address, state=state, since_utc=utc_text(since),
                                                       until_utc=utc_text(event.until or event.at), dur=dur, errors=errors)
    out.append(body)
    if items:
        out.append(s["t_evidence"].format(items=items))
    out.append(s["t_id"].format(id=info.service_id) if info and info.service_id else s["no_id"])
    if info and info.account_id:
        out.append(s["t_account"].format(account=info.account_id))
    out += _claim_lines(claim, s, recovered)
    out.append(s["t_thanks"])
    return out


def _claim_lines(claim: ClaimRule | None, s: dict[str, str], recovered: bool) -> list[str]:
    """The SLA's claim rule in the ticket: counting from the ticket, the credit request, channel and deadline."""
    if claim is None:
        return [s["t_credit"].format(terms="")]
    out = [s["t_ticket_counts"]] if claim.counts_from_ticket and not recovered else []
    terms = s["t_terms"].format(product=f"{claim.provider} {claim.product}".strip(), pct=claim.uptime_target_pct) \
        if claim.uptime_target_pct else ""
    out.append(s["t_credit"].format(terms=terms))
    if claim.deadline:
        out.append(s["t_deadline"].format(channel=claim.channel or "-", deadline=claim.deadline.isoformat()))
    elif claim.channel:
        out.append(s["t_channel"].format(channel=claim.channel))
    return out


def _other_body(event: Event, lang: str, tz: tzinfo, dur: str) -> str:
    s = S[lang]
    f = event.figures
    if event.kind is Kind.LOCAL_OUTAGE:
        return s["local_body"].format(since=when(event.since or event.at, tz))
    if event.kind is Kind.LOCAL_RECOVERED:
        return s["local_over"].format(until=when(event.until or event.at, tz), dur=dur)
    if event.kind is Kind.SLA_TIER:
        return s["sla_body"].format(down=f.get("counted", ""), tier=f.get("tier", ""), limit=f.get("limit", ""), left=f.get("left", ""),
                                    p0=f.get("period_start", ""), p1=f.get("period_end", ""))
    if event.kind is Kind.CLAIM_DEADLINE:
        channel = f.get("channel", "")
        return s["claim_body"].format(p0=f.get("period_start", ""), p1=f.get("period_end", ""), detail=f.get("detail", ""),
                                      provider=f.get("provider", ""), deadline=f.get("deadline", ""),
                                      channel=(" " + s["t_deadline"].format(channel=channel, deadline=f.get("deadline", ""))) if channel else "")
    if event.kind is Kind.CERT_EXPIRY:
        return s["cert_body"].format(url=f.get("url", event.target or ""), days=f.get("days", ""))
    if event.kind is Kind.BUDGET_REACHED:
        return s["budget_body"].format(reason=f.get("reason", ""))
    raise ValueError(f"no message for event {event.kind.value}")
