"""The complaint letter in Chinese: the same facts as the English one (reports/render/letter.py), in the
same order, from the same report model."""

from __future__ import annotations

from reports.render.letter_facts import (
    CHECK,
    KIND,
    PERIOD_WORD,
    Letter,
    alone_failures,
    dur,
    incident_counts,
    pct,
    subject_kind,
    unconfirmed_terms,
)
from reports.render.model import IncidentEntry, SlaSection


def _subject(ctx: Letter) -> str:
    p0, p1 = ctx.period
    svc = f"{ctx.svc_name}（{ctx.svc_id}）"
    interim = "（临时：周期尚未结束）" if ctx.interim else ""
    kind = subject_kind(ctx)
    if kind == "breached":
        target = f"未达到承诺的 {pct(ctx.s.uptime_target_pct)} % 可用性" if ctx.s.uptime_target_pct is not None else "未达到承诺"
        prefix = f"{ctx.s.claim_subject}：" if ctx.s.claim_subject else ""
        return f"主题：{prefix}SLA 赔偿申请：{svc}在 {p0} 至 {p1} 期间{target}{interim}"
    if kind == "incidents":
        what = incident_counts(ctx) or "检查失败"
        return f"主题：正式投诉：{svc}在 {p0} 至 {p1} 期间发生{what}{interim}"
    if kind == "records":
        return f"主题：请求提供 {svc}在 {p0} 至 {p1} 期间的可用性记录{interim}"
    return f"主题：服务记录：{svc}在 {p0} 至 {p1} 期间未记录到事件{interim}"


def _incident(ctx: Letter, inc: IncidentEntry) -> str:
    s_loc, s_utc = ctx.times(inc.start)
    e_loc, e_utc = ctx.times(inc.end)
    lo, hi = inc.duration_min_s, inc.duration_max_s
    if hi is None:
        bounds = f"（至少 {dur(lo, 'zh')}；上限未观测到）"
    elif lo != hi:
        bounds = f"（按监测间隔，实际介于 {dur(lo, 'zh')} 与 {dur(hi, 'zh')} 之间）"
    else:
        bounds = ""
    edge = "（开始于周期之前）" if inc.clipped_start else ""
    edge += "（持续至周期之后）" if inc.clipped_end else ""
    return (f"- {KIND['zh'][inc.kind]}：{s_loc} 至 {e_loc}（{ctx.s.timezone}），即 UTC {s_utc} 至 {e_utc}，"
            f"持续 {dur(inc.duration_s, 'zh')}{bounds}{edge}")


def _rule(s: SlaSection) -> str:
    when = {"any": "窗口内出现任何中断", "all": "整个窗口均中断", "majority": "窗口一半以上时间中断"}[s.window_down_when]
    text = f"按 {pct(s.window_s)} 秒窗口计算，窗口在{when}时计为不可用"
    if s.min_outage_s:
        text += f"；持续{'超过' if s.min_outage_strict else '不少于'} {dur(s.min_outage_s, 'zh')}的中断才计入"
    if s.checks == "all":
        text += "；所有检查均失败时计为中断"
    else:
        text += "；" + "与".join(CHECK["zh"].get(k, k) for k in s.checks) + "失败时计为中断"
    return text


def _facts(ctx: Letter) -> list[str]:
    t, s = ctx.t, ctx.s
    lines = ["## 一、事实", ""]
    if ctx.incidents:
        lines += ["本方独立监测记录到以下事件：", ""]
        lines += [_incident(ctx, i) for i in ctx.incidents]
    elif not s.measured_downtime_s:
        lines.append("本方监测在本周期内未记录到服务中断、部分中断或服务质量下降。")
    for kind, down, avail in alone_failures(t):
        shown = "" if avail is None else f"，在观测时间内的可用率为 {pct(avail, 3)} %"
        lines.append(f"其中{CHECK['zh'].get(kind, kind)}单独失败共 {dur(down, 'zh')}（含其他检查仍有应答的时间）{shown}。")
    lines.append("")
    lines.append(f"本周期内实测中断共 {dur(s.measured_downtime_s, 'zh')}。" if s.measured_downtime_s else "本周期内未测得中断。")
    apart = []
    if s.no_data_s:
        apart.append(f"{dur(s.no_data_s, 'zh')}无监测数据（监测程序未运行或测量轮次缺失）")
    if s.local_s:
        apart.append(f"{dur(s.local_s, 'zh')}为本方自身网络故障，不计入贵司责任")
    lines.append(f"本方监测观测到该服务的时间占周期的 {pct(s.coverage_pct, 2)} %" + ("；" + "；".join(apart) if apart else "") + "。")
    not_counted = [(w, s.excluded.get(k, 0.0)) for k, w in (("maintenance", "已公告的维护时间"),
                                                            ("below_minimum", "短于贵司最短计入时长的中断"))]
    not_counted = [(w, v) for w, v in not_counted if v]
    if not_counted:
        lines.append("按贵司条款，以下时间未计入：" + "；".join(f"{w}（{dur(v, 'zh')}）" for w, v in not_counted) + "。")
    if t.imported is not None:
        srcs = "；".join(f"{x.file}（测量工具：{'未知' if x.tool == 'unknown' else x.tool}）" for x in t.imported.sources)
        lines.append(f"上述测量中有 {pct(t.imported.share_pct, 2)} %（{t.imported.rows} 条记录）并非本方监测程序所测，"
                     f"而是从 {srcs} 导入；报告中已注明。")
    return lines


def _terms(ctx: Letter) -> list[str]:
    s = ctx.s
    lines = ["## 二、贵司承诺", ""]
    if s.uptime_target_pct is not None:
        src = f"，{', '.join(s.sources)}" if s.sources else ""
        lines.append(f"贵司服务等级协议（{s.provider}，{s.product}{src}）承诺每{PERIOD_WORD['zh'][s.period_kind]}可用性 "
                     f"{pct(s.uptime_target_pct)} %，{_rule(s)}。")
        if s.uptime_provider_pct is not None:
            so_far = "截至目前" if ctx.interim else ""
            counted = f"计入中断 {dur(s.counted_downtime_s, 'zh')}" if s.counted_downtime_s else "无计入的中断"
            lines.append(f"按此规则计算，本周期{so_far}可用性为 {pct(s.uptime_provider_pct)} %（{counted}）。")
    if s.unconfirmed_fields:
        lines.append(f"以下条款未能在贵司公开文本中核实（{unconfirmed_terms(ctx)}），如贵司条款不同，请予说明。")
    return lines


def _credit(s: SlaSection) -> str | None:
    parts = []
    if s.credit_pct is not None and s.credit_mode == "tiered":
        parts.append(f"月费的 {pct(s.credit_pct, 2)} %")
    if s.credit_service_hours is not None:
        parts.append(f"{pct(s.credit_service_hours, 3)} 小时服务时长")
    if s.credit_amount is not None and not s.credit_below_minimum:
        parts.append(f"{s.credit_amount} {s.currency or ''}".strip())
    return " / ".join(parts) if parts else None


def _request(ctx: Letter) -> list[str]:
    s = ctx.s
    lines = ["## 三、诉求", ""]
    hours = len(s.clock_hours_credited)
    if s.verdict == "breached":
        lines.append(("截至目前，" if ctx.interim else "") + "上述承诺未能达到，特此请求：")
        credit = _credit(s)
        lines.append(f"- 按贵司条款给予服务赔偿：{credit}；" if credit else "- 按贵司条款给予服务赔偿；")
    elif s.verdict == "not enough data":
        lines.append("本方监测数据不足以确定本周期的数值，特此请求：")
        lines.append("- 提供贵司本周期的可用性记录，以便确定应予赔偿；")
    else:
        lines.append("特此请求：")
    if hours:
        amount = f"（{s.clock_hour_amount} {s.currency or ''}）".replace(" ）", "）") if s.clock_hour_amount else ""
        lines.append(f"- 免收 {hours} 个超出允许不可用时长的整点小时的费用{amount}；")
    if ctx.incidents or alone_failures(ctx.t):
        lines.append("- 书面说明每次事件的原因及防止再次发生的措施。")
    else:
        lines.append("- 书面确认贵司记录的本周期可用性。")
    if ctx.interim:
        lines += ["", f"本周期尚未结束：以上数据为临时值，本方将在 {ctx.period[1]} 之后确认。"]
    if s.claim_deadline and s.claim_deadline_passed is False:
        lines += ["", f"本申请在贵司规定的索赔期限（截至 {s.claim_deadline.isoformat()}）内提出。"]
    return lines


def body_zh(ctx: Letter) -> list[str]:
    c, (p0, p1) = ctx.customer, ctx.period
    account, contract = ctx.get(c, "account_id"), ctx.get(c, "contract_id")
    return [
        _subject(ctx), "",
        f"致：{ctx.provider} 客户服务/投诉部门",
        f"投诉人：{ctx.get(c, 'name')}；账号 {account}；合同 {contract}",
        f"日期：{ctx.today.isoformat()}", "",
        f"{ctx.provider} 您好：", "",
        f"本人/本公司是贵司客户（账号 {account}，合同 {contract}），使用贵司服务 {ctx.svc_name}（服务ID {ctx.svc_id}，"
        f"地址 {ctx.get(ctx.service, 'address')}）。现就该服务在 {p0} 至 {p1}（{ctx.s.timezone}）期间的可用性"
        f"{'（周期尚未结束）' if ctx.interim else ''}致函贵司。",
        "",
        *_facts(ctx), "",
        *_terms(ctx), "",
        *_request(ctx), "",
        "## 四、附件", "",
        *([f"- {name}（SHA-256 {digest}）" for name, digest in ctx.attachments] or ["- [无附件]"]), "",
        f"请于 {ctx.reply_by.isoformat()} 前书面答复。如届时未获满意答复，本方将通过其他可用渠道继续反映。", "",
        "感谢贵司的重视与配合。", "",
        "此致",
        "敬礼", "",
        ctx.get(c, "name"),
        f"{ctx.get(c, 'email')} · {ctx.get(c, 'phone')}",
    ]
