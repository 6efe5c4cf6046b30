"""report.html: one self-contained file (inline CSS, charts as inline SVG, no fetches), the same blocks as
the PDF in the same order, a table of contents, print CSS (A4), and a layout that reads at a phone's width.

Every text from the report (target names, error messages, evidence quoted
from a provider's HTTP answer) is untrusted: all of it goes through
html.escape, and a Content-Security-Policy forbids scripts and any load
that is not inline, as a second line of defence.
"""

from __future__ import annotations

import html
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

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
from reports.render.i18n import label
from reports.render.inputs import check_report
from reports.render.model import Report, TargetSeries
from reports.render.vector import Figure, to_svg

CSP = "default-src 'none'; img-src data:; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'"

CSS = """
:root { color-scheme: light; }
* { box-sizing: border-box; }
body { font-family: "DejaVu Sans", "Helvetica Neue", Arial, "Noto Sans CJK SC", "Source Han Sans SC",
       "WenQuanYi Micro Hei", "PingFang SC", "Microsoft YaHei", sans-serif;
       font-size: 14px; line-height: 1.45; color: #111; background: #fff; margin: 0; }
main { max-width: 980px; margin: 0 auto; padding: 20px 24px 8px; }
h1.title { font-size: 26px; margin: 4px 0 2px; }
p.subtitle { font-size: 14px; color: #333; margin: 0 0 14px; }
h2 { font-size: 21px; margin: 30px 0 10px; padding-bottom: 3px; border-bottom: 2px solid #333; }
h3 { font-size: 16px; margin: 20px 0 8px; }
h4 { font-size: 14px; margin: 18px 0 6px; }
p.small, p.quote { font-size: 12.5px; color: #222; }
p.quote { margin-left: 12px; }
p, li, h1, h2, h3, h4, figcaption { overflow-wrap: anywhere; }
table { border-collapse: collapse; width: 100%; margin: 6px 0 12px; font-size: 12.5px; table-layout: fixed; }
th, td { border: 1px solid #7a7a7a; padding: 3px 6px; vertical-align: top; text-align: left; overflow-wrap: anywhere; }
thead th { background: #dcdcdc; }
tr.marked td { background: #fff3b0; }
table.kv th { background: #efefef; font-weight: bold; }
td.r { text-align: right; }
figure { margin: 10px 0 18px; break-inside: avoid; }
figure svg { display: block; width: 100%; height: auto; border: 1px solid #ccc; background: #fff; }
figcaption { font-size: 12px; color: #333; margin-top: 3px; }
.callout { border-left: 6px solid; padding: 6px 12px; margin: 8px 0 10px; break-inside: avoid; }
.callout p { margin: 2px 0; }
.callout .verdict { font-size: 18px; font-weight: bold; }
.callout.good { background: #e3f1e6; border-color: #1a6b32; } .callout.good .verdict { color: #1a6b32; }
.callout.bad { background: #fbe3e1; border-color: #a1231a; } .callout.bad .verdict { color: #a1231a; }
.callout.unknown { background: #fdf1d2; border-color: #7a5a00; } .callout.unknown .verdict { color: #7a5a00; }
.callout.neutral { background: #ececec; border-color: #444; } .callout.neutral .verdict { color: #444; }
nav.toc { font-size: 13.5px; margin: 8px 0 16px; }
nav.toc ol { margin: 4px 0; padding-left: 22px; }
nav.toc ol ol { font-size: 12.5px; }
section.card { border-top: 1px solid #999; margin-top: 14px; break-inside: avoid; }
footer { max-width: 980px; margin: 0 auto; padding: 10px 24px 30px; font-size: 12px; color: #333;
         border-top: 1px solid #7a7a7a; overflow-wrap: anywhere; }
@media (max-width: 640px) {
  main { padding: 12px 10px 8px; }
  footer { padding: 10px 10px 24px; }
  body { font-size: 15px; }
  h1.title { font-size: 22px; }
  h2 { font-size: 19px; }
  table { font-size: 12px; }
  th, td { padding: 2px 3px; }
  table.kv, table.kv tbody, table.kv tr, table.kv th, table.kv td { display: block; width: auto !important; }
  table.kv th { border-bottom: none; }
  table.kv tr { margin-bottom: 4px; }
}
@page { size: A4; margin: 16mm 18mm 20mm; }
@media print {
  body { font-size: 9.5pt; }
  main { max-width: none; padding: 0; }
  .page-break { break-before: page; }
  h2, h3, h4 { break-after: avoid; }
  thead { display: table-header-group; }
  tr, figure, .callout { break-inside: avoid; }
  .callout, tr.marked td, thead th, table.kv th { -webkit-print-color-adjust: exact; print-color-adjust: exact; }
  a { color: inherit; text-decoration: none; }
  footer { max-width: none; padding: 8px 0 0; }
}
"""

TONE_MARK = {"good": "\u2714 ", "bad": "\u2718 ", "unknown": "? ", "neutral": ""}


def esc(text: Any) -> str:
    """Escape for element content and attribute values; "\\n" becomes <br>."""
    return "<br>".join(html.escape(str(line), quote=True) for line in str(text).split("\n"))


def _heading(block: Heading) -> str:
    tag = {1: "h2", 2: "h3"}.get(block.level, "h4")
    anchor = f' id="{esc(block.anchor)}"' if block.anchor else ""
    return f"<{tag}{anchor}>{esc(block.text)}</{tag}>"


def _para(block: Para) -> str:
    if block.style == "title":
        return f'<h1 class="title">{esc(block.text)}</h1>'
    return f'<p class="{esc(block.style)}">{esc(block.text)}</p>'


def _key_values(block: KeyValues) -> str:
    if not block.rows:
        return ""
    width = f"{100 * block.key_width:.0f}%"
    rows = "".join(f'<tr><th scope="row" style="width:{width}">{esc(k)}</th><td>{esc(v)}</td></tr>' for k, v in block.rows)
    return f'<table class="kv{" compact" if block.compact else ""}"><tbody>{rows}</tbody></table>'


def _table(block: Table) -> str:
    total = sum(block.widths) or 1.0
    cols = "".join(f'<col style="width:{100 * w / total:.1f}%">' for w in block.widths)
    head = "".join(f'<th scope="col">{esc(h)}</th>' for h in block.header)
    body = "".join(
        ('<tr class="marked">' if n in block.marked else "<tr>") + "".join(
            f'<td class="r">{esc(c)}</td>' if i in block.right else f"<td>{esc(c)}</td>" for i, c in enumerate(row)
        ) + "</tr>"
        for n, row in enumerate(block.rows)
    )
    cls = ' class="compact"' if block.compact else ""
    return f"<table{cls}><colgroup>{cols}</colgroup><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _chart(block: Chart) -> str:
    return f"<figure>{to_svg(block.figure)}<figcaption>{esc(block.caption)}</figcaption></figure>"


def _callout(block: Callout) -> str:
    return (f'<div class="callout {esc(block.tone)}"><p class="verdict">{esc(TONE_MARK[block.tone] + block.title)}</p>'
            f"<p>{esc(block.text)}</p></div>")


def _contents(block: Contents) -> str:
    """Section links, level-2 entries nested under their section."""
    out, open_sub = [f'<nav class="toc" aria-label="{esc(block.title)}"><h2 id="contents">{esc(block.title)}</h2><ol>'], False
    for n, (anchor, text, level) in enumerate(block.entries):
        link = f'<a href="#{esc(anchor)}">{esc(text)}</a>'
        if level <= 1:
            if open_sub:
                out.append("</ol></li>")
                open_sub = False
            elif n:
                out.append("</li>")
            out.append(f"<li>{link}")
        else:
            if not open_sub:
                out.append("<ol>")
                open_sub = True
            out.append(f"<li>{link}</li>")
    out.append("</ol></li>" if open_sub else "</li>" if block.entries else "")
    out.append("</ol></nav>")
    return "".join(out)


_BLOCKS: dict[type, Callable[[Any], str]] = {
    Heading: _heading,
    Para: _para,
    KeyValues: _key_values,
    Table: _table,
    Chart: _chart,
    Callout: _callout,
    Contents: _contents,
    Bullets: lambda b: "<ul>" + "".join(f"<li>{esc(item)}</li>" for item in b.items) + "</ul>",
    PageBreak: lambda b: '<div class="page-break"></div>',
    Group: lambda b: '<section class="card">' + "\n".join(_block(x) for x in b.blocks) + "</section>",
}


def _block(block: Block) -> str:
    return _BLOCKS[type(block)](block)


def html_document(doc: Document, version: str) -> str:
    """The complete HTML text for a built document."""
    lang_attr = "zh-CN" if doc.lang == "zh" else "en"
    return (
        "<!DOCTYPE html>\n"
        f'<html lang="{lang_attr}">\n<head>\n<meta charset="utf-8">\n'
        f'<meta http-equiv="Content-Security-Policy" content="{CSP}">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f'<meta name="generator" content="slaproof {esc(version)}">\n'
        f"<title>{esc(doc.title)}</title>\n<style>{CSS}</style>\n</head>\n<body>\n<main>\n"
        + "\n".join(_block(b) for b in doc.blocks)
        + f"\n</main>\n<footer>{esc(doc.footer)}</footer>\n</body>\n</html>\n"
    )


def render_html(
    report: Report,
    series: Mapping[str, TargetSeries],
    path: Path,
    *,
    lang: str,
    charts: Mapping[str, Mapping[str, Figure]] | None = None,
    files: Sequence[str] = BUNDLE_FILES,
) -> list[str]:
    """Write report.html (UTF-8); return notes (English) about what could not be done as asked.

    ``charts``: figures from ``make_charts`` to reuse (drawn here when None); ``files``: the bundle's files.
    """
    check_report(report)
    if charts is None:
        charts = make_charts(report, series, lang)
    keys = font_notes(report, series, lang)
    document = build_document(report, charts, lang, [label(k, lang, **v) for k, v in keys], files)
    text = html_document(document, report.agent.version)
    Path(path).write_text(text, encoding="utf-8")
    return [label(k, "en", **v) for k, v in keys]
