"""The report's content as a list of plain blocks, shared by the PDF and HTML renderers.

Building the content once keeps the two formats saying exactly the same
thing. Block texts are plain, unescaped strings ("\\n" = line break): each
renderer escapes them for its own markup. The content is read from the
report model (reports/render/model.py) and nothing else.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, tzinfo
from typing import Any

from reports.render.blocks import Block, Bullets, Document, Heading, Image, KeyValues, PageBreak, Para, Table
from reports.render.content_host import host_blocks
from reports.render.content_sla import sla_blocks
from reports.render.i18n import (
    fmt_duration,
    fmt_duration_words,
    fmt_ms,
    fmt_pct,
    fmt_seconds,
    fmt_time,
    fmt_value,
    kind_label,
    label,
)
from reports.render.inputs import ReportInputError, display_zone
from reports.render.model import (
    BandwidthSection,
    EvidenceRef,
    IncidentEntry,
    LatencyFigures,
    Methods,
    Report,
    TargetReport,
    TargetSeries,
)
from reports.render.model_json import encode

DASH = "\u2013"
EVIDENCE_TYPES = ("traceroute", "http_response", "rows")  # evidence types with a label
BANDWIDTH_FAILURES_SHOWN = 50


def _png_ratio(png: bytes) -> float:
    """Height/width from the PNG header (IHDR), without decoding the image."""
    if png[:8] != b"\x89PNG\r\n\x1a\n":
        raise ReportInputError("chart is not a PNG")
    width = int.from_bytes(png[16:20], "big")
    height = int.from_bytes(png[20:24], "big")
    return height / width if width else 0.5


def _time_cell(value: datetime, zone: tzinfo) -> str:
    """A time on two lines: display zone, then UTC in parentheses."""
    text = fmt_time(value, zone)
    local, sep, utc = text.partition(" (")
    return f"{local}\n({utc}" if sep else text


def _interval(t: TargetReport, lang: str) -> str:
    return fmt_seconds(t.interval_s, lang) if t.interval_s else DASH


def _incident_counts(target: TargetReport, lang: str) -> str:
    local = sum(1 for i in target.incidents if i.kind == "local")
    text = str(len(target.incidents) - local)
    if local:
        text += f" (+{local} {kind_label('local', lang)})"
    return text


def _latency_triplet(lat: LatencyFigures) -> str:
    values = (lat.p50, lat.p95, lat.p99)
    if all(v is None for v in values):
        return DASH
    return " / ".join(fmt_ms(v) for v in values) + " ms"


def _target_cell(target: TargetReport, lang: str) -> str:
    text = target.name
    if target.address:
        text += f"\n{target.address}"
    if target.control:
        text += f"\n[{label('control', lang)}]"
    return text


def _cover(report: Report, lang: str, zone: tzinfo) -> list[Block]:
    agent, period = report.agent, report.period
    return [
        Para(label("title", lang), "title"),
        Para(label("subtitle", lang), "subtitle"),
        Heading(label("cover.measured_by", lang), 2),
        KeyValues([
            (label("cover.agent_id", lang), agent.id),
            (label("cover.host", lang), agent.host),
            (label("cover.vantage", lang), agent.vantage or DASH),
            (label("cover.network", lang), agent.network or DASH),
            (label("cover.version", lang), f"slaproof {agent.version}"),
        ]),
        Heading(label("cover.period", lang), 2),
        KeyValues([
            (label("cover.from", lang), fmt_time(period.start, zone)),
            (label("cover.to", lang), fmt_time(period.end, zone)),
            (label("cover.timezone", lang), str(zone)),
            (label("cover.generated", lang), fmt_time(report.generated_at, zone)),
        ]),
        Heading(label("cover.targets", lang), 2),
        Table(
            [label("col.target", lang), label("target.provider", lang), label("target.interval", lang)],
            [[_target_cell(t, lang), t.provider or DASH, _interval(t, lang)] for t in report.targets],
            [0.55, 0.30, 0.15],
            frozenset({2}),
        ),
        Heading(label("cover.about", lang), 2),
        Para(label("cover.about_text", lang), "small"),
    ]


def _summary_table(report: Report, lang: str) -> list[Block]:
    rows = [
        [
            _target_cell(t, lang),
            fmt_pct(t.availability_pct, lang),
            fmt_duration(t.downtime_s, lang).replace(" (", "\n("),
            _incident_counts(t, lang),
            _latency_triplet(t.latency_ms),
            fmt_pct(t.loss_pct, lang, places=2),
            fmt_pct(t.coverage_pct, lang, places=2),
        ]
        for t in report.targets
    ]
    blocks: list[Block] = [
        Heading(label("summary.heading", lang), 1, "summary"),
        Table(
            [label(k, lang) for k in ("col.target", "col.availability", "col.downtime", "col.incidents", "col.latency", "col.loss", "col.coverage")],
            rows,
            [0.25, 0.12, 0.16, 0.10, 0.17, 0.10, 0.10],
            frozenset({1, 2, 3, 4, 5, 6}),
        ),
    ]
    if any(t.control for t in report.targets):
        blocks.append(Para(label("control_note", lang), "small"))
    return blocks


def _duration_cell(inc: IncidentEntry, lang: str) -> str:
    """Best estimate in words and seconds ("≥" when the period cut it), then the bounds."""
    prefix = "\u2265 " if inc.clipped_start or inc.clipped_end else ""
    text = f"{prefix}{fmt_duration_words(inc.duration_s, lang)}\n{prefix}{fmt_seconds(inc.duration_s, lang)}"
    lo, hi = inc.duration_min_s, inc.duration_max_s
    if hi is not None:
        text += f"\n({fmt_seconds(lo, lang)} \u2013 {fmt_seconds(hi, lang)})"
    else:
        text += f"\n(\u2265 {fmt_seconds(lo, lang)}; {label('inc.no_upper', lang)})"
    return text


def _evidence_line(e: EvidenceRef, lang: str) -> str:
    kind = label(f"evidence.{e.type}", lang) if e.type in EVIDENCE_TYPES else e.type
    return f"{kind} {e.ref}: {e.summary}".strip()


def _incident_row(inc: IncidentEntry, lang: str, zone: tzinfo) -> list[str]:
    start = _time_cell(inc.start, zone)
    if inc.clipped_start:
        start += f"\n[{label('inc.clipped_start', lang)}]"
    end = _time_cell(inc.end, zone)
    if inc.clipped_end:
        end += f"\n[{label('inc.clipped_end', lang)}]"
    errors = "\n".join(f"{k} \u00d7 {v}" for k, v in inc.error_classes.items()) or DASH
    evidence = "\n".join(_evidence_line(e, lang) for e in inc.evidence) or DASH
    return [inc.id, kind_label(inc.kind, lang), start, end, _duration_cell(inc, lang), errors, evidence]


def _incidents(t: TargetReport, lang: str, zone: tzinfo) -> list[Block]:
    blocks: list[Block] = [Heading(label("incidents.heading", lang), 2)]
    if not t.incidents:
        return [*blocks, Para(label("incidents.none", lang), "small")]
    blocks.append(
        Table(
            [label(k, lang) for k in ("inc.id", "inc.kind", "inc.start", "inc.end", "inc.duration", "inc.errors", "inc.evidence")],
            [_incident_row(inc, lang, zone) for inc in t.incidents],
            [0.07, 0.09, 0.16, 0.16, 0.15, 0.13, 0.24],
            frozenset(),
        )
    )
    return blocks


def _target_facts(t: TargetReport, lang: str) -> KeyValues:
    lat = t.latency_ms
    detail = DASH
    if lat.mean is not None:
        detail = f"{fmt_ms(lat.mean)} / {fmt_ms(lat.min)} / {fmt_ms(lat.max)} ms ({lat.count})"
    rows = [
        (label("target.address", lang), t.address or DASH),
        (label("target.provider", lang), t.provider or DASH),
        (label("target.interval", lang), _interval(t, lang)),
        (label("col.availability", lang), fmt_pct(t.availability_pct, lang)),
        (label("col.downtime", lang), fmt_duration(t.downtime_s, lang)),
        (label("target.partial", lang), fmt_duration(t.partial_s, lang)),
        (label("target.degraded", lang), fmt_duration(t.degraded_s, lang)),
        (label("target.local", lang), fmt_duration(t.local_s, lang)),
        (label("target.no_data", lang), fmt_duration(t.no_data_s, lang)),
        (label("col.coverage", lang), fmt_pct(t.coverage_pct, lang, places=2)),
        (label("col.latency", lang), _latency_triplet(lat)),
        (label("target.latency_detail", lang), detail),
        (label("col.loss", lang), fmt_pct(t.loss_pct, lang, places=2)),
        (label("target.rows", lang), str(t.rows)),
    ]
    if t.control:
        rows.insert(0, (label("target.control", lang), label("control_note", lang)))
    return KeyValues(rows)


def _mbps(v: float | None) -> str:
    return DASH if v is None else f"{float(v):,.1f}"


def _bandwidth(bw: BandwidthSection | None, lang: str, zone: tzinfo) -> list[Block]:
    if bw is None:
        return []
    blocks: list[Block] = [Heading(label("bw.heading", lang), 2),
                           Para(label("bw.counts", lang, tests=bw.tests, ok=bw.ok, failed=bw.failed, skipped=bw.skipped,
                                      apart=bw.local + bw.agent_side), "small")]
    rows = [
        [label(f"bw.{direction}", lang) if direction in ("download", "upload") else direction, str(st.count)]
        + [_mbps(v) for v in (st.mean_mbps, st.min_mbps, st.p10_mbps, st.p50_mbps, st.p90_mbps, st.max_mbps)]
        for direction, st in bw.by_direction.items()
    ]
    if rows:
        blocks.append(Table([label(k, lang) for k in ("bw.direction", "bw.count", "bw.mean", "bw.min", "bw.p10", "bw.p50", "bw.p90", "bw.max")],
                            rows, [0.16, 0.1, 0.13, 0.12, 0.12, 0.12, 0.12, 0.13], frozenset(range(1, 8))))
    failed = [x for x in bw.listed if x.counted_as == "failed"]
    if failed:
        blocks.append(Heading(label("bw.failures", lang), 2))
        blocks.append(Table([label(k, lang) for k in ("bw.time", "bw.direction", "bw.error")],
                            [[_time_cell(x.ts, zone), x.direction, x.error_class or ""] for x in failed[:BANDWIDTH_FAILURES_SHOWN]],
                            [0.45, 0.2, 0.35], frozenset()))
    return blocks


def _charts(name: str, charts: Mapping[str, Mapping[str, bytes]], lang: str) -> list[Block]:
    blocks: list[Block] = [Heading(label("charts.heading", lang), 2)]
    mine = charts.get(name)
    if not mine:
        blocks.append(Para(label("charts.none", lang), "small"))
        return blocks
    for chart_name in ("latency", "daily", "histogram", "host"):
        png = mine.get(chart_name)
        if png:
            caption = label(f"chart.{chart_name}", lang)
            blocks.append(Image(png, caption, f"{name}: {caption}", _png_ratio(png)))
    return blocks


def _probe_table(m: Methods, lang: str) -> list[Block]:
    if not m.probes:
        return []
    return [
        Heading(label("methods.probes", lang), 2),
        Table(
            [label("col.target", lang), label("methods.kind", lang), label("methods.interval", lang), label("methods.settings", lang)],
            [[p.target, p.kind, fmt_seconds(p.interval_s, lang), fmt_value(dict(p.settings), lang)] for p in m.probes],
            [0.32, 0.10, 0.12, 0.46],
            frozenset({2}),
        ),
    ]


def _method_rows(m: Methods, lang: str) -> list[tuple[str, str]]:
    none = label("methods.none", lang)
    rows = [
        (label("methods.thresholds", lang), fmt_value(encode(m.thresholds), lang) if m.thresholds else none),
        (label("methods.control_targets", lang), ", ".join(m.control_targets) or none),
        (label("methods.clock", lang), m.clock or DASH),
        (label("methods.open_after", lang), label("methods.open_after_v", lang, n=m.open_after)),
    ]
    if m.merge_gap_s is not None:
        rows.append((label("methods.merge_gap", lang), fmt_duration(m.merge_gap_s, lang)))
    if m.gap_rule:
        rows.append((label("methods.gap_rule", lang), m.gap_rule))
    return rows


def _methods(m: Methods, lang: str) -> list[Block]:
    text = (m.text_zh if lang == "zh" else m.text_en) or m.text_en or m.text_zh
    blocks: list[Block] = [PageBreak(), Heading(label("methods.heading", lang), 1, "methods")]
    blocks.extend(Para(p.strip()) for p in text.split("\n\n") if p.strip())
    return [*blocks, *_probe_table(m, lang), KeyValues(_method_rows(m, lang))]


def _target_page(i: int, t: TargetReport, charts: Mapping[str, Mapping[str, bytes]], lang: str, zone: tzinfo) -> list[Block]:
    blocks: list[Block] = [
        PageBreak(),
        Heading(label("target.heading", lang, name=t.name), 1, f"target-{i + 1}"),
        _target_facts(t, lang),
        *_incidents(t, lang, zone),
        *_bandwidth(t.bandwidth, lang, zone),
    ]
    if t.sla is not None:
        blocks += sla_blocks(t.sla, lang, zone)
    blocks += host_blocks(t.host, lang, zone)
    return blocks + _charts(t.name, charts, lang)


def build_document(
    report: Report,
    charts: Mapping[str, Mapping[str, bytes]],
    lang: str,
    render_notes: Sequence[str] = (),
) -> Document:
    """Everything the report says, in order, for one language."""
    zone = display_zone(report)
    blocks: list[Block] = _cover(report, lang, zone)
    blocks += _summary_table(report, lang)
    for i, t in enumerate(report.targets):
        blocks += _target_page(i, t, charts, lang, zone)
    blocks += _methods(report.methods, lang)
    notes = [*report.notes, *render_notes]
    blocks.append(Heading(label("notes.heading", lang), 1, "notes"))
    blocks.append(Bullets(notes) if notes else Para(label("notes.none", lang)))
    footer = label("footer", lang, generated=fmt_time(report.generated_at, zone), version=report.agent.version,
                   agent=report.agent.id)
    return Document(label("title", lang), lang, blocks, footer, list(render_notes))


def font_notes(
    report: Report,
    series: Mapping[str, TargetSeries],
    lang: str,
    *,
    has_cjk_chart_font: bool,
    cid_fallback: bool = False,
) -> list[tuple[str, dict[str, Any]]]:
    """What the renderer could not do as asked, as (label key, values) pairs.

    The caller localises them twice: English for the returned list (stable
    for logs and tests), the report language for the Notes section.
    """
    notes: list[tuple[str, dict[str, Any]]] = []
    if lang == "zh" and not has_cjk_chart_font:
        notes.append(("note.no_cjk_font", {}))
    if cid_fallback:
        notes.append(("note.no_cjk_pdf_font", {}))
    for t in report.targets:
        if t.name not in series:
            notes.append(("note.no_series", {"name": t.name}))
    return notes
