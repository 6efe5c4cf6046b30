"""Plain number and duration formatting shared by the SLA text and the complaint letter.

Numbers go through reports/render/numbers.py, the one rule every document uses: cut, never
rounded up (a figure printed next to a target must not reach the target when the exact value
does not: 99.49999 prints 99.4999), and never a false 0 (0.00004 prints 0.00004, not 0.0000).
"""

from __future__ import annotations

from reports.render.numbers import Number, cut, cut_short

_HMS_UNITS = {"en": ("h", "min", "s"), "zh": ("小时", "分", "秒")}


def fmt_truncated(v: Number, places: int = 4) -> str:
    """``v`` cut to ``places`` decimals (more when it would print as 0): 99.49999 → "99.4999"."""
    return cut(v, places)


def fmt_hms(seconds: float, lang: str) -> str:
    """Whole hours, minutes and seconds, zero parts left out: "1 h 5 s" / "1 小时 5 秒"; zero is "0 s".

    Under half a second but not zero prints its seconds cut ("0.4 s"), never "0 s"."""
    units = _HMS_UNITS["zh" if lang == "zh" else "en"]
    if round(seconds) == 0 and seconds:
        return f"{cut_short(seconds, 3)} {units[2]}"
    h, rem = divmod(round(seconds), 3600)
    m, s = divmod(rem, 60)
    shown = [f"{n} {unit}" for n, unit in zip((h, m, s), units) if n]
    return " ".join(shown) or f"0 {units[2]}"


# The SLA terms in words (en, zh), for documents that must not print internal keys (the letter; the
# terms appendix may use them too). Every path reports.analysis.sla_fields can list has one (a test
# holds them equal); performance terms are named by their metric.
TERM_LABELS: dict[str, tuple[str, str]] = {
    "uptime_target_pct": ("the uptime target", "可用性承诺"),
    "period.kind": ("the accounting period", "计算周期"),
    "period.timezone": ("the time zone of the period", "周期所用时区"),
    "period.anchor_day": ("the day the billing cycle starts", "计费周期起始日"),
    "counting.window_s": ("the length of the counting windows", "计算窗口长度"),
    "counting.window_down_when": ("when a counting window is down", "窗口计为不可用的条件"),
    "counting.min_outage_s": ("the minimum outage duration", "最短计入时长"),
    "counting.min_outage_strict": ("whether an outage must last longer than that minimum", "中断是否须长于最短时长"),
    "counting.down_states": ("which states count as down", "计为中断的状态"),
    "counting.checks": ("which checks' failure counts as downtime", "哪些检查失败计为中断"),
    "counting.starts_at": ("when downtime starts to count", "中断起算时间"),
    "no_data.rule": ("how time without measurements is treated", "无监测数据时间的处理方式"),
    "no_data.min_coverage_pct": ("the coverage needed for a verdict", "得出结论所需的覆盖率"),
    "credit.mode": ("how the credit is computed", "赔偿计算方式"),
    "credit.tiers": ("the credit tiers", "赔偿档位"),
    "credit.duration_table": ("the credit per outage duration", "按中断时长的赔偿表"),
    "credit.cap_pct": ("the credit cap", "赔偿上限"),
    "credit.minimum_amount": ("the minimum credit issued", "最低赔偿金额"),
    "credit.clock_hour_rule": ("the clock-hour rule", "整点小时规则"),
    "claim.anchor": ("the claim deadline", "索赔期限"),
    "claim.evidence": ("the evidence a claim needs", "索赔所需证据"),
}
METRIC_LABELS: dict[str, tuple[str, str]] = {
    "rtt_ms": ("latency", "延迟"),
    "loss_pct": ("packet loss", "丢包率"),
    "jitter_ms": ("jitter", "抖动"),
    "bandwidth_mbps": ("bandwidth", "带宽"),
}


def term_label(path: str, lang: str) -> str:
    """An SLA term's path ("counting.window_s", "performance[0].rtt_ms") in words of ``lang``."""
    zh = lang == "zh"
    if path.startswith("performance["):
        metric = path.rpartition(".")[2]
        en_name, zh_name = METRIC_LABELS.get(metric, (metric.replace("_", " "), metric.replace("_", " ")))
        return f"{zh_name}性能条款" if zh else f"the {en_name} performance term"
    en, zh_text = TERM_LABELS.get(path, (path.replace("_", " ").replace(".", ": "), path.replace("_", " ").replace(".", "：")))
    return zh_text if zh else en
