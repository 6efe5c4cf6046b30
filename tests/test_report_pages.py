"""The documents a person reads, checked on a generated month (tests/support/month.py) as a reader gets them.

Page 1 of report.pdf (through pdftotext) must hold the claim: the verdict, the downtime as the
provider counts it, the credit, the deadline and every incident's times. No internal identifier (a
field name of docs/summary.schema.json) may appear in the PDF's or the HTML's text outside the
appendix, in English or Chinese; a Chinese report has no Latin word outside an allow-list (provider
and user-given names, units, IDs, quoted provider terms). The HTML is opened in a real headless
Chromium at a phone's width and at a desktop's: nothing wider than the viewport, no console error.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from datetime import datetime, timedelta
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from tests.support.browser import CHROMEDRIVER, CHROMIUM, chromium
from tests.support.month import END, INTERVAL_S, NOW, START, TRUTH, build_month

ZONE = ZoneInfo("Asia/Shanghai")
SCHEMA = Path(__file__).parents[1] / "docs" / "summary.schema.json"
needs_poppler = pytest.mark.skipif(shutil.which("pdftotext") is None, reason="needs poppler-utils (pdftotext)")
needs_chromium = pytest.mark.skipif(CHROMIUM is None or CHROMEDRIVER is None,
                                    reason="chromium and chromium-driver are not installed (scripts/setup.sh installs them)")


@pytest.fixture(scope="module")
def month(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The month written once; its bundle in English and in Chinese."""
    from agent.config import load_config
    from agent.store import Store
    from reports.build.bundle import write_bundle

    work = tmp_path_factory.mktemp("month")
    cfg = build_month(work)
    settings, _ = load_config(cfg)
    out: dict[str, Any] = {"work": work}
    for lang in ("en", "zh"):
        store = Store.open(settings.database_url())
        try:
            write_bundle(settings, store, START, END, None, ["pdf", "html", "json"], lang, work / lang, now=NOW)
        finally:
            store.close()
        out[lang] = work / lang
    out["summary"] = json.loads((work / "en" / "summary.json").read_text(encoding="utf-8"))
    return out


def pdf_pages(path: Path) -> list[str]:
    text = subprocess.run(["pdftotext", "-enc", "UTF-8", "-layout", str(path), "-"], capture_output=True, check=True,
                          timeout=120).stdout.decode("utf-8")
    return text.split("\f")


def flat(text: str) -> str:
    return " ".join(text.split())


class _Text(HTMLParser):
    """The text a reader sees, each piece with the id of the section it is in (tags with an id start one)."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.section = ""
        self.parts: list[tuple[str, str]] = []
        self._skip = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        ident = dict(attrs).get("id")
        if ident and tag in ("h2", "h3"):
            self.section = ident
        if tag in ("style", "title", "script"):
            self._skip += 1

    def handle_endtag(self, tag: str) -> None:
        if tag in ("style", "title", "script"):
            self._skip -= 1

    def handle_data(self, data: str) -> None:
        if not self._skip:
            self.parts.append((self.section, data))


def html_text(path: Path, *, appendix: bool = False) -> str:
    """The HTML's visible text; without the appendix "Terms as applied" unless asked for."""
    p = _Text()
    p.feed(path.read_text(encoding="utf-8"))
    in_terms = False
    out = []
    for section, data in p.parts:
        if section == "terms":
            in_terms = True
        elif section in ("notes",) or (section and not section.startswith("terms")):
            in_terms = False
        if appendix or not in_terms:
            out.append(data)
    return " ".join(out)


def pdf_text_outside_appendix(path: Path, lang: str) -> str:
    """The PDF's text, the appendix's pages left out (they start at its heading and end at the Notes)."""
    heading = "Appendix: terms as applied" if lang == "en" else "附录：所采用的条款"
    notes = "Notes" if lang == "en" else "备注"
    pages = pdf_pages(path)
    out, inside = [], False
    for page in pages[1:]:  # page 1 (the contents on page 2 name the appendix: that is a title, not a term)
        lines = page.split("\n")
        if any(line.strip() == heading for line in lines):
            inside = True
        if inside and any(line.strip() == notes for line in lines):
            inside = False
            page = page[page.index(notes):]
        if not inside:
            out.append(page)
    return pages[0] + "\n".join(out)


def internal_names() -> set[str]:
    """Every field name of summary.json that is an identifier (snake_case): none may reach a reader outside the appendix."""
    names: set[str] = set()

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            names.update(k for k in node.get("properties", {}) if "_" in k)
            for v in node.values():
                walk(v)
        elif isinstance(node, list):
            for v in node:
                walk(v)

    walk(json.loads(SCHEMA.read_text(encoding="utf-8")))
    return names


def local_and_utc(moment: datetime) -> tuple[str, str]:
    from reports.render.i18n import fmt_time

    text = fmt_time(moment, ZONE)
    local, _, utc = text.partition(" (")
    return local, utc.rstrip(")")


def _utc(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


# -- page 1 ---------------------------------------------------------------------------------------
@needs_poppler
def test_page_one_holds_the_claim(month: dict[str, Any]) -> None:
    """Verdict, counted and measured downtime, uptime against the target, credit, deadline with days left,
    where to claim, and every provider incident's start and end (display zone and UTC) with its duration."""
    from reports.render.i18n import fmt_duration

    page = flat(pdf_pages(month["en"] / "report.pdf")[0])
    vps = next(t for t in month["summary"]["targets"] if t["name"] == "vps-hk")
    sla = vps["sla"]
    assert "Service level claim" in page and "interim" not in page
    assert "SLA breached" in page and "below the 99.9 % target" in page
    assert f"Downtime as the provider counts it {fmt_duration(sla['counted_downtime_s'], 'en')}" in page
    assert f"Downtime as measured {fmt_duration(sla['measured_downtime_s'], 'en')}" in page
    assert f"Credit owed {sla['credit_pct']:g} % of the monthly fee = {sla['credit_amount']} USD" in page
    assert f"Claim by {sla['claim_deadline']} (" in page and "day" in page
    assert "Where to claim \u201cGoogle Cloud Support claim form\u201d" in page
    assert "instance-7731942" in page  # the service's ID
    # the web service down while ping answered, said in words (per-check truth)
    assert "HTTP was down 1 h 00 min 00 s longer than the target, while ICMP answered" in page
    assert "Under the SLA only every check failing counts as downtime" in page
    provider = [i for i in vps["incidents"] if i["kind"] != "local"]
    assert len(provider) == 5
    for inc in provider:
        for moment in (inc["start"], inc["end"]):
            local, utc = local_and_utc(_utc(moment))
            assert local in page and utc in page, (inc["id"], moment)
        assert inc["id"] in page
    # the outages written (tests/support/month.py) are the ones page 1 lists, to the second
    for a, b in TRUTH.outages:
        for index in (a, b):
            local, utc = local_and_utc(START + timedelta(seconds=index * INTERVAL_S))
            assert local in page and utc in page
    assert "ctl-dns-a, ctl-dns-b" in page  # control targets in one line
    web = next(t for t in month["summary"]["targets"] if t["name"] == "web-shop")
    assert web["sla"]["verdict"] == "met" and "SLA met" in page


@needs_poppler
def test_page_one_in_chinese(month: dict[str, Any]) -> None:
    page = flat(pdf_pages(month["zh"] / "report.pdf")[0])
    assert "服务等级索赔摘要" in page and "SLA 未达标（违约）" in page and "应得补偿" in page and "索赔截止" in page
    assert "HTTP 在 ICMP 正常应答时仍中断，比目标整体多 1 小时 00 分 00 秒" in page


# -- no internal identifier; Chinese is Chinese ----------------------------------------------------------
@needs_poppler
@pytest.mark.parametrize("lang", ["en", "zh"])
def test_no_internal_identifier_outside_the_appendix(month: dict[str, Any], lang: str) -> None:
    names = internal_names()
    assert {"known_s", "window_s", "uptime_provider_exact", "credit_below_minimum", "clock_hour_amount"} <= names
    for where, text in (("report.pdf", pdf_text_outside_appendix(month[lang] / "report.pdf", lang)),
                        ("report.html", html_text(month[lang] / "report.html"))):
        found = sorted(n for n in names if re.search(rf"(?<![\w.]){re.escape(n)}(?![\w])", text))
        assert not found, f"{lang} {where}: {found}"


ALLOWED = {
    # units, protocols and names of things
    "ms", "UTC", "CST", "RTT", "ICMP", "HTTP", "TCP", "TLS", "SLA", "ID", "SHA", "PDF", "HTML", "CSV", "JSON", "GET", "HEAD",
    "SmokePing", "slaproof", "verify", "letter", "Mbit", "iperf3", "IPDV", "RFC", "NTP", "CLOCK_REALTIME", "chrony", "timesyncd",
    "systemd-timesyncd", "Unix", "S", "p50", "p95", "p99", "p10", "p90", "USD", "EUR", "SHA-256",
}
_LATIN = re.compile(r"[A-Za-z][A-Za-z0-9_.\-/]*")
_IDS = re.compile(r"^(T\d+-\d+|ev-\d+|[0-9a-f]{8,}|[0-9a-f-]{36}|[\w.-]+\.(pdf|html|csv|json|txt)|proof/?|https?://\S+)$")


def _given_names(summary: dict[str, Any]) -> set[str]:
    """What the user's configuration and the provider name: printed as given, whatever the language."""
    agent = summary["agent"]
    words: set[str] = {summary["period"]["timezone"], agent["host"], agent["vantage"], agent["network"]}
    for t in summary["targets"]:
        words |= {t["name"], t["address"], t["provider"], t.get("service_name", ""), t.get("service_id", "")}
        if t.get("sla"):
            s = t["sla"]
            words |= {s["provider"], s["product"], s["preset"] or "", s["sla_id"], *s["sources"]}
    for p in summary["methods"]["probes"]:
        words |= {str(p["settings"].get("url", ""))}
    return {w for w in words if w}


def latin_words(text: str, summary: dict[str, Any]) -> list[str]:
    text = re.sub(r"\u201c[^\u201d]*\u201d", " ", text, flags=re.S)  # quoted provider terms and quoted answers
    text = re.sub(r"[0-9a-f]*\d[0-9a-f]*(?:-[0-9a-f]+)+|[0-9a-f]{12,}", " ", text)  # ids and hashes (uuid, sha256)
    for name in sorted(_given_names(summary), key=len, reverse=True):
        text = text.replace(name, " ")
    out = []
    for w in _LATIN.findall(text):
        w = w.rstrip(".:/()-")
        if len(w) > 1 and w not in ALLOWED and not _IDS.match(w) and not re.fullmatch(r"[A-Z]?\d[\w.:-]*", w):
            out.append(w)
    return out


@needs_poppler
def test_chinese_outputs_have_no_latin_words_outside_the_allow_list(month: dict[str, Any]) -> None:
    summary = month["summary"]
    for where, text in (("report.pdf", "\n".join(pdf_pages(month["zh"] / "report.pdf"))),
                        ("report.html", html_text(month["zh"] / "report.html", appendix=True))):
        found = latin_words(text, summary)
        assert not found, f"{where}: {sorted(set(found))[:40]}"


# -- the HTML in a real browser -------------------------------------------------------------------
def page_in_browser(driver: Any, path: Path, width: int) -> dict[str, Any]:
    """Open ``path`` at a viewport ``width`` px wide (a phone's when narrow); the page's widths and console."""
    driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride",
                           {"width": width, "height": 900, "deviceScaleFactor": 1, "mobile": width < 600})
    driver.get(path.resolve().as_uri())
    driver.get_log("browser")  # drop what loading about:blank said
    driver.refresh()
    widths = driver.execute_script(
        "return {doc: document.documentElement.scrollWidth, body: document.body.scrollWidth, view: window.innerWidth,"
        " wide: Array.from(document.querySelectorAll('body *')).filter(e => e.getBoundingClientRect().right > window.innerWidth + 0.5)"
        ".slice(0, 5).map(e => e.tagName + '.' + e.className)}")
    return {**widths, "console": driver.get_log("browser")}


@needs_chromium
def test_html_reads_in_chromium_at_390_and_1280_px(month: dict[str, Any], tmp_path: Path) -> None:
    with chromium(tmp_path / "profile", tmp_path / "downloads") as driver:
        for lang in ("en", "zh"):
            for width in (390, 1280):
                got = page_in_browser(driver, month[lang] / "report.html", width)
                assert got["view"] == width, got
                assert got["doc"] <= width and got["body"] <= width, (lang, width, got)
                assert not got["wide"], (lang, width, got["wide"])
                errors = [e for e in got["console"] if e.get("level") == "SEVERE"]
                assert not errors, (lang, width, errors)
        title = driver.execute_script("return document.querySelector('h1.title').textContent")
        toc = driver.execute_script("return document.querySelectorAll('nav.toc a').length")
        charts = driver.execute_script("return Array.from(document.querySelectorAll('figure svg')).map(s => s.getBoundingClientRect().width)")
        assert title == "服务等级索赔摘要" and toc >= 8
        assert charts and all(w > 300 for w in charts)  # drawn, at the width of the page
