"""The report's words and figures: every preset's terms in words in both languages, figures that
cannot mislead (an uptime never printed at its target when below it, nor 0 when above 0), the
chart data the streaming pass keeps, and the chart drawn over a short period's data."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from reports.build.accumulate import Accumulator, bin_bounds, quantiles_of, rtt_bin
from reports.render.blocks import Block, Bullets, Callout, Contents, Group, Heading, KeyValues, Para, Table
from reports.render.content import build_document
from reports.render.model_json import sla_section
from reports.render.words import fmt_uptime
from tests.support.report_fixture import build_sample

PRESETS = sorted(p.stem for p in (Path(__file__).parents[1] / "reports" / "presets").glob("*.toml"))


def texts(blocks: list[Block]) -> list[str]:
    out: list[str] = []
    for b in blocks:
        if isinstance(b, Para):
            out.append(b.text)
        elif isinstance(b, KeyValues):
            out += [x for row in b.rows for x in row]
        elif isinstance(b, Table):
            out += b.header + [c for row in b.rows for c in row]
        elif isinstance(b, Bullets):
            out += b.items
        elif isinstance(b, Callout):
            out += [b.title, b.text]
        elif isinstance(b, Contents):
            out += [t for _, t, _ in b.entries]
        elif isinstance(b, Group):
            out += texts(b.blocks)
    return out


def _with_preset(preset: str, lang: str) -> Any:
    from reports.presets import load_preset
    from tests.test_sla import down, run

    result = run(load_preset(preset), "2025-01", [down(2025, 1, 10, 10, 0, dur_s=10 * 3600), down(2025, 1, 20, 3, 0, dur_s=90)],
                 monthly_fee=Decimal("20"), currency="USD")
    report, _ = build_sample(lang)
    target = replace(report.targets[0], sla=sla_section(result.to_json()))
    return replace(report, targets=(target, *report.targets[1:]))


def test_every_preset_note_has_chinese_words() -> None:
    from reports.presets import load_preset
    from reports.render.preset_notes import ZH

    missing = []
    for name in PRESETS:
        d = load_preset(name)
        missing += [n for n in [*d.notes, *d.credit.notes, d.terms_date_note] if n and n not in ZH]
    assert not missing, missing


def split_appendix(blocks: list[Block]) -> tuple[list[Block], list[Block]]:
    """The blocks outside the appendix "Terms as applied", and the appendix's."""
    out: list[Block] = []
    appendix: list[Block] = []
    inside = False
    for b in blocks:
        if isinstance(b, Heading) and b.anchor in ("terms", "notes"):
            inside = b.anchor == "terms"
        (appendix if inside else out).append(b)
    return out, appendix


def sla_blocks(blocks: list[Block]) -> list[Block]:
    """The first target's SLA section: from its heading to the next section."""
    start = next(i for i, b in enumerate(blocks) if isinstance(b, Heading) and b.anchor == "sla-1")
    end = next((i for i, b in enumerate(blocks[start + 1:], start + 1) if isinstance(b, Heading) and b.level == 1), len(blocks))
    return [blocks[0], *blocks[start:end]]


@pytest.mark.parametrize("preset", PRESETS)
def test_every_preset_reads_in_words_in_both_languages(preset: str) -> None:
    """The SLA section and the appendix of each preset's evaluation: no stored key outside the appendix, no stored
    value spelling anywhere, and in Chinese no English sentence (quoted provider terms and given names apart)."""
    from tests.test_report_pages import internal_names

    names = internal_names() | {"calendar_month", "billing_month", "per_outage", "duration_table", "period_end",
                                "cycles_after_incident", "ge_s", "lt_s", "more_than_s"}
    for lang in ("en", "zh"):
        report = _with_preset(preset, lang)
        outside, appendix = split_appendix(build_document(report, {}, lang).blocks)
        body = "\n".join(texts(outside))
        found = sorted(n for n in names if re.search(rf"(?<![\w.]){re.escape(n)}(?![\w])", body))
        assert not found, (lang, found)
        assert appendix and not re.search(r"\b\w+=\w", "\n".join(texts(appendix)))  # no "lt=99.9" spelling
        if lang == "zh":
            everything = "\n".join(texts(sla_blocks(outside) + appendix))
            assert "（英文原文）" not in everything
            plain = re.sub(r"\u201c[^\u201d]*\u201d", " ", everything, flags=re.S)
            sla = report.targets[0].sla
            assert sla is not None
            for given in sorted((sla.provider, sla.product, *sla.sources), key=len, reverse=True):
                plain = plain.replace(given, " ")
            english = {w.lower() for w in re.findall(r"[A-Za-z]{3,}", plain)}
            assert not english & {"the", "and", "with", "when", "credit", "outage", "tier", "down", "from", "counted",
                                  "not", "found", "uptime", "claim", "hours", "window"}, english


def test_not_counted_time_is_said_reason_by_reason() -> None:
    """Local-network minutes and no-data hours are never one sum ("Downtime excluded: 3 h 40 min")."""
    report, _ = build_sample("en")
    t = report.targets[0]
    sla = replace(t.sla, excluded={"local": 1200.0, "no_data": 86400.0, "below_minimum": 0.0})  # type: ignore[type-var]
    report = replace(report, targets=(replace(t, sla=sla), *report.targets[1:]))
    body = "\n".join(texts(build_document(report, {}, "en").blocks))
    assert "agent's own network down: 20 min 00 s" in body
    assert "no data: 1 d 00 h 00 min 00 s" in body
    assert "1 d 00 h 20 min" not in body


@given(st.floats(min_value=0.0, max_value=100.0, allow_nan=False), st.sampled_from([99.0, 99.5, 99.9, 99.95, 99.99]))
def test_uptime_is_truncated_never_reaching_the_target_nor_0(value: float, target: float) -> None:
    shown = float(fmt_uptime(value, "en").split(" ")[0])
    assert shown <= value + 1e-12
    assert (shown >= target) == (value >= target) or value >= target
    assert (shown == 0.0) == (value == 0.0)
    assert (shown == 100.0) == (value == 100.0)


# -- the streaming pass's chart state ------------------------------------------------------------------
@given(st.integers(min_value=0, max_value=60_000_000))
def test_rtt_bins_hold_their_value_and_are_narrow(us: int) -> None:
    lo, hi = bin_bounds(rtt_bin(us))
    assert lo <= us < hi
    assert hi - lo == 1 or hi / lo <= 33 / 32


@settings(max_examples=60)
@given(st.lists(st.integers(min_value=100, max_value=2_000_000), min_size=1, max_size=300))
def test_bucket_quantiles_are_within_a_bin_of_the_exact_ones(values_us: list[int]) -> None:
    hist: dict[int, int] = {}
    for v in values_us:
        hist[rtt_bin(v)] = hist.get(rtt_bin(v), 0) + 1
    q, median = quantiles_of(hist)
    exact = sorted(values_us)
    n = len(exact)
    for i, got in enumerate(q):
        want = exact[round((n - 1) * i / 19)] / 1000
        assert abs(got - want) <= want * 0.016
    assert median is not None and abs(median - exact[(n - 1) // 2] / 1000) <= exact[(n - 1) // 2] / 1000 * 0.016


def test_chart_state_stays_bounded_and_keeps_every_sample() -> None:
    """A month of 10-s rows: at most MAX_BUCKETS buckets, widened by doubling, no sample lost."""
    p0 = 1_790_000_000_000_000
    acc = Accumulator(frozenset({1}), frozenset({1}), p0, p0 + 30 * 86400 * 10**6, 10 * 10**6)
    n = 30 * 8640
    for i in range(n):
        acc((i, p0 + i * 10 * 10**6 + 3000, 0, 1, True, 20_000_000 + (i % 50) * 100_000, 3, 3 if i % 100 else 2))
    buckets = acc.smoke()
    assert 360 <= len(buckets) <= 720
    assert sum(b.rounds for b in buckets) == n
    assert all(b.end_us - b.start_us == buckets[0].end_us - buckets[0].start_us for b in buckets[:-1])
    assert all(b.median_ms is not None and 19.9 < b.median_ms < 25.1 for b in buckets)
    assert sum(1 for b in buckets if b.loss_pct) > 300


def test_short_period_is_drawn_over_its_data() -> None:
    """A day with three minutes of data: the chart spans those minutes, not the day."""
    from reports.render.charts import Span, data_span, smoke_figure
    from reports.render.smokeping import SmokeBucket
    from reports.render.vector import Text

    day = Span(datetime(2026, 11, 28, tzinfo=UTC), datetime(2026, 11, 29, tzinfo=UTC))
    t0 = int(datetime(2026, 11, 28, 10, 2, tzinfo=UTC).timestamp() * 1e6)
    buckets = [SmokeBucket(t0 + i * 10**7, t0 + (i + 1) * 10**7, (0.04,) * 20, 0.047, 0.0, 1) for i in range(18)]
    span, fitted = data_span(buckets, [], day)
    assert fitted and span.end - span.start <= timedelta(minutes=5)
    fig = smoke_figure("loopback", buckets, [], day, UTC, "en", icmp=True, kind="icmp")
    words = [s.text for s in fig.shapes if isinstance(s, Text)]
    assert any("drawn over the time with data only" in w for w in words)
    assert any(w.startswith("10:0") for w in words)  # minute ticks, not the day's hours


def test_page_one_names_imported_history_and_an_unfinished_period() -> None:
    """Rows brought in with slaproof import are named on page 1 (how many, from which file and tool, when) and
    on the target's page; a period that is not over says interim on page 1."""
    from reports.render.content_claim import claim_page
    from reports.render.inputs import display_zone
    from reports.render.model import ImportedRows, ImportedSource

    report, _ = build_sample("en")
    t = report.targets[0]
    first, last = report.period.start, report.period.start + timedelta(days=2)
    imported = ImportedRows(rows=5760, share_pct=33.3, first=first, last=last, sources=(
        ImportedSource(file="smokeping-vps.jsonl", sha256="ab" * 32, tool="smokeping", kinds=("icmp",), rows=5760,
                       first=first, last=last),))
    report = replace(report, period=replace(report.period, interim=True), targets=(replace(t, imported=imported), *report.targets[1:]))
    page = "\n".join(texts(claim_page(report, "en", display_zone(report), ["report.pdf"])))
    assert "(interim: the period is not over)" in page
    assert "5760 rows (33.30 % of this target's) were not measured by this agent but imported" in page
    assert "\u201csmokeping-vps.jsonl\u201d, measured with smokeping" in page and "how they were measured is unknown" in page
    body = "\n".join(texts(build_document(report, {}, "zh").blocks))
    assert "并非本代理测量，而是导入的" in body and "导入的历史记录" in body


def test_summary_alone_keeps_the_same_figures_without_chart_state() -> None:
    """summary.json alone (no PDF, no HTML) skips the chart's buckets, and no figure changes."""
    p0 = 1_790_000_000_000_000
    rows = [(i, p0 + i * 10**7, 0, 1, i % 7 != 0, 20_000_000 + i * 1000, 3, 3 if i % 7 else 0) for i in range(5000)]
    with_chart = Accumulator(frozenset({1}), frozenset({1}), p0, p0 + 5000 * 10**7, 10**7)
    plain = Accumulator(frozenset({1}), frozenset({1}), p0, p0 + 5000 * 10**7, 10**7, chart=False)
    for r in rows:
        with_chart(r)
        plain(r)
    a, b = with_chart.figures(), plain.figures()
    assert (a.rows, a.hist_us, a.sent, a.received) == (b.rows, b.hist_us, b.sent, b.received)
    assert a.smoke and not b.smoke
