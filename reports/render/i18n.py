"""Report labels in English and Chinese, and the locale-aware value formatters.

Formatting rules exist so a printed figure can never say more than the data:
a percentage that is not exactly 100 never prints as "100", a non-zero one
never prints as "0"; every duration also shows its exact seconds; every time
shows the display zone with UTC beside it.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime, tzinfo
from typing import Any

from reports.render.i18n_alerts import ALERT_LABELS
from reports.render.i18n_host import HOST_LABELS
from reports.render.i18n_proof import PROOF_LABELS
from reports.render.i18n_vantage import VANTAGE_LABELS
from reports.render.inputs import parse_time
from reports.render.labels_report import LABELS as REPORT_LABELS
from reports.render.labels_sla import LABELS as SLA_LABELS
from reports.render.model import Verdict
from reports.render.numbers import cut, cut_short, cut_significant

LANGS = ("en", "zh")

LABELS: dict[str, tuple[str, str]] = {
    # key: (en, zh)
    "title": ("Network service evidence report", "网络服务证据报告"),
    "subtitle": (
        "Measurements of availability, latency and loss recorded by a slaproof agent",
        "由 slaproof 监测代理记录的可用性、延迟与丢包测量",
    ),
    "cover.agent_id": ("Agent ID", "代理 ID"),
    "cover.host": ("Host", "主机"),
    "cover.vantage": ("Vantage point", "测量位置"),
    "cover.network": ("Network", "网络"),
    "cover.version": ("Software", "软件"),
    "cover.from": ("From", "开始"),
    "cover.to": ("To", "结束"),
    "cover.timezone": ("Display time zone", "显示时区"),
    "cover.generated": ("Generated", "生成时间"),
    "cover.about_text": (
        "All times are shown in the display time zone with UTC in parentheses, to the whole second "
        "(summary.json holds them in UTC with microseconds). Durations are given in words and in "
        "seconds. Percentages are rounded for display only; summary.json holds the unrounded "
        "values. Periods without measurements are reported as \u201cno data\u201d and never counted "
        "as available; outages of the agent's own network (\u201clocal\u201d) are not counted "
        "against the provider. The files of this report are listed with their SHA-256 hashes in "
        "manifest.json.",
        "所有时间均以显示时区表示，括号内为 UTC，精确到秒（summary.json 以 UTC 记录，精确到微秒）。"
        "时长同时以文字和秒数给出。百分比仅为显示而取整，summary.json 保存未取整的数值。"
        "没有测量数据的时段标为“无数据”，绝不计为可用；代理自身网络的故障（“本地”）不计入服务商责任。"
        "本报告各文件及其 SHA-256 哈希值列于 manifest.json。",
    ),
    "control": ("control", "对照"),
    "target.control": ("Control target", "对照目标"),
    "control_note": (
        "Control targets are not the provider's: they show whether the agent's own network worked.",
        "对照目标不属于服务商，用于判断代理自身网络是否正常。",
    ),
    "summary.heading": ("Summary", "汇总"),
    "col.target": ("Target", "目标"),
    "col.availability": ("Availability", "可用率"),
    "col.downtime": ("Downtime", "中断时长"),
    "col.incidents": ("Incidents", "事件数"),
    "col.latency": ("Latency p50 / p95 / p99", "延迟 p50 / p95 / p99"),
    "col.loss": ("Loss", "丢包率"),
    "col.coverage": ("Coverage", "覆盖率"),
    "target.heading": ("Target: {name}", "目标：{name}"),
    "target.address": ("Address", "地址"),
    "target.provider": ("Provider", "服务商"),
    "target.interval": ("Check interval", "检测间隔"),
    "target.rows": ("Measurement rows", "测量记录数"),
    "target.partial": ("Partial failure", "部分故障"),
    "target.degraded": ("Degraded", "性能下降"),
    "target.local": ("Local network down (not counted)", "本地网络故障（不计入）"),
    "target.no_data": ("No data (not counted as up)", "无数据（不计为可用）"),
    "target.latency_detail": ("Latency mean / min / max (samples)", "延迟 平均 / 最小 / 最大（样本数）"),
    "incidents.heading": ("Incidents", "事件"),
    "incidents.none": ("No incidents in the period.", "本时段内无事件。"),
    "bw.heading": ("Bandwidth tests", "带宽测试"),
    "bw.counts": (
        "{tests} tests: {ok} measured, {failed} failed, {skipped} skipped by the traffic budget, {apart} not counted "
        "(run while the agent's own network was down, or failed on the agent's side). Figures are the tests' mean "
        "throughput after warm-up (Mbit/s); every test is in measurements.csv.",
        "共 {tests} 次测试：{ok} 次有结果，{failed} 次失败，{skipped} 次因流量预算跳过，{apart} 次不计入（监测端自身网络"
        "中断期间进行，或因监测端自身原因失败）。数值为每次测试预热后的平均吞吐量（Mbit/s）；每次测试均见 measurements.csv。",
    ),
    "bw.direction": ("Direction", "方向"),
    "bw.download": ("download", "下载"),
    "bw.upload": ("upload", "上传"),
    "bw.count": ("Tests", "次数"),
    "bw.mean": ("Mean", "平均"),
    "bw.min": ("Min", "最低"),
    "bw.p10": ("p10", "p10"),
    "bw.p50": ("p50", "p50"),
    "bw.p90": ("p90", "p90"),
    "bw.max": ("Max", "最高"),
    "bw.failures": ("Failed tests", "失败的测试"),
    "bw.time": ("Time", "时间"),
    "bw.error": ("Error", "错误"),
    "inc.id": ("ID", "编号"),
    "inc.kind": ("Kind", "类型"),
    "inc.start": ("Start", "开始"),
    "inc.end": ("End", "结束"),
    "inc.duration": ("Duration (min\u2013max)", "时长（最短–最长）"),
    "inc.errors": ("Errors", "错误"),
    "inc.clipped_start": ("began before the period", "开始于统计时段之前"),
    "inc.clipped_end": ("continued after the period", "持续至统计时段之后"),
    "inc.no_upper": ("upper bound not observed", "上限未观测到"),
    "inc.bounds": ("between {lo} and {hi}", "介于 {lo} 与 {hi} 之间"),
    "kind.outage": ("outage", "中断"),
    "kind.partial": ("partial", "部分故障"),
    "kind.degraded": ("degraded", "性能下降"),
    "kind.local": ("local network", "本地网络"),
    "kind.no_data": ("no data", "无数据"),
    "charts.heading": ("Charts", "图表"),
    "charts.none": ("No chart data for this target.", "该目标没有图表数据。"),
    "chart.latency": (
        "Latency as SmokePing draws it: per time bucket, the grey bands hold the middle of the RTT samples "
        "(darker: closer to the median), the short bar is the median, coloured by the bucket's packet loss, "
        "which the bars under it show by height. Incidents are tinted and hatched under the chart with their "
        "IDs above it; grey is time without data.",
        "按 SmokePing 方式绘制的延迟：每个时间段内，灰色带为 RTT 样本的中间部分（越深越接近中位数），短横线为中位数，"
        "其颜色表示该时段的丢包率，下方柱形以高度表示丢包率。事件在图下以底色和斜线标出，编号写在图上方；灰色为无数据时段。",
    ),
    "chart.daily": (
        "Availability per day (display time zone) and the share of the day with measurements; "
        "days without data are grey and labelled, not drawn as 100 %.",
        "每日可用率（显示时区）与当日有测量数据的比例；无数据的日期以灰色标出，不画作 100%。",
    ),
    "chart.card": (
        "The incident with 30 minutes on each side: one bucket per round where they fit.",
        "事件前后各 30 分钟：能容纳时每轮一个时段。",
    ),
    "chart.smoke_sub": ("RTT of {kind} checks: spread, median and loss per bucket", "{kind} 检测的 RTT：每个时段的分布、中位数与丢包"),
    "chart.fitted": ("(drawn over the time with data only)", "（仅绘制有数据的时段）"),
    "ax.time": ("Time ({zone})", "时间（{zone}）"),
    "ax.latency": ("RTT (ms)", "RTT（毫秒）"),
    "ax.loss": ("Loss (%)", "丢包（%）"),
    "ax.availability": ("Availability (%)", "可用率（%）"),
    "ax.coverage": ("Coverage (%)", "覆盖率（%）"),
    "ax.axis_from": ("axis starts at {v} %", "纵轴起点 {v}%"),
    "leg.smoke": ("spread of the RTTs", "RTT 分布"),
    "leg.loss_none": ("median, no loss", "中位数，无丢包"),
    "leg.loss_upto": ("median, loss {lo}–{hi} %", "中位数，丢包 {lo}–{hi}%"),
    "leg.no_reply": ("no reply at all", "完全无应答"),
    "leg.availability": ("availability", "可用率"),
    "leg.coverage": ("share of the day with data", "当日有数据的比例"),
    "no_latency": ("no latency data", "无延迟数据"),
    "verdict.met": ("met", "达标"),
    "verdict.breached": ("breached", "未达标（违约）"),
    "verdict.not_enough_data": ("not enough data", "数据不足"),
    "verdict.no_uptime_term": ("no uptime term", "无可用性承诺"),
    "yes": ("yes", "是"),
    "no": ("no", "否"),
    "methods.heading": ("Methods", "测量方法"),
    "methods.probes": ("Probes", "探测"),
    "methods.kind": ("Kind", "类型"),
    "methods.interval": ("Interval", "间隔"),
    "methods.settings": ("Settings", "设置"),
    "methods.thresholds": ("Thresholds", "阈值"),
    "methods.control_targets": ("Control targets", "对照目标"),
    "methods.clock": ("Clock", "时钟"),
    "methods.open_after": ("Incident opens after", "事件判定条件"),
    "methods.open_after_v": ("{n} consecutive failed rounds", "连续 {n} 轮检测失败"),
    "methods.merge_gap": ("Incidents merged when apart by less than", "合并间隔小于此值的事件"),
    "methods.gap_rule": ("Gaps and local outages", "数据缺口与本地故障"),
    "methods.none": ("none", "无"),
    "notes.heading": ("Notes", "备注"),
    "notes.none": ("None.", "无。"),
    "no_data": ("no data", "无数据"),
    "footer": (
        "Generated {generated} \u00b7 slaproof {version} \u00b7 agent {agent}",
        "生成于 {generated} \u00b7 slaproof {version} \u00b7 代理 {agent}",
    ),
    "page": ("Page {n} of {total}", "第 {n} 页，共 {total} 页"),
    "note.no_cjk_pdf_font": (
        "no embeddable CJK font found: Chinese text in the PDF uses the non-embedded STSong-Light "
        "font (viewers substitute a local font; text extraction may not work)",
        "未找到可嵌入的中文字体：PDF 中文使用未嵌入的 STSong-Light 字体（阅读器会替换为本地字体，文本提取可能无效）",
    ),
    "note.no_series": ("no chart data for target {name}", "目标 {name} 没有图表数据"),
}

LABELS.update(REPORT_LABELS)
LABELS.update(SLA_LABELS)

DURATION_UNITS = {
    "en": ("d", "h", "min", "s"),
    "zh": ("天", "小时", "分", "秒"),
}

LABELS.update(HOST_LABELS)
LABELS.update(PROOF_LABELS)
LABELS.update(ALERT_LABELS)
LABELS.update(VANTAGE_LABELS)


def label(key: str, lang: str, **values: Any) -> str:
    """The label for ``key`` in ``lang``, with ``{placeholders}`` filled in."""
    en, zh = LABELS[key]
    text = zh if lang == "zh" else en
    return text.format(**values) if values else text


def kind_label(kind: str, lang: str) -> str:
    """An incident or band kind in words (unknown kinds print as given)."""
    key = f"kind.{kind}"
    return label(key, lang) if key in LABELS else kind


# Each verdict the SLA evaluation can reach, in words (model.Verdict; a test checks every one).
VERDICT_LABELS: dict[Verdict, str] = {
    "met": "verdict.met",
    "breached": "verdict.breached",
    "not enough data": "verdict.not_enough_data",
    "no uptime term": "verdict.no_uptime_term",
}


def verdict_label(verdict: Verdict, lang: str) -> str:
    """An SLA verdict in words of ``lang``."""
    return label(VERDICT_LABELS[verdict], lang)


def zone_abbrev(moment: datetime) -> str:
    """The zone's abbreviation at ``moment`` ("CST"), or "UTC+03:00" when it has none."""
    name = moment.tzname() or ""
    if name and name[0] not in "+-":
        return name
    offset = moment.utcoffset()
    minutes = int(offset.total_seconds() // 60) if offset is not None else 0
    sign = "+" if minutes >= 0 else "-"
    return f"UTC{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"


def fmt_time(value: str | datetime, zone: tzinfo) -> str:
    """"2026-11-03 10:00:00 CST (02:00:00 UTC)"; the UTC date is added when it differs."""
    moment = parse_time(value) if isinstance(value, str) else value.astimezone(UTC)
    local = moment.astimezone(zone)
    utc_part = moment.strftime("%H:%M:%S") if local.date() == moment.date() else moment.strftime(
        "%Y-%m-%d %H:%M:%S"
    )
    if local.utcoffset() == moment.utcoffset() and zone_abbrev(local) == "UTC":
        return f"{moment:%Y-%m-%d %H:%M:%S} UTC"
    return f"{local:%Y-%m-%d %H:%M:%S} {zone_abbrev(local)} ({utc_part} UTC)"


def fmt_duration_words(seconds: float, lang: str) -> str:
    """"2 h 03 min 05 s" / "2 小时 03 分 05 秒", rounded to the whole second (under half a second
    that is not zero: its exact seconds, never "0 s")."""
    d_u, h_u, m_u, s_u = DURATION_UNITS["zh" if lang == "zh" else "en"]
    total = round(seconds)
    if total == 0 and seconds:
        return fmt_seconds(seconds, lang)
    days, rest = divmod(total, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    parts: list[str] = []
    if days:
        parts.append(f"{days} {d_u}")
    if days or hours:
        parts.append(f"{hours:02d} {h_u}" if parts else f"{hours} {h_u}")
    if days or hours or minutes:
        parts.append(f"{minutes:02d} {m_u}" if parts else f"{minutes} {m_u}")
    parts.append(f"{secs:02d} {s_u}" if parts else f"{secs} {s_u}")
    return " ".join(parts)


def fmt_seconds(seconds: float, lang: str) -> str:
    """Exact seconds: "2830 s", "2830.5 s"."""
    unit = DURATION_UNITS["zh" if lang == "zh" else "en"][3]
    if float(seconds).is_integer():
        return f"{int(seconds)} {unit}"
    return f"{cut_short(seconds, 3)} {unit}"


def fmt_duration(seconds: float | None, lang: str) -> str:
    """"47 min 10 s (2830 s)"; words and exact seconds."""
    if seconds is None:
        return "\u2013"
    if round(abs(seconds)) < 60:
        return fmt_seconds(seconds, lang)
    return f"{fmt_duration_words(seconds, lang)} ({fmt_seconds(seconds, lang)})"


def fmt_pct(value: float | None, lang: str, places: int = 3) -> str:
    """A percentage cut to ``places`` decimals (reports/render/numbers.py: never rounded up, so never
    100 below 100; more decimals rather than a false 0); "no data" when unknown."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return label("no_data", lang)
    return f"{cut(value, places)} %"


def fmt_ms(value: float | None, places: int = 1) -> str:
    """A latency in ms, cut to one decimal (0.047 prints 0.04, never 0.0); "–" when unknown."""
    if value is None:
        return "\u2013"
    return cut(value, places)


def fmt_value(value: Any, lang: str) -> str:
    """A generic JSON value for key/value tables (settings, thresholds, SLA terms)."""
    if value is None:
        return "\u2013"
    if isinstance(value, bool):
        return label("yes" if value else "no", lang)
    if isinstance(value, float):
        return cut_significant(value)
    if isinstance(value, (list, tuple)):
        return ", ".join(fmt_value(v, lang) for v in value) or "\u2013"
    if isinstance(value, dict):
        return "; ".join(f"{k}: {fmt_value(v, lang)}" for k, v in value.items()) or "\u2013"
    return str(value)
