"""report.html: one self-contained file (inline CSS, charts as data: URIs, no fetches).

Every text from the report (target names, error messages, evidence quoted
from a provider's HTTP answer) is untrusted: all of it goes through
html.escape, and a Content-Security-Policy forbids scripts and any load
that is not inline, as a second line of defence.
"""

from __future__ import annotations

import base64
import html
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from reports.render.blocks import Block, Bullets, Document, Heading, Image, KeyValues, PageBreak, Para, Table
from reports.render.charts import make_charts
from reports.render.content import build_document, font_notes
from reports.render.fonts import FontChoice, discover_fonts
from reports.render.i18n import label
from reports.render.inputs import check_report
from reports.render.model import Report, TargetSeries

CSP = "default-src 'none'; img-src data:; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'"

CSS = """
:root { color-scheme: light; }
body { font-family: "DejaVu Sans", "Helvetica Neue", Arial, "Noto Sans CJK SC", "Source Han Sans SC",
       "WenQuanYi Micro Hei", "PingFang SC", "Microsoft YaHei", sans-serif;
       font-size: 14px; line-height: 1.45; color: #111; background: #fff; margin: 0; }
main { max-width: 980px; margin: 0 auto; padding: 24px 28px 8px; }
h1.title { font-size: 28px; margin: 8px 0 4px; }
p.subtitle { font-size: 16px; color: #333; margin: 0 0 20px; }
h2 { font-size: 21px; margin: 30px 0 10px; padding-bottom: 3px; border-bottom: 2px solid #333; }
h3 { font-size: 16px; margin: 20px 0 8px; }
p.small { font-size: 12.5px; color: #222; }
table { border-collapse: collapse; width: 100%; margin: 6px 0 12px; font-size: 12.5px; }
th, td { border: 1px solid #7a7a7a; padding: 3px 6px; vertical-align: top; text-align: left;
         overflow-wrap: anywhere; }
thead th { background: #dcdcdc; }
table.kv th { background: #efefef; width: 32%; font-weight: bold; }
td.r { text-align: right; white-space: nowrap; }
figure { margin: 10px 0 18px; break-inside: avoid; }
figure img { width: 100%; height: auto; border: 1px solid #ccc; }
figcaption { font-size: 12px; color: #333; margin-top: 3px; }
nav { font-size: 13px; margin: 10px 0 16px; }
nav a { margin-right: 14px; }
footer { max-width: 980px; margin: 0 auto; padding: 10px 28px 30px; font-size: 12px; color: #333;
         border-top: 1px solid #7a7a7a; }
@media print {
  body { font-size: 10pt; }
  main { max-width: none; padding: 0; }
  .page-break { break-before: page; }
  nav { display: none; }
  thead { display: table-header-group; }
  tr { break-inside: avoid; }
}
"""


def esc(text: Any) -> str:
    """Escape for element content and attribute values; "\\n" becomes <br>."""
    return "<br>".join(html.escape(str(line), quote=True) for line in str(text).split("\n"))


def _heading(block: Heading) -> str:
    tag = "h2" if block.level == 1 else "h3"
    anchor = f' id="{esc(block.anchor)}"' if block.anchor else ""
    return f"<{tag}{anchor}>{esc(block.text)}</{tag}>"


def _para(block: Para) -> str:
    if block.style == "title":
        return f'<h1 class="title">{esc(block.text)}</h1>'
    return f'<p class="{esc(block.style)}">{esc(block.text)}</p>'


def _key_values(block: KeyValues) -> str:
    rows = "".join(f'<tr><th scope="row">{esc(k)}</th><td>{esc(v)}</td></tr>' for k, v in block.rows)
    return f'<table class="kv"><tbody>{rows}</tbody></table>'


def _table(block: Table) -> str:
    total = sum(block.widths) or 1.0
    cols = "".join(f'<col style="width:{100 * w / total:.1f}%">' for w in block.widths)
    head = "".join(f'<th scope="col">{esc(h)}</th>' for h in block.header)
    body = "".join(
        "<tr>" + "".join(
            f'<td class="r">{esc(c)}</td>' if i in block.right else f"<td>{esc(c)}</td>" for i, c in enumerate(row)
        ) + "</tr>"
        for row in block.rows
    )
    return f"<table><colgroup>{cols}</colgroup><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _image(block: Image) -> str:
    data = base64.b64encode(block.png).decode("ascii")
    return (
        f'<figure><img src="data:image/png;base64,{data}" alt="{esc(block.alt)}">'
        f"<figcaption>{esc(block.caption)}</figcaption></figure>"
    )


_BLOCKS: dict[type, Callable[[Any], str]] = {
    Heading: _heading,
    Para: _para,
    KeyValues: _key_values,
    Table: _table,
    Image: _image,
    Bullets: lambda b: "<ul>" + "".join(f"<li>{esc(item)}</li>" for item in b.items) + "</ul>",
    PageBreak: lambda b: '<div class="page-break"></div>',
}


def _block(block: Block) -> str:
    return _BLOCKS[type(block)](block)


def _nav(doc: Document) -> str:
    links = [
        f'<a href="#{esc(b.anchor)}">{esc(b.text)}</a>'
        for b in doc.blocks
        if isinstance(b, Heading) and b.level == 1 and b.anchor
    ]
    return f"<nav>{''.join(links)}</nav>" if links else ""


def html_document(doc: Document, version: str) -> str:
    """The complete HTML text for a built document."""
    blocks = doc.blocks
    # The navigation goes after the title and subtitle.
    head_blocks = [b for b in blocks[:2] if isinstance(b, Para) and b.style in ("title", "subtitle")]
    parts = [_block(b) for b in head_blocks] + [_nav(doc)] + [_block(b) for b in blocks[len(head_blocks):]]
    lang_attr = "zh-CN" if doc.lang == "zh" else "en"
    return (
        "<!DOCTYPE html>\n"
        f'<html lang="{lang_attr}">\n<head>\n<meta charset="utf-8">\n'
        f'<meta http-equiv="Content-Security-Policy" content="{CSP}">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f'<meta name="generator" content="slaproof {esc(version)}">\n'
        f"<title>{esc(doc.title)}</title>\n<style>{CSS}</style>\n</head>\n<body>\n<main>\n"
        + "\n".join(parts)
        + f"\n</main>\n<footer>{esc(doc.footer)}</footer>\n</body>\n</html>\n"
    )


def render_html(
    report: Report,
    series: Mapping[str, TargetSeries],
    path: Path,
    *,
    lang: str,
    fonts: FontChoice | None = None,
    charts: Mapping[str, Mapping[str, bytes]] | None = None,
) -> list[str]:
    """Write report.html (UTF-8); return notes (English) about what could not be done as asked.

    ``charts``: PNGs from ``make_charts`` to reuse (drawn here when None).
    """
    check_report(report)
    fonts = fonts or discover_fonts()
    if charts is None:
        charts = make_charts(report, series, lang, fonts=fonts)
    keys = font_notes(report, series, lang, has_cjk_chart_font=fonts.has_cjk)
    document = build_document(report, charts, lang, [label(k, lang, **v) for k, v in keys])
    text = html_document(document, report.agent.version)
    Path(path).write_text(text, encoding="utf-8")
    return [label(k, "en", **v) for k, v in keys]
