"""The blocks a report is made of (headings, paragraphs, tables, images …), shared by the PDF
and HTML renderers. Texts are plain, unescaped strings ("\\n" = line break): each renderer
escapes them for its own markup."""

from __future__ import annotations

from dataclasses import dataclass, field


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
