"""The report's content as a list of plain blocks, shared by the PDF and HTML renderers.

Building the content once keeps the two formats saying exactly the same thing in the same order:
page 1 is the claim (content_claim.py); then the contents, what the report is, the summary, one
section per target (figures, charts, incidents, incident cards, bandwidth, the SLA in words), the
methods, the appendix "Terms as applied" and the notes. Block texts are plain, unescaped strings
("\\n" = line break); each renderer escapes them for its own markup. The content is read from the
report model (reports/render/model.py) and nothing else.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import tzinfo
from typing import Any

from reports.render.blocks import Block, Bullets, Chart, Contents, Document, Group, Heading, KeyValues, PageBreak, Para, Table
from reports.render.content_alerts import alert_blocks
from reports.render.content_cards import errors_text, incident_cards
from reports.render.content_claim import claim_page
from reports.render.content_host import host_blocks
from reports.render.content_methods import methods_blocks, note_words
from reports.render.content_parts import DASH, duration_cell, incident_kind_text, time_cell, time_range
from reports.render.content_proof import proof_blocks
from reports.render.content_sla import sla_blocks
from reports.render.content_terms import terms_appendix
from reports.render.content_vantage import vantage_blocks
from reports.render.i18n import fmt_duration, fmt_ms, fmt_pct, fmt_seconds, fmt_time, kind_label, label
from reports.render.inputs import display_zone
from reports.render.model import BandwidthSection, LatencyFigures, Report, TargetReport, TargetSeries
from reports.render.vector import Figure

BANDWIDTH_FAILURES_SHOWN = 50
BUNDLE_FILES = ("report.pdf", "report.html", "measurements.csv", "summary.json", "manifest.json", "proof/")


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


def _about(report: Report, lang: str, zone: tzinfo) -> list[Block]:
    agent, period = report.agent, report.period
    return [
        Heading(label("about.heading", lang), 1, "about"),
        Para(label("subtitle", lang), "small"),
        KeyValues([
            (label("cover.agent_id", lang), agent.id),
            (label("cover.host", lang), agent.host),
            (label("cover.vantage", lang), agent.vantage or DASH),
            (label("cover.network", lang), agent.network or DASH),
            (label("cover.version", lang), f"slaproof {agent.version}"),
            (label("cover.from", lang), fmt_time(period.start, zone)),
            (label("cover.to", lang), fmt_time(period.end, zone)),
            (label("cover.timezone", lang), str(zone)),
            (label("cover.generated", lang), fmt_time(report.generated_at, zone)),
        ]),
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
            [0.22, 0.12, 0.17, 0.11, 0.18, 0.1, 0.1],
            frozenset({1, 2, 3, 4, 5, 6}),
        ),
    ]
    if any(t.control for t in report.targets):
        blocks.append(Para(label("control_note", lang), "small"))
    return blocks


def _incidents(t: TargetReport, lang: str, zone: tzinfo) -> list[Block]:
    blocks: list[Block] = [Heading(label("incidents.heading", lang), 2)]
    if not t.incidents:
        return [*blocks, Para(label("incidents.none", lang), "small")]
    rows = [[inc.id, incident_kind_text(inc, lang), time_cell(inc.start, zone, lang, inc.clipped_start, "start"),
             time_cell(inc.end, zone, lang, inc.clipped_end, "end"), duration_cell(inc, lang), errors_text(inc.error_classes, lang),
             DASH if inc.first_row_id is None else f"{inc.first_row_id}\u2013\n{inc.last_row_id}"] for inc in t.incidents]
    blocks.append(Table([label(k, lang) for k in ("inc.id", "inc.kind", "inc.start", "inc.end", "inc.duration", "inc.errors", "inc.rows")],
                        rows, [0.07, 0.12, 0.19, 0.19, 0.18, 0.15, 0.1]))
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
        (label("target.rounds", lang), label("target.rounds_v", lang, n=t.rounds, failed=t.rounds_failed, blips=t.blips)),
        (label("col.latency", lang), _latency_triplet(lat)),
        (label("target.latency_detail", lang), detail),
        (label("col.loss", lang), fmt_pct(t.loss_pct, lang, places=2) if t.loss_pct is not None else label("target.no_icmp", lang)),
        (label("target.rows", lang), str(t.rows)),
    ]
    if t.control:
        rows.insert(0, (label("target.control", lang), label("control_note", lang)))
    return KeyValues(rows)


def _checks(t: TargetReport, lang: str) -> list[Block]:
    """Each check kind on its own (per-check truth), when the target has more than one."""
    if len(t.checks) < 2:
        return []
    yes_no = {True: label("yes", lang), False: label("no", lang), None: DASH}
    rows = [[c.kind.upper(), fmt_pct(c.availability_pct, lang), fmt_duration(c.downtime_s, lang), str(c.outages),
             f"{c.rounds_failed} / {c.rounds}", yes_no[c.counts_toward_sla]] for c in t.checks]
    return [Heading(label("checks.heading", lang), 2), Para(label("checks.intro", lang), "small"),
            Table([label(k, lang) for k in ("checks.kind", "col.availability", "col.downtime", "checks.outages",
                                            "checks.rounds_failed", "checks.counts")],
                  rows, [0.12, 0.16, 0.26, 0.12, 0.18, 0.16], frozenset({1, 2, 3, 4}))]


def _imported_rows(t: TargetReport, lang: str, zone: tzinfo) -> list[Block]:
    imp = t.imported
    if imp is None:
        return []
    rows = [[f"\u201c{s.file}\u201d", s.tool if s.tool != "unknown" else label("imported.tool_unknown", lang),
             ", ".join(k.upper() for k in s.kinds), str(s.rows), time_range(s.first, s.last, zone).replace(" \u2013 ", "\n\u2013 ")]
            for s in imp.sources]
    return [Heading(label("claim.imported", lang), 2),
            Para(label("imported.line", lang, n=imp.rows, share=fmt_pct(imp.share_pct, lang, places=2),
                       span=time_range(imp.first, imp.last, zone)), "small"),
            Table([label(k, lang) for k in ("imported.col_file", "imported.col_tool", "checks.kind", "imported.col_rows",
                                            "imported.col_when")], rows, [0.26, 0.16, 0.12, 0.1, 0.36], frozenset({3}))]


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
                            [[time_cell(x.ts, zone), label(f"bw.{x.direction}", lang) if x.direction in ("download", "upload") else x.direction,
                              errors_text({x.error_class: 1}, lang).rsplit(" ", 1)[0] if x.error_class else ""]
                             for x in failed[:BANDWIDTH_FAILURES_SHOWN]],
                            [0.45, 0.2, 0.35]))
    return blocks


def _charts(t: TargetReport, mine: Mapping[str, Figure], lang: str) -> list[Block]:
    blocks: list[Block] = [Heading(label("charts.heading", lang), 2)]
    if not mine:
        return [*blocks, Para(label("charts.none", lang), "small")]
    for name in ("latency", "vantages", "daily", "host"):
        if name in mine:
            blocks.append(Chart(mine[name], label(f"chart.{name}", lang)))
    return blocks


def _target_page(i: int, t: TargetReport, report: Report, charts: Mapping[str, Mapping[str, Figure]], lang: str, zone: tzinfo,
                 files: Sequence[str]) -> list[Block]:
    mine = charts.get(t.name, {})
    blocks: list[Block] = [
        PageBreak(),
        Heading(label("target.heading", lang, name=t.name), 1, f"target-{i + 1}"),
        _target_facts(t, lang),
        *_checks(t, lang),
        *_imported_rows(t, lang, zone),
        *_charts(t, mine, lang),
        *_incidents(t, lang, zone),
        *vantage_blocks(t.vantages, lang, zone),
        *incident_cards(t, mine, zone, lang),
        *_bandwidth(t.bandwidth, lang, zone),
    ]
    if t.sla is not None:
        blocks += sla_blocks(t, t.sla, lang, zone, report.generated_at, files, f"sla-{i + 1}")
    blocks += host_blocks(t.host, lang, zone)
    return _anchored(blocks, f"target-{i + 1}")


def _anchored(blocks: list[Block], prefix: str) -> list[Block]:
    """Every subsection heading of a target gets an anchor, so the contents can link to it."""
    out: list[Block] = []
    for n, b in enumerate(blocks):
        if isinstance(b, Heading) and b.level == 2 and not b.anchor:
            b = Heading(b.text, b.level, f"{prefix}-{n}")
        elif isinstance(b, Group):
            b = Group(_anchored(b.blocks, f"{prefix}-{n}"))
        out.append(b)
    return out


def _headings(blocks: Sequence[Block]) -> list[Heading]:
    out: list[Heading] = []
    for b in blocks:
        if isinstance(b, Heading):
            out.append(b)
        elif isinstance(b, Group):
            out += _headings(b.blocks)
    return out


def _contents(blocks: Sequence[Block], lang: str) -> Contents:
    entries = [(b.anchor, b.text, b.level) for b in _headings(blocks) if b.anchor and b.level <= 2]
    return Contents(label("contents", lang), entries)


def build_document(
    report: Report,
    charts: Mapping[str, Mapping[str, Figure]],
    lang: str,
    render_notes: Sequence[str] = (),
    files: Sequence[str] = BUNDLE_FILES,
) -> Document:
    """Everything the report says, in order, for one language."""
    zone = display_zone(report)
    body: list[Block] = [*_about(report, lang, zone), *_summary_table(report, lang)]
    for i, t in enumerate(report.targets):
        body += _target_page(i, t, report, charts, lang, zone, files)
    body += methods_blocks(report.methods, lang)
    body += alert_blocks(report.alerts, lang, zone)
    body += proof_blocks(report.proof, report.period.end, lang, zone)
    appendix = terms_appendix(report, lang)
    if appendix:
        body += [PageBreak(), *appendix]
    notes = [*(note_words(n, lang) for n in report.notes), *render_notes]
    body.append(Heading(label("notes.heading", lang), 1, "notes"))
    body.append(Bullets(notes) if notes else Para(label("notes.none", lang)))
    blocks = [*claim_page(report, lang, zone, files), PageBreak(), _contents(body, lang), *body]
    footer = label("footer", lang, generated=fmt_time(report.generated_at, zone), version=report.agent.version,
                   agent=report.agent.id)
    return Document(label("title", lang), lang, blocks, footer, list(render_notes))


def font_notes(
    report: Report,
    series: Mapping[str, TargetSeries],
    lang: str,
    *,
    cid_fallback: bool = False,
) -> list[tuple[str, dict[str, Any]]]:
    """What the renderer could not do as asked, as (label key, values) pairs.

    The caller localises them twice: English for the returned list (stable
    for logs and tests), the report language for the Notes section.
    """
    notes: list[tuple[str, dict[str, Any]]] = []
    if cid_fallback:
        notes.append(("note.no_cjk_pdf_font", {}))
    for t in report.targets:
        if t.name not in series:
            notes.append(("note.no_series", {"name": t.name}))
    return notes
