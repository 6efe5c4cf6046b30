"""The methods section: how every figure was obtained, each check's settings and the incident rules in
words of the report's language (no configuration key is printed; summary.json keeps them)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from reports.render.blocks import Block, Heading, KeyValues, PageBreak, Para, Table
from reports.render.content_terms import secs_words
from reports.render.i18n import fmt_duration, fmt_seconds, label
from reports.render.methods_text import clock_words, gap_rule_words
from reports.render.model import Methods, Thresholds


def _secs(v: Any, lang: str) -> str:
    return fmt_seconds(float(v), lang) if isinstance(v, (int, float)) else str(v)


def settings_text(kind: str, s: Mapping[str, Any], lang: str) -> str:
    """A check's settings in words; settings this function does not know are left to summary.json."""
    known: dict[str, str] = {}
    if kind == "icmp":
        known = {"count": label("set.icmp_count", lang, n=s.get("count")),
                 "spacing_s": label("set.spacing", lang, d=_secs(s.get("spacing_s"), lang)),
                 "timeout_s": label("set.timeout_each", lang, d=_secs(s.get("timeout_s"), lang)),
                 "payload_size": label("set.payload", lang, n=s.get("payload_size"))}
    elif kind == "tcp":
        known = {"port": label("set.port", lang, n=s.get("port")), "timeout_s": label("set.timeout", lang, d=_secs(s.get("timeout_s"), lang))}
    elif kind == "http":
        raw = s.get("expect_status") or []
        status = raw if isinstance(raw, list) else [raw]
        known = {"method": label("set.request", lang, method=s.get("method") or "GET", url=s.get("url") or ""),
                 "url": "",
                 "expect_status": label("set.status", lang, codes=", ".join(map(str, status)) or "200\u2013399"),
                 "keyword": label("set.keyword", lang, kw=s["keyword"]) if s.get("keyword") else "",
                 "timeout_s": label("set.timeout", lang, d=_secs(s.get("timeout_s"), lang)),
                 "verify_tls": label("set.tls_on" if s.get("verify_tls", True) else "set.tls_off", lang)}
    elif kind == "bandwidth":
        known = {"mode": label(f"set.bw_{s.get('mode')}", lang) if s.get("mode") in ("http_download", "http_upload", "iperf3") else "",
                 "url": f"\u201c{s['url']}\u201d" if s.get("url") else "",
                 "host": f"{s['host']}:{s.get('port')}" if s.get("host") else "", "port": "",
                 "direction": label(f"bw.{s.get('direction')}", lang) if s.get("direction") in ("download", "upload") else "",
                 "streams": label("set.streams", lang, n=s.get("streams")),
                 "max_seconds": label("set.max_seconds", lang, d=_secs(s.get("max_seconds"), lang)),
                 "interval_s": label("set.every", lang, d=secs_words(float(s.get("interval_s") or 0), lang))}
    parts = [v for k, v in known.items() if v and k in s]
    if any(k not in known for k in s):
        parts.append(label("set.more", lang))
    return "; ".join(parts) or "\u2013"


def thresholds_text(name: str, th: Thresholds, lang: str) -> str:
    parts = []
    if th.rtt_ms_max is not None:
        parts.append(label("th.rtt", lang, v=f"{th.rtt_ms_max:g}"))
    if th.loss_pct_max is not None:
        parts.append(label("th.loss", lang, v=f"{th.loss_pct_max:g}"))
    return label("th.line", lang, name=name, what=label("th.or", lang).join(parts), d=secs_words(th.sustain_s, lang))


def _rows(m: Methods, lang: str) -> list[tuple[str, str]]:
    none = label("methods.none", lang)
    rows = [
        (label("methods.thresholds", lang), "\n".join(thresholds_text(n, th, lang) for n, th in m.thresholds.items()) or none),
        (label("methods.control_targets", lang), ", ".join(m.control_targets) or none),
        (label("methods.clock", lang), clock_words(m.clock, lang) if m.clock else "\u2013"),
        (label("methods.open_after", lang), label("methods.open_after_v", lang, n=m.open_after)),
    ]
    if m.merge_gap_s is not None:
        rows.append((label("methods.merge_gap", lang), fmt_duration(m.merge_gap_s, lang)))
    if m.gap_rule:
        rows.append((label("methods.gap_rule", lang), gap_rule_words(m.gap_rule, lang)))
    return rows


def methods_blocks(m: Methods, lang: str) -> list[Block]:
    text = (m.text_zh if lang == "zh" else m.text_en) or m.text_en or m.text_zh
    blocks: list[Block] = [PageBreak(), Heading(label("methods.heading", lang), 1, "methods")]
    blocks.extend(Para(p.strip()) for p in text.split("\n\n") if p.strip())
    if m.probes:
        blocks += [Heading(label("methods.probes", lang), 2),
                   Table([label(k, lang) for k in ("col.target", "methods.kind", "methods.interval", "methods.settings")],
                         [[p.target, p.kind.upper(), fmt_seconds(p.interval_s, lang), settings_text(p.kind, p.settings, lang)]
                          for p in m.probes], [0.26, 0.1, 0.12, 0.52], frozenset({2}))]
    return [*blocks, KeyValues(_rows(m, lang))]


_NOTES = [(re.compile(a), b, c) for a, b, c in (
    (r"^(.+): (\d+) s of the period has no data \(agent not running or rounds missing\); that time is neither up nor down\.$",
     None, "{1}：统计时段中有 {2} 秒没有数据（代理未运行或轮次缺失）；这段时间既不算正常也不算中断。"),
    (r"^(\d+) agent run\(s\) in the period ended without a clean stop \(crash, kill or power loss\); their time after the last "
     r"heartbeat is counted as no data\.$",
     None, "统计时段内有 {1} 次代理运行未正常停止（崩溃、被终止或断电）；其最后一次心跳之后的时间计为无数据。"),
)]


def note_words(text: str, lang: str) -> str:
    """A note of the report (summary.json ``notes``, written in English) in the report's language."""
    if lang != "zh":
        return text
    for pattern, _, zh in _NOTES:
        m = pattern.match(text)
        if m:
            for i, g in enumerate(m.groups(), 1):
                zh = zh.replace(f"{{{i}}}", g)
            return zh
    return f"（英文原文）\u201c{text}\u201d"
