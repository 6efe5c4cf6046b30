"""Labels of the report's vantage section (one target measured from several places), English and Chinese.

Kept apart from i18n.py, which merges them into its table.
"""

from __future__ import annotations

VANTAGE_LABELS: dict[str, tuple[str, str]] = {
    "vantage.heading": ("Seen from several places", "多个观测点的结果"),
    "vantage.rule_majority": (
        "{n} vantage points measured this target. An outage counts as confirmed when at least {quorum} of them "
        "(a majority of the {with_data} that had data), each with its own network up, saw the target down at the "
        "same time; an outage seen from fewer places is a path or regional problem, listed apart and not counted "
        "against the provider. The SLA verdict counts confirmed outages only.",
        "共有 {n} 个观测点测量了该目标。只有当至少 {quorum} 个观测点（有数据的 {with_data} 个观测点中的多数），"
        "在各自网络正常的情况下同时看到目标中断，才算作已确认的中断；少于此数的观测点看到的中断属于线路或地区问题，"
        "单独列出，不计入服务商的责任。SLA 结论只计算已确认的中断。",
    ),
    "vantage.rule_fixed": (
        "{n} vantage points measured this target. An outage counts as confirmed when at least {quorum} of them, "
        "each with its own network up, saw the target down at the same time; an outage seen from fewer places is "
        "a path or regional problem, listed apart and not counted against the provider. The SLA verdict counts "
        "confirmed outages only.",
        "共有 {n} 个观测点测量了该目标。只有当至少 {quorum} 个观测点在各自网络正常的情况下同时看到目标中断，"
        "才算作已确认的中断；少于此数的观测点看到的中断属于线路或地区问题，单独列出，不计入服务商的责任。"
        "SLA 结论只计算已确认的中断。",
    ),
    "vantage.confirmed_total": ("Confirmed outage time: {duration}.", "已确认的中断时间：{duration}。"),
    "vantage.name": ("Vantage point", "观测点"),
    "vantage.agent": ("Agent ID", "代理 ID"),
    "vantage.observed": ("Measured", "有效测量时间"),
    "vantage.down": ("Saw it down", "看到中断"),
    "vantage.local": ("Own network down", "自身网络中断"),
    "vantage.no_data": ("No data", "无数据"),
    "vantage.incidents": ("Outages across vantage points", "各观测点的中断"),
    "vantage.none": ("No vantage point saw an outage in the period.", "本期间内没有观测点看到中断。"),
    "vantage.id": ("ID", "编号"),
    "vantage.status": ("Finding", "结论"),
    "vantage.confirmed": ("confirmed by {k} of {n}", "{n} 个中的 {k} 个确认"),
    "vantage.single": ("seen from one vantage point only", "仅一个观测点看到"),
    "vantage.few": ("seen from {k} vantage points, fewer than {quorum}", "{k} 个观测点看到，少于 {quorum} 个"),
    "vantage.start": ("Start", "开始"),
    "vantage.end": ("End", "结束"),
    "vantage.counted": ("Counted", "计入时长"),
    "vantage.sights": ("Each vantage point's own bounds", "各观测点自己的起止时间"),
    "vantage.quorum_row": ("confirmed", "已确认"),
    "chart.vantages": (
        "The target's state from each vantage point (one row each) and, in the last row, the outages a quorum confirmed.",
        "各观测点看到的目标状态（每行一个观测点），最后一行为多数确认的中断。",
    ),
}
