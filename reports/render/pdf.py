"""report.pdf with reportlab: A4, embedded fonts, page numbers and a footer on every page.

Fonts are embedded (DejaVu Sans for Latin, a CJK TrueType face for Chinese)
so the PDF looks the same on the recipient's machine and its text can be
extracted and searched. Characters the Latin font lacks are switched to the
CJK font run by run, so a Chinese target name in an English report still
prints. The output is deterministic: the same report gives the same bytes,
and the PDF's creation date is the report's generation time.
"""

from __future__ import annotations

import io
import json
import time
import zlib
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

from reportlab.lib import colors
from reportlab.lib.enums import TA_RIGHT
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.pdfbase.ttfonts import TTFError, TTFont
from reportlab.pdfgen import canvas as rl_canvas
from reportlab.platypus import (
    BaseDocTemplate,
    Frame,
    KeepTogether,
    PageTemplate,
    Paragraph,
    Spacer,
    TableStyle,
)
from reportlab.platypus import Image as RLImage
from reportlab.platypus import PageBreak as RLPageBreak
from reportlab.platypus import Table as RLTable

from reports.render.blocks import Block, Bullets, Document, Heading, Image, KeyValues, PageBreak, Para, Table
from reports.render.charts import make_charts
from reports.render.content import build_document, font_notes
from reports.render.fonts import FontChoice, discover_fonts
from reports.render.i18n import fmt_time, label
from reports.render.inputs import check_report, display_zone
from reports.render.model import Report, TargetSeries
from reports.render.model_json import encode, report_to_json

PAGE = A4
MARGIN_X = 18 * mm
MARGIN_TOP = 16 * mm
MARGIN_BOTTOM = 20 * mm
TEXT_WIDTH = PAGE[0] - 2 * MARGIN_X


class PdfFonts:
    """Registered reportlab font names and the glyph coverage used to pick one per run."""

    def __init__(self, choice: FontChoice, need_cjk: bool) -> None:
        self.base = self._ttf("SlaproofSans", choice.latin)
        self.bold = self._ttf("SlaproofSans-Bold", choice.latin_bold)
        self._base_glyphs = set(pdfmetrics.getFont(self.base).face.charToGlyph)
        self.cjk: str | None = None
        self._cjk_glyphs: set[int] | None = None
        self.cid_fallback = False
        for f in choice.cjk:
            name = f"SlaproofCJK-{zlib.crc32(f'{f.path}#{f.index}'.encode()):08x}"  # stable across runs
            try:
                if name not in pdfmetrics.getRegisteredFontNames():
                    pdfmetrics.registerFont(TTFont(name, str(f.path), subfontIndex=f.index))
            except (TTFError, OSError, ValueError, KeyError):
                continue  # e.g. CFF-outline OpenType (Noto CJK .ttc): reportlab cannot embed it
            self.cjk = name
            self._cjk_glyphs = set(pdfmetrics.getFont(name).face.charToGlyph)
            break
        if self.cjk is None and need_cjk:
            # Always available, needs no file, but is not embedded.
            if "STSong-Light" not in pdfmetrics.getRegisteredFontNames():
                pdfmetrics.registerFont(UnicodeCIDFont("STSong-Light"))
            self.cjk = "STSong-Light"
            self.cid_fallback = True

    @staticmethod
    def _ttf(name: str, path: Path) -> str:
        if name not in pdfmetrics.getRegisteredFontNames():
            pdfmetrics.registerFont(TTFont(name, str(path)))
        return name

    def _fallback(self, ch: str) -> bool:
        code = ord(ch)
        if code in self._base_glyphs or self.cjk is None:
            return False
        return self._cjk_glyphs is None or code in self._cjk_glyphs

    def markup(self, text: str) -> str:
        """Escaped Paragraph markup for plain text; "\\n" becomes a line break."""
        lines = []
        for line in str(text).split("\n"):
            out: list[str] = []
            run: list[str] = []
            in_cjk = False
            for ch in line:
                fb = self._fallback(ch)
                if fb != in_cjk and run:
                    out.append(self._run("".join(run), in_cjk))
                    run = []
                in_cjk = fb
                run.append(ch)
            if run:
                out.append(self._run("".join(run), in_cjk))
            lines.append("".join(out))
        return "<br/>".join(lines)

    def _run(self, text: str, cjk: bool) -> str:
        escaped = escape(text, {'"': "&quot;"})
        return f'<font name="{self.cjk}">{escaped}</font>' if cjk else escaped


def _styles(fonts: PdfFonts, lang: str) -> dict[str, ParagraphStyle]:
    wrap = "CJK" if lang == "zh" else None
    common: dict[str, Any] = {"fontName": fonts.base, "wordWrap": wrap, "splitLongWords": 1}
    return {
        "title": ParagraphStyle("title", fontName=fonts.bold, fontSize=20, leading=25, spaceAfter=6, wordWrap=wrap),
        "subtitle": ParagraphStyle("subtitle", fontSize=11, leading=14, spaceAfter=14, textColor=colors.HexColor("#333333"), **common),
        "h1": ParagraphStyle("h1", fontName=fonts.bold, fontSize=14, leading=18, spaceBefore=6, spaceAfter=6, keepWithNext=1, wordWrap=wrap, splitLongWords=1),
        "h2": ParagraphStyle("h2", fontName=fonts.bold, fontSize=11, leading=14, spaceBefore=10, spaceAfter=4, keepWithNext=1, wordWrap=wrap),
        "body": ParagraphStyle("body", fontSize=9, leading=12.5, spaceAfter=5, **common),
        "small": ParagraphStyle("small", fontSize=8, leading=10.5, spaceBefore=3, spaceAfter=4, textColor=colors.HexColor("#222222"), **common),
        "caption": ParagraphStyle("caption", fontSize=7.5, leading=9.5, spaceBefore=1, spaceAfter=8, textColor=colors.HexColor("#333333"), **common),
        "cell": ParagraphStyle("cell", fontSize=7.5, leading=9.2, **common),
        "cell_r": ParagraphStyle("cell_r", fontSize=7.5, leading=9.2, alignment=TA_RIGHT, **common),
        "cell_h": ParagraphStyle("cell_h", fontName=fonts.bold, fontSize=7.5, leading=9.2, wordWrap=wrap),
        "key": ParagraphStyle("key", fontName=fonts.base if lang == "zh" else fonts.bold, fontSize=8, leading=10.5, wordWrap=wrap),
        "val": ParagraphStyle("val", fontSize=8, leading=10.5, **common),
        "bullet": ParagraphStyle("bullet", fontSize=8.5, leading=11, leftIndent=10, bulletIndent=0, spaceAfter=3, **common),
        "footer": ParagraphStyle("footer", fontSize=7, leading=8.5, textColor=colors.HexColor("#333333"), **common),
        "footer_r": ParagraphStyle("footer_r", fontSize=7, leading=8.5, alignment=TA_RIGHT, textColor=colors.HexColor("#333333"), **common),
    }


class _HeadingForImage:
    """Marks a heading to be kept on the same page as the chart after it."""

    def __init__(self, heading: Paragraph) -> None:
        self.heading = heading


_GRID = [
    ("GRID", (0, 0), (-1, -1), 0.4, colors.HexColor("#7a7a7a")),
    ("VALIGN", (0, 0), (-1, -1), "TOP"),
    ("LEFTPADDING", (0, 0), (-1, -1), 3),
    ("RIGHTPADDING", (0, 0), (-1, -1), 3),
    ("TOPPADDING", (0, 0), (-1, -1), 2),
    ("BOTTOMPADDING", (0, 0), (-1, -1), 3),
]


_Flowables = list[Any]
_Styles = dict[str, ParagraphStyle]


def _heading(block: Heading, fonts: PdfFonts, st: _Styles) -> Paragraph:
    return Paragraph(fonts.markup(block.text), st["h1" if block.level == 1 else "h2"])


def _key_values(block: KeyValues, fonts: PdfFonts, st: _Styles) -> _Flowables:
    m = fonts.markup
    rows = [[Paragraph(m(k), st["key"]), Paragraph(m(v), st["val"])] for k, v in block.rows]
    table = RLTable(rows, colWidths=[TEXT_WIDTH * 0.32, TEXT_WIDTH * 0.68], hAlign="LEFT")
    table.setStyle(TableStyle(_GRID + [("BACKGROUND", (0, 0), (0, -1), colors.HexColor("#efefef"))]))
    return [table]


def _table(block: Table, fonts: PdfFonts, st: _Styles) -> _Flowables:
    m = fonts.markup
    header = [Paragraph(m(h), st["cell_h"]) for h in block.header]
    body = [
        [Paragraph(m(cell), st["cell_r" if i in block.right else "cell"]) for i, cell in enumerate(row)]
        for row in block.rows
    ]
    scale = TEXT_WIDTH / sum(block.widths)
    table = RLTable([header] + body, colWidths=[w * scale for w in block.widths], repeatRows=1, hAlign="LEFT")
    table.setStyle(TableStyle(_GRID + [("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#dcdcdc"))]))
    return [table, Spacer(1, 4)]


def _image(block: Image, fonts: PdfFonts, st: _Styles, out: _Flowables) -> _Flowables:
    img = RLImage(io.BytesIO(block.png), width=TEXT_WIDTH, height=TEXT_WIDTH * block.height_ratio)
    group = [img, Paragraph(fonts.markup(block.caption), st["caption"])]
    if out and isinstance(out[-1], _HeadingForImage):
        group.insert(0, out.pop().heading)  # never leave a heading alone at a page foot
    return [KeepTogether(group)]


_SIMPLE: dict[type, Callable[[Any, PdfFonts, _Styles], _Flowables]] = {
    Heading: lambda b, f, st: [_heading(b, f, st)],
    Para: lambda b, f, st: [Paragraph(f.markup(b.text), st.get(b.style, st["body"]))],
    KeyValues: _key_values,
    Table: _table,
    Bullets: lambda b, f, st: [Paragraph(f.markup(item), st["bullet"], bulletText="\u2022") for item in b.items],
    PageBreak: lambda b, f, st: [RLPageBreak()],
}


def _flowables(doc: Document, fonts: PdfFonts, st: _Styles) -> _Flowables:
    out: _Flowables = []
    blocks: list[Block] = doc.blocks
    for n, block in enumerate(blocks):
        if isinstance(block, Heading) and n + 1 < len(blocks) and isinstance(blocks[n + 1], Image):
            out.append(_HeadingForImage(_heading(block, fonts, st)))
        elif isinstance(block, Image):
            out.extend(_image(block, fonts, st, out))
        else:
            out.extend(_SIMPLE[type(block)](block, fonts, st))
    return out


def _numbered_canvas(doc: Document, fonts: PdfFonts, st: dict[str, ParagraphStyle], header: str, created: float) -> type:
    """A canvas class that knows the page count when drawing each footer."""

    class NumberedCanvas(rl_canvas.Canvas):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self._pages: list[dict[str, Any]] = []
            stamp = getattr(self._doc, "_timeStamp", None)
            if stamp is not None:  # creation date = generation time, not "now"
                stamp.t = created
                stamp.lt = time.gmtime(created)
                stamp.YMDhms = tuple(stamp.lt)[:6]
                stamp.dhh = stamp.dmm = 0
                stamp.tzname = "UTC"

        def showPage(self) -> None:  # noqa: N802 (reportlab API)
            self._pages.append(dict(self.__dict__))
            self._startPage()

        def save(self) -> None:
            total = len(self._pages)
            for number, state in enumerate(self._pages, start=1):
                self.__dict__.update(state)
                self._decorate(number, total)
                super().showPage()
            super().save()

        def _decorate(self, number: int, total: int) -> None:
            width = PAGE[0] - 2 * MARGIN_X
            self.saveState()
            self.setStrokeColor(colors.HexColor("#7a7a7a"))
            self.setLineWidth(0.4)
            y_line = MARGIN_BOTTOM - 5 * mm
            self.line(MARGIN_X, y_line, PAGE[0] - MARGIN_X, y_line)
            left = Paragraph(fonts.markup(doc.footer), st["footer"])
            _, h = left.wrap(width * 0.78, 20 * mm)
            left.drawOn(self, MARGIN_X, y_line - 2 - h)
            right = Paragraph(fonts.markup(label("page", doc.lang, n=number, total=total)), st["footer_r"])
            _, h2 = right.wrap(width * 0.2, 20 * mm)
            right.drawOn(self, PAGE[0] - MARGIN_X - width * 0.2, y_line - 2 - h2)
            if number > 1:
                top = Paragraph(fonts.markup(header), st["footer"])
                _, _h3 = top.wrap(width, 15 * mm)
                top.drawOn(self, MARGIN_X, PAGE[1] - MARGIN_TOP + 4 * mm)
                self.line(MARGIN_X, PAGE[1] - MARGIN_TOP + 3 * mm, PAGE[0] - MARGIN_X, PAGE[1] - MARGIN_TOP + 3 * mm)
            self.restoreState()

    return NumberedCanvas


def _needs_cjk(report: Report, lang: str) -> bool:
    if lang == "zh":
        return True
    text = json.dumps(report_to_json(report), ensure_ascii=False)
    return any(ord(ch) >= 0x2E80 for ch in text)


def render_pdf(
    report: Report,
    series: Mapping[str, TargetSeries],
    path: Path,
    *,
    lang: str,
    fonts: FontChoice | None = None,
    charts: Mapping[str, Mapping[str, bytes]] | None = None,
) -> list[str]:
    """Write report.pdf; return notes (English) about what could not be done as asked.

    ``charts``: PNGs from ``make_charts`` to reuse (drawn here when None).
    ``fonts``: from ``discover_fonts`` (discovered when None).
    """
    check_report(report)
    fonts = fonts or discover_fonts()
    pdf_fonts = PdfFonts(fonts, _needs_cjk(report, lang))
    if charts is None:
        charts = make_charts(report, series, lang, fonts=fonts)
    keys = font_notes(report, series, lang, has_cjk_chart_font=fonts.has_cjk, cid_fallback=pdf_fonts.cid_fallback)
    document = build_document(report, charts, lang, [label(k, lang, **v) for k, v in keys])
    st = _styles(pdf_fonts, lang)
    zone = display_zone(report)
    period, version, agent_id = report.period, report.agent.version, report.agent.id
    header = (
        f"{document.title} \u00b7 {fmt_time(period.start, zone).split(' (')[0]} \u2013 "
        f"{fmt_time(period.end, zone).split(' (')[0]}"
    )
    path = Path(path)
    template = BaseDocTemplate(
        str(path),
        pagesize=PAGE,
        leftMargin=MARGIN_X,
        rightMargin=MARGIN_X,
        topMargin=MARGIN_TOP,
        bottomMargin=MARGIN_BOTTOM,
        title=document.title,
        author=f"slaproof {version} agent {agent_id}",
        subject=f"{encode(period.start)} \u2013 {encode(period.end)}",
        creator=f"slaproof {version}",
        invariant=1,
        lang="zh-CN" if lang == "zh" else "en",
    )
    frame = Frame(MARGIN_X, MARGIN_BOTTOM, TEXT_WIDTH, PAGE[1] - MARGIN_TOP - MARGIN_BOTTOM, id="body", leftPadding=0, rightPadding=0, topPadding=0, bottomPadding=0)
    template.addPageTemplates([PageTemplate(id="page", frames=[frame])])
    created = report.generated_at.timestamp()
    template.build(_flowables(document, pdf_fonts, st), canvasmaker=_numbered_canvas(document, pdf_fonts, st, header, created))
    return [label(k, "en", **v) for k, v in keys]
