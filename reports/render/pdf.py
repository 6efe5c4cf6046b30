"""report.pdf with reportlab: A4, embedded fonts, page numbers and a footer on every page.

Fonts are embedded (DejaVu Sans for Latin, a CJK TrueType face for Chinese)
so the PDF looks the same on the recipient's machine and its text can be
extracted and searched. Characters the Latin font lacks are switched to the
CJK font run by run, so a Chinese target name in an English report still
prints. The output is deterministic: the same report gives the same bytes,
and the PDF's creation date is the report's generation time.
"""

from __future__ import annotations

import json
import time
import zlib
from collections.abc import Callable, Mapping, Sequence
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
    Flowable,
    Frame,
    KeepTogether,
    PageTemplate,
    Paragraph,
    Spacer,
    TableStyle,
)
from reportlab.platypus import PageBreak as RLPageBreak
from reportlab.platypus import Table as RLTable

from reports.render.blocks import (
    Block,
    Bullets,
    Callout,
    Chart,
    Contents,
    Document,
    Group,
    Heading,
    KeyValues,
    PageBreak,
    Para,
    Table,
)
from reports.render.charts import make_charts
from reports.render.content import BUNDLE_FILES, build_document, font_notes
from reports.render.fonts import FontChoice, discover_fonts
from reports.render.i18n import fmt_time, label
from reports.render.inputs import check_report, display_zone
from reports.render.model import Report, TargetSeries
from reports.render.model_json import encode, report_to_json
from reports.render.vector import Figure
from reports.render.vector_pdf import FigureFlowable

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

    def font_for(self, text: str, bold: bool = False) -> str:
        """The font a chart's text is set in: the CJK face when any character needs it."""
        if self.cjk is not None and any(self._fallback(ch) for ch in text):
            return self.cjk
        return self.bold if bold else self.base

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


TONES = {"good": ("#e3f1e6", "#1a6b32"), "bad": ("#fbe3e1", "#a1231a"), "unknown": ("#fdf1d2", "#7a5a00"),
         "neutral": ("#ececec", "#444444")}
TONE_MARK = {"good": "\u2714 ", "bad": "\u2718 ", "unknown": "? ", "neutral": ""}


def _styles(fonts: PdfFonts, lang: str) -> dict[str, ParagraphStyle]:
    wrap = "CJK" if lang == "zh" else None
    common: dict[str, Any] = {"fontName": fonts.base, "wordWrap": wrap, "splitLongWords": 1}
    grey = colors.HexColor("#333333")
    return {
        "title": ParagraphStyle("title", fontName=fonts.bold, fontSize=16, leading=19, spaceAfter=2, wordWrap=wrap),
        "subtitle": ParagraphStyle("subtitle", fontSize=8.5, leading=11, spaceAfter=3, textColor=grey, **common),
        "h1": ParagraphStyle("h1", fontName=fonts.bold, fontSize=14, leading=18, spaceBefore=6, spaceAfter=6, keepWithNext=1, wordWrap=wrap, splitLongWords=1),
        "h2": ParagraphStyle("h2", fontName=fonts.bold, fontSize=11, leading=14, spaceBefore=9, spaceAfter=4, keepWithNext=1, wordWrap=wrap),
        "h3": ParagraphStyle("h3", fontName=fonts.bold, fontSize=9.5, leading=12, spaceBefore=10, spaceAfter=3, keepWithNext=1, wordWrap=wrap),
        "body": ParagraphStyle("body", fontSize=9, leading=12.5, spaceAfter=5, **common),
        "small": ParagraphStyle("small", fontSize=8, leading=10.5, spaceBefore=3, spaceAfter=4, textColor=colors.HexColor("#222222"), **common),
        "quote": ParagraphStyle("quote", fontSize=8, leading=10.5, leftIndent=8, textColor=colors.HexColor("#222222"), **common),
        "caption": ParagraphStyle("caption", fontSize=7.5, leading=9.5, spaceBefore=1, spaceAfter=8, textColor=grey, **common),
        "cell": ParagraphStyle("cell", fontSize=7.5, leading=9.2, **common),
        "cell_r": ParagraphStyle("cell_r", fontSize=7.5, leading=9.2, alignment=TA_RIGHT, **common),
        "cell_h": ParagraphStyle("cell_h", fontName=fonts.bold, fontSize=7.5, leading=9.2, wordWrap=wrap),
        "key": ParagraphStyle("key", fontName=fonts.base if lang == "zh" else fonts.bold, fontSize=8, leading=10.5, wordWrap=wrap),
        "val": ParagraphStyle("val", fontSize=8, leading=10.5, **common),
        "key_c": ParagraphStyle("key_c", fontName=fonts.base if lang == "zh" else fonts.bold, fontSize=7.3, leading=8.8, wordWrap=wrap),
        "val_c": ParagraphStyle("val_c", fontSize=7.3, leading=8.8, **common),
        "cell_c": ParagraphStyle("cell_c", fontSize=7, leading=8.4, **common),
        "cell_hc": ParagraphStyle("cell_hc", fontName=fonts.bold, fontSize=7, leading=8.4, wordWrap=wrap),
        "bullet": ParagraphStyle("bullet", fontSize=8.5, leading=11, leftIndent=10, bulletIndent=0, spaceAfter=3, **common),
        "toc1": ParagraphStyle("toc1", fontSize=9, leading=13, **common),
        "toc2": ParagraphStyle("toc2", fontSize=8, leading=11, leftIndent=14, textColor=grey, **common),
        "callout_t": ParagraphStyle("callout_t", fontName=fonts.bold, fontSize=11.5, leading=14, wordWrap=wrap),
        "callout": ParagraphStyle("callout", fontSize=8.3, leading=10.5, **common),
        "footer": ParagraphStyle("footer", fontSize=7, leading=8.5, textColor=grey, **common),
        "footer_r": ParagraphStyle("footer_r", fontSize=7, leading=8.5, alignment=TA_RIGHT, textColor=grey, **common),
    }


class _Anchor(Flowable):
    """A zero-size mark where a section starts: a link target and an entry of the PDF's outline."""

    def __init__(self, key: str, title: str, level: int) -> None:
        super().__init__()
        self.key, self.title, self.level = key, title, level
        self.width = self.height = 0

    def draw(self) -> None:
        self.canv.bookmarkPage(self.key)
        if self.level <= 2:
            # an outline level may rise by one at most (a subsection before any section sits at the top)
            level = min(self.level - 1, getattr(self.canv, "_outline_level", -1) + 1)
            self.canv._outline_level = level
            self.canv.addOutlineEntry(self.title, self.key, level=level, closed=level > 0)


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


def _heading(block: Heading, fonts: PdfFonts, st: _Styles) -> _Flowables:
    style = st[{1: "h1", 2: "h2"}.get(block.level, "h3")]
    para = Paragraph(fonts.markup(block.text), style)
    if not block.anchor:
        return [para]
    return [_Anchor(block.anchor, block.text, block.level), para]


def _key_values(block: KeyValues, fonts: PdfFonts, st: _Styles) -> _Flowables:
    m = fonts.markup
    key, val = ("key_c", "val_c") if block.compact else ("key", "val")
    rows = [[Paragraph(m(k), st[key]), Paragraph(m(v), st[val])] for k, v in block.rows]
    if not rows:
        return []
    table = RLTable(rows, colWidths=[TEXT_WIDTH * block.key_width, TEXT_WIDTH * (1 - block.key_width)], hAlign="LEFT")
    tight = [("TOPPADDING", (0, 0), (-1, -1), 1), ("BOTTOMPADDING", (0, 0), (-1, -1), 2)] if block.compact else []
    table.setStyle(TableStyle(_GRID + tight + [("BACKGROUND", (0, 0), (0, -1), colors.HexColor("#efefef"))]))
    return [table, Spacer(1, 3)]


def _table(block: Table, fonts: PdfFonts, st: _Styles) -> _Flowables:
    m = fonts.markup
    head_style, cell_style = ("cell_hc", "cell_c") if block.compact else ("cell_h", "cell")
    header = [Paragraph(m(h), st[head_style]) for h in block.header]
    body = [
        [Paragraph(m(cell), st["cell_r" if i in block.right else cell_style]) for i, cell in enumerate(row)]
        for row in block.rows
    ]
    scale = TEXT_WIDTH / sum(block.widths)
    table = RLTable([header] + body, colWidths=[w * scale for w in block.widths], repeatRows=1, hAlign="LEFT")
    style = _GRID + [("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#dcdcdc"))]
    style += [("BACKGROUND", (0, r + 1), (-1, r + 1), colors.HexColor("#fff3b0")) for r in block.marked]
    if block.compact:
        style += [("TOPPADDING", (0, 0), (-1, -1), 1), ("BOTTOMPADDING", (0, 0), (-1, -1), 2)]
    table.setStyle(TableStyle(style))
    return [table, Spacer(1, 4)]


def _drawing(fig: Figure, fonts: PdfFonts) -> Any:
    return FigureFlowable(fig, fonts.font_for, scale=TEXT_WIDTH / fig.width)


def _chart(block: Chart, fonts: PdfFonts, st: _Styles) -> _Flowables:
    return [KeepTogether(_chart_parts(block, fonts, st))]


def _chart_parts(block: Chart, fonts: PdfFonts, st: _Styles) -> _Flowables:
    return [_drawing(block.figure, fonts), Paragraph(fonts.markup(block.caption), st["caption"])]


def _flat(flowables: _Flowables) -> _Flowables:
    """KeepTogether's content in place: reportlab measures a KeepTogether inside another one too tall."""
    out: _Flowables = []
    for f in flowables:
        out += _flat(f._content) if isinstance(f, KeepTogether) else [f]
    return out


def _callout(block: Callout, fonts: PdfFonts, st: _Styles) -> _Flowables:
    bg, ink = TONES[block.tone]
    title = Paragraph(f'<font color="{ink}">{fonts.markup(TONE_MARK[block.tone] + block.title)}</font>', st["callout_t"])
    table = RLTable([[title], [Paragraph(fonts.markup(block.text), st["callout"])]], colWidths=[TEXT_WIDTH], hAlign="LEFT")
    table.setStyle(TableStyle([("BACKGROUND", (0, 0), (-1, -1), colors.HexColor(bg)),
                               ("LINEBEFORE", (0, 0), (0, -1), 3, colors.HexColor(ink)),
                               ("LEFTPADDING", (0, 0), (-1, -1), 7), ("TOPPADDING", (0, 0), (-1, -1), 3),
                               ("BOTTOMPADDING", (0, 0), (-1, -1), 3)]))
    return [table, Spacer(1, 4)]


def _contents(block: Contents, fonts: PdfFonts, st: _Styles) -> _Flowables:
    out: _Flowables = [Paragraph(fonts.markup(block.title), st["h1"])]
    for anchor, text, level in block.entries:
        out.append(Paragraph(f'<a href="#{escape(anchor, {chr(34): "&quot;"})}">{fonts.markup(text)}</a>',
                             st["toc1" if level <= 1 else "toc2"]))
    return out


_SIMPLE: dict[type, Callable[[Any, PdfFonts, _Styles], _Flowables]] = {
    Heading: _heading,
    Para: lambda b, f, st: [Paragraph(f.markup(b.text), st.get(b.style, st["body"]))],
    KeyValues: _key_values,
    Table: _table,
    Chart: _chart,
    Callout: _callout,
    Contents: _contents,
    Bullets: lambda b, f, st: [Paragraph(f.markup(item), st["bullet"], bulletText="\u2022") for item in b.items],
    PageBreak: lambda b, f, st: [RLPageBreak()],
}


def _flowables(blocks: list[Block], fonts: PdfFonts, st: _Styles) -> _Flowables:
    out: _Flowables = []
    for n, block in enumerate(blocks):
        if isinstance(block, Group):
            out.append(KeepTogether(_flat(_flowables(block.blocks, fonts, st))))
        elif isinstance(block, Heading) and n + 1 < len(blocks) and isinstance(blocks[n + 1], Chart):
            chart = blocks[n + 1]
            assert isinstance(chart, Chart)
            out.append(KeepTogether(_heading(block, fonts, st) + _chart_parts(chart, fonts, st)))
        elif isinstance(block, Chart) and n and isinstance(blocks[n - 1], Heading):
            continue  # drawn with its heading
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
    charts: Mapping[str, Mapping[str, Figure]] | None = None,
    files: Sequence[str] = BUNDLE_FILES,
) -> list[str]:
    """Write report.pdf; return notes (English) about what could not be done as asked.

    ``charts``: figures from ``make_charts`` to reuse (drawn here when None); ``files``: the
    bundle's files, which the claim page and the evidence checklist name.
    ``fonts``: from ``discover_fonts`` (discovered when None).
    """
    check_report(report)
    fonts = fonts or discover_fonts()
    pdf_fonts = PdfFonts(fonts, _needs_cjk(report, lang))
    if charts is None:
        charts = make_charts(report, series, lang)
    keys = font_notes(report, series, lang, cid_fallback=pdf_fonts.cid_fallback)
    document = build_document(report, charts, lang, [label(k, lang, **v) for k, v in keys], files)
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
    template.build(_flowables(document.blocks, pdf_fonts, st), canvasmaker=_numbered_canvas(document, pdf_fonts, st, header, created))
    return [label(k, "en", **v) for k, v in keys]
