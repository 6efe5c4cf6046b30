"""Rendering the evidence report: PDF and HTML, English and Chinese, charts, fallbacks.

The PDF is checked through poppler (pdftotext, pdftoppm), i.e. as a reader
of the attached file would see it, not through our own objects.
"""

from __future__ import annotations

import hashlib
import re
import shutil
import subprocess
from dataclasses import replace
from datetime import UTC, datetime
from decimal import Decimal
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st
from PIL import Image

from reports.render.charts import _runs, make_charts
from reports.render.fonts import FontChoice, discover_fonts, no_cjk_fonts
from reports.render.html import render_html
from reports.render.i18n import fmt_duration, fmt_duration_words, fmt_pct, fmt_time
from reports.render.inputs import ReportInputError, check_report
from reports.render.model_json import report_from_json, report_to_json
from reports.render.pdf import render_pdf
from reports.render.vector import Figure, Line, Poly, Rect, Text, to_svg
from tests.support.report_fixture import (
    EVIL_NAME,
    HTTP_NAME,
    METHODS_TEXT_EN,
    METHODS_TEXT_ZH,
    NO_DATA_DAY,
    OUTAGE_DURATION_S,
    OUTAGE_DURATION_WORDS,
    OUTAGE_START_LOCAL,
    OUTAGE_START_UTC,
    SCHEMA,
    build_sample,
    same_json,
    validate_summary,
)

needs_poppler = pytest.mark.skipif(
    not (shutil.which("pdftotext") and shutil.which("pdftoppm")), reason="needs poppler-utils"
)


def pdf_text(path: Path) -> list[str]:
    """The text of each page (pdftotext separates pages with form feeds)."""
    out = subprocess.run(["pdftotext", "-enc", "UTF-8", str(path), "-"], capture_output=True, check=True, timeout=60)
    pages = out.stdout.decode("utf-8").split("\f")
    return [p for p in pages if p.strip()]


def flat(text: str) -> str:
    return " ".join(text.split())


def nospace(text: str) -> str:
    return "".join(text.split())


@pytest.fixture(scope="module")
def fonts() -> FontChoice:
    return discover_fonts()


@pytest.fixture(scope="module")
def reports(tmp_path_factory: pytest.TempPathFactory, fonts: FontChoice) -> dict[str, Any]:
    """Both languages rendered once, charts drawn once per language and reused."""
    out: dict[str, Any] = {}
    base = tmp_path_factory.mktemp("report")
    for lang in ("en", "zh"):
        summary, series = build_sample(lang)
        charts = make_charts(summary, series, lang)
        pdf, page = base / f"report_{lang}.pdf", base / f"report_{lang}.html"
        out[lang] = {
            "summary": summary,
            "series": series,
            "charts": charts,
            "pdf": pdf,
            "html": page,
            "pdf_notes": render_pdf(summary, series, pdf, lang=lang, fonts=fonts, charts=charts),
            "html_notes": render_html(summary, series, page, lang=lang, charts=charts),
        }
    return out


# --- charts ---------------------------------------------------------------


def test_charts_are_vector_figures_per_target_with_series(reports: dict[str, Any]) -> None:
    charts = reports["en"]["charts"]
    assert set(charts) == {EVIL_NAME, HTTP_NAME}  # the control target has no series
    assert set(charts[EVIL_NAME]) == {"latency", "daily", "card:T1-3"}
    assert set(charts[HTTP_NAME]) == {"latency", "daily", "card:T2-1"}
    for per_target in charts.values():
        for fig in per_target.values():
            assert isinstance(fig, Figure) and fig.height > 100 and len(fig.shapes) > 30
            svg = to_svg(fig)
            assert svg.startswith("<svg") and "<script" not in svg
    assert "&lt;script&gt;" in to_svg(charts[EVIL_NAME]["latency"])  # the name, escaped in the chart too


def _texts(fig: Figure) -> list[str]:
    return [s.text for s in fig.shapes if isinstance(s, Text)]


def test_latency_chart_marks_every_band_with_its_id_and_leaves_gaps_unbridged(reports: dict[str, Any]) -> None:
    """Incident IDs on every band (local ones too); the smoke breaks over the no-data day; loss only with ICMP."""
    charts, series = reports["en"]["charts"], reports["en"]["series"]
    texts = _texts(charts[EVIL_NAME]["latency"])
    for ident in ("T1-1", "T1-2", "T1-3", "T1-4", "T1-5"):
        assert ident in texts, ident
    assert "Loss (%)" in texts and "Loss (%)" not in _texts(charts[HTTP_NAME]["latency"])  # HTTP only: no loss panel
    day_start = datetime(NO_DATA_DAY.year, NO_DATA_DAY.month, NO_DATA_DAY.day, tzinfo=ZoneInfo("Asia/Shanghai"))
    runs = _runs(series[EVIL_NAME].smoke)
    assert len(runs) >= 2 and any(r[-1].end_us <= day_start.timestamp() * 1e6 < runs[i + 1][0].start_us
                                  for i, r in enumerate(runs[:-1]))


def test_legend_names_only_what_is_drawn(reports: dict[str, Any]) -> None:
    texts = _texts(reports["en"]["charts"][HTTP_NAME]["latency"])
    assert "no data" in texts and "outage" in texts and "local network" in texts
    assert "degraded" not in texts and "partial" not in texts  # no such band on this target
    daily = _texts(reports["en"]["charts"][EVIL_NAME]["daily"])
    assert "no data" in daily


def test_charts_read_in_greyscale(reports: dict[str, Any]) -> None:
    """Band kinds differ by hatch, not only by colour: each kind's lane carries lines in its own directions."""
    from reports.render.charts import BAND_STYLE

    patterns = {k: v.pattern for k, v in BAND_STYLE.items() if k != "no_data"}
    assert len(set(patterns.values())) == len(patterns)
    fig = reports["en"]["charts"][EVIL_NAME]["latency"]
    assert sum(isinstance(s, Line) for s in fig.shapes) > 50 and any(isinstance(s, Poly) for s in fig.shapes)
    assert any(isinstance(s, Rect) and s.fill == "#c4c4c4" for s in fig.shapes)  # grey: no data


# --- PDF ------------------------------------------------------------------


@needs_poppler
def test_pdf_en_holds_the_figures(reports: dict[str, Any]) -> None:
    pages = pdf_text(reports["en"]["pdf"])
    text = flat("\n".join(pages))
    assert "Network service evidence report" in text
    assert "7f3c2a9e-4b1d-4e8f-9a6b-2c5d8e1f0a37" in text and "AS4812 China Telecom (Shanghai)" in text
    assert "2026-11-01 00:00:00 CST (2026-10-31 16:00:00 UTC)" in text  # period start, UTC date differs
    assert "99.307 %" in text and "99.524 %" in text  # availability of both targets (cut, never rounded up)
    assert "59 min 40 s" in text and "3580 s" in text  # downtime
    assert OUTAGE_START_LOCAL in text and OUTAGE_START_UTC in text
    assert OUTAGE_DURATION_WORDS in text and f"{OUTAGE_DURATION_S} s" in text
    assert "(2820 s \u2013 2840 s)" in text  # duration bounds
    assert "\u2265 1190 s; upper bound not observed" in text
    assert "began before the period" in text and "continued after the period" in text
    assert "ev-0042" in text and "Traceroute to the target" in text and "Traceroute to the control target" in text
    assert flat(METHODS_TEXT_EN) in text
    assert "chrony (NTP)" in text
    assert "4 consecutive" not in text and "2 consecutive failed rounds" in text
    assert EVIL_NAME in text  # printed literally, not swallowed as markup
    assert "Credit tiers" in text and "not confirmed" in text and "99 % to below 99.9 %: 10 %" in text
    assert "SLA breached" in text and "99.3078 % (target 99.9 %)" in text
    assert "Round-trip time, 95th percentile: at most 150 ms" in text and "2026-12-31" in text
    assert "no data" in text and "[control]" in text
    assert "no chart data for target gateway-control" in text  # render note in the Notes section


@needs_poppler
def test_pdf_every_page_has_footer_and_number(reports: dict[str, Any]) -> None:
    pages = pdf_text(reports["en"]["pdf"])
    assert len(pages) >= 4
    for number, page in enumerate(pages, start=1):
        page = flat(page)
        assert f"Page {number} of {len(pages)}" in page
        assert "slaproof 0.1.0" in page
        assert "Generated 2026-11-08 09:02:03 CST (01:02:03 UTC)" in page


@needs_poppler
def test_pdf_zh_has_chinese_labels(reports: dict[str, Any], fonts: FontChoice) -> None:
    if not fonts.has_cjk:
        pytest.skip("no CJK font on this machine")
    pages = pdf_text(reports["zh"]["pdf"])
    text = nospace("\n".join(pages))
    for words in ("服务等级索赔摘要", "可用率", "中断时长", "事件", "测量方法", "服务等级协议", "未确认", "无数据", "附录"):
        assert words in text, words
    assert nospace(OUTAGE_START_LOCAL) in text and nospace(OUTAGE_START_UTC) in text
    assert "47分10秒" in text and "2830秒" in text
    assert "99.307%" in text
    assert nospace(METHODS_TEXT_ZH) in text
    assert nospace(EVIL_NAME) in text
    assert "第1页，共" in text
    assert reports["zh"]["pdf_notes"] == ["no chart data for target gateway-control"]


@needs_poppler
@pytest.mark.parametrize("lang", ["en", "zh"])
def test_pdf_pages_are_not_blank(reports: dict[str, Any], lang: str, tmp_path: Path) -> None:
    subprocess.run(["pdftoppm", "-r", "72", "-png", str(reports[lang]["pdf"]), str(tmp_path / "p")], check=True, timeout=120)
    images = sorted(tmp_path.glob("p-*.png"))
    assert len(images) == len(pdf_text(reports[lang]["pdf"]))
    for png in images:
        img = Image.open(png).convert("L")
        body = img.crop((0, int(img.height * 0.08), img.width, int(img.height * 0.85)))
        lo, hi = body.getextrema()
        assert hi - lo > 100, png.name
        dark = sum(body.histogram()[:128])
        assert dark > 200, png.name  # real content in the body, not just a stray line


def test_pdf_is_reproducible(reports: dict[str, Any], tmp_path: Path, fonts: FontChoice) -> None:
    """Same summary, same bytes: a recipient can regenerate and compare hashes."""
    r = reports["en"]
    again = tmp_path / "again.pdf"
    render_pdf(r["summary"], r["series"], again, lang="en", fonts=fonts, charts=r["charts"])
    assert hashlib.sha256(again.read_bytes()).digest() == hashlib.sha256(r["pdf"].read_bytes()).digest()


# --- HTML -----------------------------------------------------------------


class _Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data: str) -> None:
        self.text.append(data)


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_html_is_escaped_and_self_contained(reports: dict[str, Any], lang: str) -> None:
    page = reports[lang]["html"].read_text(encoding="utf-8")
    assert "<script" not in page.lower()
    assert 'alert("x")</script>' not in page
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; co" in page
    assert '<img src="http' not in page  # the evidence text carrying an <img> tag stays text
    assert not re.search(r"""(?:src|href)\s*=\s*["']?\s*(?:https?:)?//""", page, re.I)
    assert "url(" not in page and "@import" not in page
    assert "Content-Security-Policy" in page
    parser = _Tags()
    parser.feed(page)
    names = [t for t, _ in parser.tags]
    assert "script" not in names and "iframe" not in names and "link" not in names
    assert not [a for t, a in parser.tags if t == "img"]
    assert len([t for t, _ in parser.tags if t == "svg"]) == 6  # 2 targets with series × (2 charts + 1 card)
    for _, attrs in parser.tags:
        assert not any(k.startswith("on") for k in attrs)
        href = attrs.get("href")
        assert href is None or href.startswith("#")
    shown = "".join(parser.text)
    assert EVIL_NAME in shown  # displayed as text, verbatim
    assert 'HTTP 502 body: "<h1>502 Bad Gateway</h1>" &' not in shown  # evidence summaries are summary.json's
    assert '\u201c<h1>502 Bad Gateway</h1> & <img src="http://evil.example/x.png">\u201d' in shown  # the card quotes the body


def test_html_holds_the_same_figures(reports: dict[str, Any]) -> None:
    parser = _Tags()
    parser.feed(reports["en"]["html"].read_text(encoding="utf-8"))
    shown = flat(" ".join(parser.text))
    for needle in ("99.307 %", OUTAGE_START_LOCAL, OUTAGE_START_UTC, OUTAGE_DURATION_WORDS, f"{OUTAGE_DURATION_S} s",
                   flat(METHODS_TEXT_EN), "not confirmed", "slaproof 0.1.0", "Bandwidth tests", "Failed tests",
                   "21 tests: 19 measured, 1 failed, 1 skipped", "Service level claim", "Contents", "Incident cards",
                   "Appendix: terms as applied"):
        assert needle in shown, needle
    zh = _Tags()
    zh.feed(reports["zh"]["html"].read_text(encoding="utf-8"))
    assert "服务等级索赔摘要" in "".join(zh.text) and '<html lang="zh-CN">' in reports["zh"]["html"].read_text(encoding="utf-8")


# --- without a CJK font ---------------------------------------------------


@needs_poppler
def test_zh_without_cjk_font_falls_back_and_says_so(reports: dict[str, Any], tmp_path: Path) -> None:
    summary, series = build_sample("zh")
    none = no_cjk_fonts()
    assert not none.has_cjk
    charts = make_charts(summary, series, "zh")
    notes = render_pdf(summary, series, tmp_path / "r.pdf", lang="zh", fonts=none, charts=charts)
    assert any("STSong-Light" in n for n in notes)
    assert len(pdf_text(tmp_path / "r.pdf")) >= 4


# --- formatting and input checks -------------------------------------------

CST = ZoneInfo("Asia/Shanghai")


def test_time_shows_display_zone_and_utc() -> None:
    assert fmt_time("2026-11-03T02:00:00.000000Z", CST) == "2026-11-03 10:00:00 CST (02:00:00 UTC)"
    assert fmt_time("2026-11-02T20:30:00.000000Z", CST) == "2026-11-03 04:30:00 CST (2026-11-02 20:30:00 UTC)"
    assert fmt_time("2026-11-03T02:00:00.000000Z", UTC) == "2026-11-03 02:00:00 UTC"
    assert fmt_time("2026-07-01T12:00:00.000000Z", ZoneInfo("Europe/Berlin")) == "2026-07-01 14:00:00 CEST (12:00:00 UTC)"


def test_durations_in_words_and_seconds() -> None:
    assert fmt_duration(2830, "en") == "47 min 10 s (2830 s)"
    assert fmt_duration(2830, "zh") == "47 分 10 秒 (2830 秒)"
    assert fmt_duration(42, "en") == "42 s"
    assert fmt_duration(90061, "en") == "1 d 01 h 01 min 01 s (90061 s)"
    assert fmt_duration(59.6, "en") == "1 min 00 s (59.6 s)"


@given(st.floats(min_value=0.0, max_value=100.0, allow_nan=False))
def test_percent_never_rounds_to_0_or_100(value: float) -> None:
    shown = float(fmt_pct(value, "en").split(" ")[0])
    assert (shown == 100.0) == (value == 100.0)
    assert (shown == 0.0) == (value == 0.0)
    assert abs(shown - value) < 0.001


@given(st.floats(min_value=0, max_value=10 * 86400, allow_nan=False))
def test_duration_words_add_up(seconds: float) -> None:
    units = {"d": 86400, "h": 3600, "min": 60, "s": 1}
    if round(seconds) == 0 and seconds:  # under half a second: its exact seconds, never "0 s"
        assert fmt_duration_words(seconds, "en") != "0 s"
        return
    parts = fmt_duration_words(seconds, "en").split(" ")
    total = sum(int(n) * units[u] for n, u in zip(parts[::2], parts[1::2]))
    assert total == round(seconds)


def test_report_with_wrong_facts_is_refused() -> None:
    report, _ = build_sample()
    check_report(report)
    with pytest.raises(ReportInputError, match="duplicate target name"):
        check_report(replace(report, targets=report.targets + report.targets[:1]))
    with pytest.raises(ReportInputError, match="unknown display timezone"):
        check_report(replace(report, period=replace(report.period, timezone="Mars/Olympus")))


def test_summary_json_reads_back_as_the_same_report() -> None:
    """summary.json → model → summary.json changes nothing; every misfit is refused with its path."""
    report, _ = build_sample("zh")
    data = report_to_json(report)
    assert report_from_json(data) == report
    assert same_json(report_to_json(report_from_json(data)), data)
    with pytest.raises(ReportInputError, match=r"summary\.schema"):
        report_from_json({**data, "schema": "slaproof.report/2"})
    incident = {**data["targets"][0]["incidents"][0], "start": "2026-11-03 02:00"}
    broken = {**data, "targets": [{**data["targets"][0], "incidents": [incident]}]}
    with pytest.raises(ReportInputError, match=r"summary\.targets\[0\]\.incidents\[0\]\.start: time without a zone"):
        report_from_json(broken)
    with pytest.raises(ReportInputError, match=r"summary\.targets\[1\]: lacks 'rows'"):
        report_from_json({**data, "targets": [data["targets"][0], {k: v for k, v in data["targets"][1].items() if k != "rows"}]})
    with pytest.raises(ReportInputError, match=r"summary\.agent: unknown key\(s\) colour"):
        report_from_json({**data, "agent": {**data["agent"], "colour": "blue"}})
    with pytest.raises(ReportInputError, match=r"summary\.targets\[0\]\.sla\.verdict: 'unknown' is not one of"):
        report_from_json({**data, "targets": [{**data["targets"][0], "sla": {**data["targets"][0]["sla"], "verdict": "unknown"}}]})
    with pytest.raises(ReportInputError, match=r"summary\.targets\[0\]\.rows: expected an integer"):
        report_from_json({**data, "targets": [{**data["targets"][0], "rows": 1.5}]})


@needs_poppler
def test_cjk_name_in_english_report_and_empty_series(tmp_path: Path, fonts: FontChoice) -> None:
    """A Chinese target name prints in an English PDF; a target with empty series still renders."""
    if not fonts.has_cjk:
        pytest.skip("no CJK font on this machine")
    from reports.render.model import LatencyFigures, TargetSeries

    summary, _ = build_sample("en")
    name = "上海 VPS <b>主机</b>"
    target = replace(summary.targets[1], name=name, incidents=(), availability_pct=None,
                     latency_ms=LatencyFigures(p50=None, p95=None, p99=None, mean=None, min=None, max=None, count=0))
    summary = replace(summary, targets=(target,))
    series = {name: TargetSeries()}
    charts = make_charts(summary, series, "en")
    assert set(charts[name]) == {"latency", "daily"}
    notes = render_pdf(summary, series, tmp_path / "r.pdf", lang="en", fonts=fonts, charts=charts)
    assert notes == []
    text = flat("\n".join(pdf_text(tmp_path / "r.pdf")))
    assert name in text
    assert "No incidents in the period." in text and "no data" in text


# --- the SLA verdict in words -----------------------------------------------


def _evaluated(verdict: str) -> Any:
    """A real SLA evaluation (reports/analysis/sla.py) reaching ``verdict`` over January 2025."""
    from reports.analysis.model import State
    from reports.presets import load_preset, resolve
    from tests.test_sla import down, run

    gce = load_preset("gce-single-instance")
    events = {
        "met": [],
        "breached": [down(2025, 1, 10, 10, 0, dur_s=10 * 3600)],
        "not enough data": [down(2025, 1, 2, 0, 0, dur_s=20 * 86400, state=State.NO_DATA)],
        "no uptime term": [],
    }[verdict]
    definition = resolve({"provider": "Example", "product": "VPS"}) if verdict == "no uptime term" else gce
    return run(definition, "2025-01", events)


def test_model_verdicts_are_the_ones_the_sla_code_produces() -> None:
    from reports.analysis import sla
    from reports.render.i18n import LABELS, VERDICT_LABELS
    from reports.render.model import VERDICTS

    assert set(VERDICTS) == {v.value for v in sla.Verdict}
    assert set(VERDICT_LABELS) == set(VERDICTS) and all(VERDICT_LABELS[v] in LABELS for v in VERDICTS)


@pytest.mark.parametrize("verdict, en, zh", [
    ("met", "met", "达标"),
    ("breached", "breached", "未达标（违约）"),
    ("not enough data", "not enough data", "数据不足"),
    ("no uptime term", "no uptime term", "无可用性承诺"),
])
def test_chinese_report_says_every_verdict_in_chinese(verdict: str, en: str, zh: str, tmp_path: Path, fonts: FontChoice) -> None:
    """Each verdict the evaluation can reach prints in words of the report's language (it once printed
    "not enough data" in Chinese reports: the renderer's map had keys the SLA code never produces)."""
    from reports.render.model_json import sla_section

    result = _evaluated(verdict)
    assert result.verdict == verdict
    report, _ = build_sample("zh")
    target = replace(report.targets[0], sla=sla_section(result.to_json()))
    report = replace(report, targets=(target, *report.targets[1:]))
    for lang, word, other in (("zh", zh, en), ("en", en, zh)):
        render_html(report, {}, tmp_path / f"{lang}.html", lang=lang, charts={})
        page = (tmp_path / f"{lang}.html").read_text(encoding="utf-8")
        verdict_row = re.search(r'<th scope="row"[^>]*>(?:结论|Verdict)</th><td>([^<]*)<br>', page)
        assert verdict_row is not None and verdict_row.group(1) == word
        assert not re.search(rf"(?<![\w_]){re.escape(other)}(?![\w_])", page), f"{other!r} in the {lang} report"


# --- summary.json: the model, its serialisation and docs/summary.schema.json ---

GOLDEN = Path(__file__).parent / "golden" / "summary.json"


def test_golden_and_sample_summaries_fit_the_schema_and_the_model() -> None:
    import json

    golden = json.loads(GOLDEN.read_text(encoding="utf-8"))
    validate_summary(golden)
    assert same_json(report_to_json(report_from_json(golden)), golden)  # nothing dropped, no int turned float
    for lang in ("en", "zh"):
        validate_summary(report_to_json(build_sample(lang)[0]))
    bad = {**golden, "targets": [{**golden["targets"][0], "availability_pct": "97 %"}]}
    with pytest.raises(AssertionError, match="availability_pct"):
        validate_summary(bad)


def test_schema_names_exactly_the_model_fields() -> None:
    """docs/summary.schema.json and reports/render/model.py state one shape: same objects, keys, required keys."""
    import dataclasses
    import json

    from reports.render import model, model_alerts, model_cards, model_proof, model_vantage

    schema = json.loads(SCHEMA.read_text(encoding="utf-8"))
    defs = {**schema["$defs"], "Report": schema}
    modules = (model, model_cards, model_proof, model_alerts, model_vantage)
    found = {c for m in modules for c in vars(m).values() if isinstance(c, type) and dataclasses.is_dataclass(c)}
    classes = sorted((c for c in found if c.__module__ in {m.__name__ for m in modules} and c is not model.TargetSeries),
                     key=lambda c: c.__name__)
    assert {c.__name__ for c in classes} == {k for k, v in defs.items() if v.get("type") == "object"}
    for cls in classes:
        keys = [f.metadata.get("key", f.name) for f in dataclasses.fields(cls)]
        required = [f.metadata.get("key", f.name) for f in dataclasses.fields(cls) if not f.metadata.get("omit_none")]
        assert list(defs[cls.__name__]["properties"]) == keys, cls.__name__
        assert defs[cls.__name__]["required"] == required, cls.__name__
        assert defs[cls.__name__]["additionalProperties"] is False, cls.__name__


@pytest.mark.parametrize("preset", sorted(p.stem for p in (Path(__file__).parents[1] / "reports" / "presets").glob("*.toml")))
def test_every_preset_evaluation_fits_the_sla_section(preset: str) -> None:
    """SlaResult.to_json() of every preset, with a breach, reads into the model and writes back unchanged."""
    from reports.presets import load_preset
    from reports.render.model_json import encode, sla_section
    from tests.test_sla import down, run

    result = run(load_preset(preset), "2025-01", [down(2025, 1, 10, 10, 0, dur_s=10 * 3600), down(2025, 1, 20, 3, 0, dur_s=90)],
                 monthly_fee=Decimal("20"), currency="USD")
    data = result.to_json()
    assert same_json(encode(sla_section(data)), data)


def test_methods_prose_states_how_performance_samples_are_taken() -> None:
    """The methods text (render, in words) and reports/build/samples.py's statement (with the metrics' keys)
    describe the same samples: each metric the samples take is named in words, in the same order."""
    from reports.build.samples import PERF_METHOD as TAKEN
    from reports.render.i18n import label
    from reports.render.methods_text import METHODS_EN, PERF_METHOD

    assert METHODS_EN.endswith(PERF_METHOD)
    keys = re.findall(r"\((rtt_ms|loss_pct|jitter_ms|bandwidth_mbps)\)", TAKEN)
    assert keys == ["rtt_ms", "loss_pct", "jitter_ms", "bandwidth_mbps"]
    at = [PERF_METHOD.lower().index(label(f"metric.{k}", "en").lower()) for k in keys]
    assert at == sorted(at)
    assert not re.search(r"\w_\w", PERF_METHOD)  # no key in the reader's text
