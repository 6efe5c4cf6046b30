"""Labels of the report's alert list (when the user was told), English and Chinese; merged into i18n.py."""

from __future__ import annotations

ALERT_LABELS: dict[str, tuple[str, str]] = {
    "alerts.heading": ("When you were told: alerts sent", "何时得到通知：已发出的告警"),
    "alerts.intro": (
        "Every alert the agent sent, failed to send or dropped about an event in this period, from its alert log "
        "(one row per delivery). Claim rules that run from the moment a customer knew start here at the latest.",
        "代理关于本时段事件发出、发送失败或丢弃的每一条告警，取自其告警记录（每次投递一行）。若索赔规则从客户知情之时起算，"
        "最迟从此处开始。",
    ),
    "alerts.col_event": ("Event at", "事件时间"),
    "alerts.col_target": ("Target", "目标"),
    "alerts.col_kind": ("Event", "事件"),
    "alerts.col_to": ("Sent to", "发送至"),
    "alerts.col_outcome": ("Outcome", "结果"),
    "alerts.agent": ("the agent", "代理本身"),
    "alerts.sent": ("delivered {at}", "已于 {at} 送达"),
    "alerts.failed": ("not delivered after {n} attempts ({at})", "尝试 {n} 次后未能送达（{at}）"),
    "alerts.dropped": ("dropped: too many waiting ({at})", "已丢弃：等待发送的告警过多（{at}）"),
    "alerts.more": ("… and {n} more in summary.json", "……另有 {n} 条见 summary.json"),
    "alerts.kind.incident_opened": ("first failed round", "首次失败的轮次"),
    "alerts.kind.blip": ("short failure, recovered", "短暂失败，已恢复"),
    "alerts.kind.incident_confirmed": ("outage confirmed", "确认中断"),
    "alerts.kind.still_down": ("still down", "仍在中断"),
    "alerts.kind.recovered": ("recovered", "已恢复"),
    "alerts.kind.local_outage": ("the agent's own network down", "代理自身网络中断"),
    "alerts.kind.local_recovered": ("the agent's own network back", "代理自身网络恢复"),
    "alerts.kind.agent_gap": ("the agent was not running", "代理未运行"),
    "alerts.kind.budget_reached": ("traffic budget reached", "流量预算已用完"),
    "alerts.kind.cert_expiry": ("certificate expiring", "证书即将过期"),
    "alerts.kind.sla_tier": ("next SLA credit tier near", "即将达到下一赔偿档位"),
    "alerts.kind.claim_deadline": ("claim deadline near", "索赔期限将至"),
    "alerts.kind.other": ("another event", "其他事件"),
}
