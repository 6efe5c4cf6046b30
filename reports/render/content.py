"""The report's content as a list of plain blocks, shared by the PDF and HTML renderers.

Building the content once keeps the two formats saying exactly the same
thing. Block texts are plain, unescaped strings ("\\n" = line break): each
renderer escapes them for its own markup.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from reports.render.i18n import (
    LABELS,
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
from reports.render.inputs import ReportInputError, display_zone, parse_time


@dataclass(frozen=True, slots=True)
class Heading:
    text: str
    level: int  # 1 section, 2 subsection
    anchor: str = ""


@dataclass(frozen=True, slots=True)
class Para:
    text: str
    style: str = "body"  # "title", "subtitle", "body", "small", "caption"


@dataclass(frozen=True, slots=True)
class KeyValues:
    rows: list[tuple[str, str]]


@dataclass(frozen=True, slots=True)
class Table:
    header: list[str]
    rows: list[list[str]]
    widths: list[float]  # fractions of the text width
    right: frozenset[int] = frozenset()  # columns aligned right (figures)


@dataclass(frozen=True, slots=True)
class Image:
    png: bytes
    caption: str
    alt: str
    height_ratio: float  # height / width, to size it in the PDF


@dataclass(frozen=True, slots=True)
class Bullets:
    items: list[str]


@dataclass(frozen=True, slots=True)
class PageBreak:
    pass


Block = Heading | Para | KeyValues | Table | Image | Bullets | PageBreak


@dataclass(frozen=True, slots=True)
class Document:
    title: str
    lang: str
    blocks: list[Block]
    footer: str  # printed on every PDF page, at the end of the HTML
    notes: list[str] = field(default_factory=list)


VERDICTS = {
    "met": ("met", "达标"),
    "breached": ("breached", "未达标（违约）"),
    "unknown": ("cannot be determined", "无法判断"),
    "insufficient_data": ("insufficient data", "数据不足"),
}


def _png_ratio(png: bytes) -> float:
    """Height/width from the PNG header (IHDR), without decoding the image."""
    if png[:8] != b"\x89PNG\r\n\x1a\n":
        raise ReportInputError("chart is not a PNG")
    width = int.from_bytes(png[16:20], "big")
    height = int.from_bytes(png[20:24], "big")
    return height / width if width else 0.5


def _time_cell(value: str, zone: Any) -> str:
    """A time on two lines: display zone, then UTC in parentheses."""
    text = fmt_time(value, zone)
    local, sep, utc = text.partition(" (")
    return f"{local}\n({utc}" if sep else text


def _incident_counts(target: Mapping[str, Any], lang: str) -> str:
    incidents = target.get("incidents", [])
    local = sum(1 for i in incidents if i.get("kind") == "local")
    text = str(len(incidents) - local)
    if local:
        text += f" (+{local} {kind_label('local', lang)})"
    return text


def _latency_triplet(lat: Mapping[str, Any]) -> str:
    values = [lat.get(k) for k in ("p50", "p95", "p99")]
    if all(v is None for v in values):
        return "\u2013"
    return " / ".join(fmt_ms(v) for v in values) + " ms"


def _target_cell(target: Mapping[str, Any], lang: str) -> str:
    text = str(target["name"])
    if target.get("address"):
        text += f"\n{target['address']}"
    if target.get("control"):
        text += f"\n[{label('control', lang)}]"
    return text


def _cover(summary: Mapping[str, Any], lang: str, zone: Any) -> list[Block]:
    agent = summary["agent"]
    period = summary["period"]
    blocks: list[Block] = [
        Para(label("title", lang), "title"),
        Para(label("subtitle", lang), "subtitle"),
        Heading(label("cover.measured_by", lang), 2),
        KeyValues([
            (label("cover.agent_id", lang), str(agent.get("id", "\u2013"))),
            (label("cover.host", lang), str(agent.get("host", "\u2013"))),
            (label("cover.vantage", lang), str(agent.get("vantage") or "\u2013")),
            (label("cover.network", lang), str(agent.get("network") or "\u2013")),
            (label("cover.version", lang), f"slaproof {agent.get('version', '?')}"),
        ]),
        Heading(label("cover.period", lang), 2),
        KeyValues([
            (label("cover.from", lang), fmt_time(period["from"], zone)),
            (label("cover.to", lang), fmt_time(period["to"], zone)),
            (label("cover.timezone", lang), str(zone)),
            (label("cover.generated", lang), fmt_time(summary["generated_at"], zone)),
        ]),
        Heading(label("cover.targets", lang), 2),
        Table(
            [label("col.target", lang), label("target.provider", lang), label("target.interval", lang)],
            [
                [_target_cell(t, lang), str(t.get("provider") or "\u2013"), fmt_seconds(t["interval_s"], lang) if t.get("interval_s") else "\u2013"]
                for t in summary["targets"]
            ],
            [0.55, 0.30, 0.15],
            frozenset({2}),
        ),
        Heading(label("cover.about", lang), 2),
        Para(label("cover.about_text", lang), "small"),
    ]
    return blocks


def _summary_table(summary: Mapping[str, Any], lang: str) -> list[Block]:
    rows = []
    for t in summary["targets"]:
        rows.append([
            _target_cell(t, lang),
            fmt_pct(t.get("availability_pct"), lang),
            fmt_duration(t.get("downtime_s"), lang).replace(" (", "\n("),
            _incident_counts(t, lang),
            _latency_triplet(t.get("latency_ms") or {}),
            fmt_pct(t.get("loss_pct"), lang, places=2),
            fmt_pct(t.get("coverage_pct"), lang, places=2),
        ])
    blocks: list[Block] = [
        Heading(label("summary.heading", lang), 1, "summary"),
        Table(
            [label(k, lang) for k in ("col.target", "col.availability", "col.downtime", "col.incidents", "col.latency", "col.loss", "col.coverage")],
            rows,
            [0.25, 0.12, 0.16, 0.10, 0.17, 0.10, 0.10],
            frozenset({1, 2, 3, 4, 5, 6}),
        ),
    ]
    if any(t.get("control") for t in summary["targets"]):
        blocks.append(Para(label("control_note", lang), "small"))
    return blocks


def _duration_cell(inc: Mapping[str, Any], lang: str) -> str:
    dur = inc.get("duration_s")
    if dur is None:
        return "\u2013"
    open_ended = inc.get("clipped_start") or inc.get("clipped_end") or inc.get("end") is None
    prefix = "\u2265 " if open_ended else ""
    text = f"{prefix}{fmt_duration_words(dur, lang)}\n{prefix}{fmt_seconds(dur, lang)}"
    lo, hi = inc.get("duration_min_s"), inc.get("duration_max_s")
    if lo is not None and hi is not None:
        text += f"\n({fmt_seconds(lo, lang)} \u2013 {fmt_seconds(hi, lang)})"
    elif lo is not None:
        text += f"\n(\u2265 {fmt_seconds(lo, lang)}; {label('inc.no_upper', lang)})"
    return text


def _incident_rows(target: Mapping[str, Any], lang: str, zone: Any) -> list[list[str]]:
    rows = []
    for inc in target["incidents"]:
        start = _time_cell(inc["start"], zone)
        if inc.get("clipped_start"):
            start += f"\n[{label('inc.clipped_start', lang)}]"
        if inc.get("end") is None:
            end = f"[{label('inc.ongoing', lang)}]"
        else:
            end = _time_cell(inc["end"], zone)
        if inc.get("clipped_end") and inc.get("end") is not None:
            end += f"\n[{label('inc.clipped_end', lang)}]"
        errors = "\n".join(f"{k} \u00d7 {v}" for k, v in (inc.get("error_classes") or {}).items()) or "\u2013"
        evidence = "\n".join(
            f"{label('evidence.' + e.get('type', ''), lang) if 'evidence.' + e.get('type', '') in _EVIDENCE_KEYS else e.get('type', '')} "
            f"{e.get('ref', '')}: {e.get('summary', '')}".strip()
            for e in inc.get("evidence") or []
        ) or "\u2013"
        rows.append([str(inc["id"]), kind_label(str(inc["kind"]), lang), start, end, _duration_cell(inc, lang), errors, evidence])
    return rows


_EVIDENCE_KEYS = {"evidence.traceroute", "evidence.http_response", "evidence.rows"}


def _target_facts(t: Mapping[str, Any], lang: str) -> KeyValues:
    lat = t.get("latency_ms") or {}
    detail = "\u2013"
    if lat.get("mean") is not None:
        detail = f"{fmt_ms(lat.get('mean'))} / {fmt_ms(lat.get('min'))} / {fmt_ms(lat.get('max'))} ms ({lat.get('count', 0)})"
    rows = [
        (label("target.address", lang), str(t.get("address") or "\u2013")),
        (label("target.provider", lang), str(t.get("provider") or "\u2013")),
        (label("target.interval", lang), fmt_seconds(t["interval_s"], lang) if t.get("interval_s") else "\u2013"),
        (label("col.availability", lang), fmt_pct(t.get("availability_pct"), lang)),
        (label("col.downtime", lang), fmt_duration(t.get("downtime_s"), lang)),
        (label("target.partial", lang), fmt_duration(t.get("partial_s"), lang)),
        (label("target.degraded", lang), fmt_duration(t.get("degraded_s"), lang)),
        (label("target.local", lang), fmt_duration(t.get("local_s"), lang)),
        (label("target.no_data", lang), fmt_duration(t.get("no_data_s"), lang)),
        (label("col.coverage", lang), fmt_pct(t.get("coverage_pct"), lang, places=2)),
        (label("col.latency", lang), _latency_triplet(lat)),
        (label("target.latency_detail", lang), detail),
        (label("col.loss", lang), fmt_pct(t.get("loss_pct"), lang, places=2)),
        (label("target.rows", lang), str(t.get("rows", "\u2013"))),
    ]
    if t.get("control"):
        rows.insert(0, (label("target.control", lang), label("control_note", lang)))
    return KeyValues(rows)


# Printed first, in this order; every other key follows in the order given.
_SLA_FIELDS = (
    "target",
    "preset",
    "sla_id",
    "provider",
    "product",
    "terms_date",
    "terms_date_note",
    "sources",
    "period_start",
    "period_end",
    "period_complete",
    "uptime_target_pct",
    "uptime_provider_pct",
    "uptime_measured_pct",
    "coverage_pct",
    "counted_downtime_s",
    "excluded_downtime_s",
    "verdict",
    "verdict_basis",
    "credit_pct",
    "credit_amount",
    "claim_deadline",
)
_SLA_TABLE_ORDER = ("terms", "outages", "credit_per_outage", "fields")
_TERM_COLUMNS = ("metric", "statistic", "comparator", "threshold", "measured", "met", "samples", "confidence")


def _looks_like_time(value: str) -> bool:
    return len(value) >= 19 and value[4:5] == "-" and value[10:11] == "T"


def _terms_date(value: str, lang: str) -> str:
    """The terms' date, or "unconfirmed" in the report's language."""
    from reports.render.sla_text import LABELS as SLA_WORDS
    from reports.render.sla_text import terms_date_text

    return terms_date_text(value, "", SLA_WORDS["zh" if lang == "zh" else "en"])


def _sla_value(key: str, value: Any, lang: str, zone: Any) -> str:
    from reports.render.sla_text import evaluation_sentence

    if value is None:
        return "\u2013"
    if key == "terms_date":
        return _terms_date(str(value), lang)
    if key == "verdict_basis" and isinstance(value, str):
        return evaluation_sentence(value, lang)
    if key == "warnings" and isinstance(value, list) and all(isinstance(v, str) for v in value):
        value = [evaluation_sentence(v, lang) for v in value]
    if key == "verdict" and str(value) in VERDICTS:
        en, zh = VERDICTS[str(value)]
        return zh if lang == "zh" else en
    if key.endswith("_pct") and isinstance(value, (int, float)) and not isinstance(value, bool):
        return fmt_pct(float(value), lang)
    if key.endswith("_s") and isinstance(value, (int, float)) and not isinstance(value, bool):
        return fmt_duration(float(value), lang)
    if isinstance(value, str) and _looks_like_time(value):
        try:
            return fmt_time(parse_time(value), zone)
        except ReportInputError:
            return value
    if isinstance(value, list) and value and all(isinstance(v, str) and _looks_like_time(v) for v in value):
        return "\n".join(_sla_value(key, v, lang, zone) for v in value)
    return fmt_value(value, lang)


def _sla_key(key: str, lang: str) -> str:
    return label(f"sla.{key}", lang) if f"sla.{key}" in LABELS else key


def _dict_table(key: str, items: list[Mapping[str, Any]], lang: str, zone: Any, unconfirmed: set[str]) -> Table:
    """A list of objects as a table: columns are the union of their keys.

    "x_utc" columns are left out when "x" exists: the time cell already shows UTC.
    """
    columns: list[str] = []
    for item in items:
        for k in item:
            if k not in columns:
                columns.append(k)
    if key == "terms":
        columns = [c for c in _TERM_COLUMNS if c in columns] + [c for c in columns if c not in _TERM_COLUMNS]
    columns = [c for c in columns if not (c.endswith("_utc") and c[:-4] in columns)]
    mark = f" [{label('sla.unconfirmed', lang)}]"
    met_text = {True: label("yes", lang), False: label("no", lang)}
    rows = []
    for item in items:
        row = []
        for c in columns:
            v = item.get(c)
            if c == "met" and (v is None or isinstance(v, bool)):
                cell = met_text.get(v, "\u2013") if v is not None else "\u2013"
            elif c == "measured" and v is None:
                cell = label("no_data", lang)
            elif isinstance(v, list) and v and all(isinstance(x, Mapping) for x in v):
                cell = f"{len(v)} \u00d7"  # nested detail stays in summary.json
            else:
                cell = _sla_value(c, v, lang, zone)
            if c in ("metric", "path") and str(v) in unconfirmed:
                cell += mark
            row.append(cell)
        rows.append(row)
    header = [_sla_key(c, lang) for c in columns]
    widths = []
    for i, h in enumerate(header):
        longest_word = max((len(w) for w in h.split()), default=1)
        longest_line = max((len(line) for r in rows for line in r[i].split("\n")), default=1)
        widths.append(float(max(min(longest_word, 16), min(longest_line, 28)) + 2))
    return Table(header, rows, widths, frozenset())


def _sla(t: Mapping[str, Any], lang: str, zone: Any) -> list[Block]:
    """The SLA evaluation, printed in full: nothing in it is left out."""
    sla = t.get("sla")
    if not sla:
        return []
    unconfirmed_list = [str(u) for u in (sla.get("unconfirmed") or sla.get("unconfirmed_fields") or [])]
    unconfirmed = set(unconfirmed_list)
    mark = f" [{label('sla.unconfirmed', lang)}]"
    skip = {"unconfirmed", "unconfirmed_fields"}

    def is_table(v: Any) -> bool:
        return isinstance(v, list) and bool(v) and all(isinstance(x, Mapping) for x in v)

    keys = [k for k in _SLA_FIELDS if k in sla] + [k for k in sla if k not in _SLA_FIELDS]
    rows = []
    for k in keys:
        if k in skip or is_table(sla[k]):
            continue
        value = _sla_value(k, sla[k], lang, zone)
        if k in ("credit_amount", "monthly_fee", "clock_hour_amount") and sla[k] is not None and sla.get("currency"):
            value += f" {sla['currency']}"
        rows.append((_sla_key(k, lang), value + (mark if k in unconfirmed else "")))
    blocks: list[Block] = [Heading(label("sla.heading", lang), 2), KeyValues(rows)]
    tables = [k for k in _SLA_TABLE_ORDER if is_table(sla.get(k))] + [
        k for k in sla if is_table(sla[k]) and k not in _SLA_TABLE_ORDER
    ]
    for k in tables:
        blocks.append(Para(_sla_key(k, lang), "small"))
        blocks.append(_dict_table(k, list(sla[k]), lang, zone, unconfirmed))
    if unconfirmed_list:
        blocks.append(Para(label("sla.unconfirmed_note", lang, fields=", ".join(unconfirmed_list)), "small"))
    return blocks


def _mbps(v: Any) -> str:
    return "\u2013" if v is None else f"{float(v):,.1f}"


def _bandwidth(t: Mapping[str, Any], lang: str, zone: Any) -> list[Block]:
    bw = t.get("bandwidth")
    if not bw:
        return []
    blocks: list[Block] = [Heading(label("bw.heading", lang), 2),
                           Para(label("bw.counts", lang, tests=bw.get("tests", 0), ok=bw.get("ok", 0),
                                      failed=bw.get("failed", 0), skipped=bw.get("skipped", 0),
                                      apart=bw.get("local", 0) + bw.get("agent_side", 0)), "small")]
    rows = []
    for direction, st in (bw.get("by_direction") or {}).items():
        name = label(f"bw.{direction}", lang) if direction in ("download", "upload") else str(direction)
        rows.append([name, str(st.get("count", 0))] + [_mbps(st.get(k)) for k in
                                                       ("mean_mbps", "min_mbps", "p10_mbps", "p50_mbps", "p90_mbps", "max_mbps")])
    if rows:
        blocks.append(Table([label(k, lang) for k in ("bw.direction", "bw.count", "bw.mean", "bw.min", "bw.p10", "bw.p50", "bw.p90", "bw.max")],
                            rows, [0.16, 0.1, 0.13, 0.12, 0.12, 0.12, 0.12, 0.13], frozenset(range(1, 8))))
    failed = [x for x in bw.get("listed") or [] if x.get("counted_as", "failed" if not x.get("ok") else "ok") == "failed"]
    if failed:
        blocks.append(Heading(label("bw.failures", lang), 2))
        blocks.append(Table([label(k, lang) for k in ("bw.time", "bw.direction", "bw.error")],
                            [[_time_cell(x["ts"], zone), str(x.get("direction", "")), str(x.get("error_class") or "")]
                             for x in failed[:50]],
                            [0.45, 0.2, 0.35], frozenset()))
    return blocks


def _charts(name: str, charts: Mapping[str, Mapping[str, bytes]], lang: str) -> list[Block]:
    blocks: list[Block] = [Heading(label("charts.heading", lang), 2)]
    mine = charts.get(name)
    if not mine:
        blocks.append(Para(label("charts.none", lang), "small"))
        return blocks
    for chart_name in ("latency", "daily", "histogram"):
        png = mine.get(chart_name)
        if png:
            caption = label(f"chart.{chart_name}", lang)
            blocks.append(Image(png, caption, f"{name}: {caption}", _png_ratio(png)))
    return blocks


def _methods(summary: Mapping[str, Any], lang: str) -> list[Block]:
    m = summary["methods"]
    text = m.get("text_zh") if lang == "zh" else m.get("text_en")
    text = text or m.get("text_en") or m.get("text_zh") or ""
    blocks: list[Block] = [PageBreak(), Heading(label("methods.heading", lang), 1, "methods")]
    if text:
        blocks.extend(Para(p.strip()) for p in text.split("\n\n") if p.strip())
    probes = m.get("probes") or []
    if probes:
        blocks.append(Heading(label("methods.probes", lang), 2))
        blocks.append(
            Table(
                [label("col.target", lang), label("methods.kind", lang), label("methods.interval", lang), label("methods.settings", lang)],
                [
                    [str(p.get("target", "")), str(p.get("kind", "")), fmt_seconds(p["interval_s"], lang) if p.get("interval_s") is not None else "\u2013", fmt_value(p.get("settings") or {}, lang)]
                    for p in probes
                ],
                [0.32, 0.10, 0.12, 0.46],
                frozenset({2}),
            )
        )
    none = label("methods.none", lang)
    rows = [
        (label("methods.thresholds", lang), fmt_value(m.get("thresholds") or {}, lang) if m.get("thresholds") else none),
        (label("methods.control_targets", lang), ", ".join(str(c) for c in m.get("control_targets") or []) or none),
        (label("methods.clock", lang), str(m.get("clock") or "\u2013")),
    ]
    if m.get("open_after") is not None:
        rows.append((label("methods.open_after", lang), label("methods.open_after_v", lang, n=m["open_after"])))
    if m.get("merge_gap_s") is not None:
        rows.append((label("methods.merge_gap", lang), fmt_duration(m["merge_gap_s"], lang)))
    if m.get("gap_rule"):
        rows.append((label("methods.gap_rule", lang), str(m["gap_rule"])))
    known = {"probes", "thresholds", "control_targets", "clock", "open_after", "merge_gap_s", "gap_rule", "text_en", "text_zh"}
    rows.extend((k, fmt_value(v, lang)) for k, v in m.items() if k not in known)
    blocks.append(KeyValues(rows))
    return blocks


def build_document(
    summary: Mapping[str, Any],
    charts: Mapping[str, Mapping[str, bytes]],
    lang: str,
    render_notes: Sequence[str] = (),
) -> Document:
    """Everything the report says, in order, for one language."""
    zone = display_zone(summary)
    blocks: list[Block] = _cover(summary, lang, zone)
    blocks += _summary_table(summary, lang)
    for i, t in enumerate(summary["targets"]):
        blocks.append(PageBreak())
        blocks.append(Heading(label("target.heading", lang, name=t["name"]), 1, f"target-{i + 1}"))
        blocks.append(_target_facts(t, lang))
        blocks.append(Heading(label("incidents.heading", lang), 2))
        if t["incidents"]:
            blocks.append(
                Table(
                    [label(k, lang) for k in ("inc.id", "inc.kind", "inc.start", "inc.end", "inc.duration", "inc.errors", "inc.evidence")],
                    _incident_rows(t, lang, zone),
                    [0.07, 0.09, 0.16, 0.16, 0.15, 0.13, 0.24],
                    frozenset(),
                )
            )
        else:
            blocks.append(Para(label("incidents.none", lang), "small"))
        blocks += _bandwidth(t, lang, zone)
        blocks += _sla(t, lang, zone)
        blocks += _charts(t["name"], charts, lang)
    blocks += _methods(summary, lang)
    notes = [str(n) for n in summary.get("notes") or []] + list(render_notes)
    blocks.append(Heading(label("notes.heading", lang), 1, "notes"))
    blocks.append(Bullets(notes) if notes else Para(label("notes.none", lang)))
    agent = summary["agent"]
    footer = label(
        "footer",
        lang,
        generated=fmt_time(summary["generated_at"], zone),
        version=agent.get("version", "?"),
        agent=agent.get("id", "?"),
    )
    return Document(label("title", lang), lang, blocks, footer, list(render_notes))


def font_notes(
    summary: Mapping[str, Any],
    series: Mapping[str, Any],
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
    for t in summary["targets"]:
        if t["name"] not in series:
            notes.append(("note.no_series", {"name": t["name"]}))
    return notes
