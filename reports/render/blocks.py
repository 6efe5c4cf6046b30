"""The blocks a report is made of (headings, paragraphs, tables, charts …), shared by the PDF and
HTML renderers, so both say the same thing in the same order. Texts are plain, unescaped strings
("\\n" = line break): each renderer escapes them for its own markup."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from reports.render.vector import Figure

Tone = Literal["good", "bad", "unknown", "neutral"]


@dataclass(frozen=True, slots=True)
class Heading:
    text: str
    level: int  # 1 section, 2 subsection, 3 a card's title
    anchor: str = ""  # an id to link to (sections listed in the contents have one)


@dataclass(frozen=True, slots=True)
class Para:
    text: str
    style: str = "body"  # "title", "subtitle", "body", "small", "caption", "quote"


@dataclass(frozen=True, slots=True)
class KeyValues:
    rows: list[tuple[str, str]]
    key_width: float = 0.32  # share of the width the keys take
    compact: bool = False  # smaller type (page 1)


@dataclass(frozen=True, slots=True)
class Table:
    header: list[str]
    rows: list[list[str]]
    widths: list[float]  # relative widths
    right: frozenset[int] = frozenset()  # columns aligned right (figures)
    marked: frozenset[int] = frozenset()  # rows shown emphasised (the tier that applies …)
    compact: bool = False  # smaller type (page 1)


@dataclass(frozen=True, slots=True)
class Chart:
    figure: Figure
    caption: str


@dataclass(frozen=True, slots=True)
class Callout:
    """A verdict in words and colour: a title line and a sentence under it."""

    title: str
    text: str
    tone: Tone


@dataclass(frozen=True, slots=True)
class Contents:
    """The table of contents: (anchor, text, level) of the sections that follow."""

    title: str
    entries: list[tuple[str, str, int]]


@dataclass(frozen=True, slots=True)
class Bullets:
    items: list[str]


@dataclass(frozen=True, slots=True)
class PageBreak:
    pass


@dataclass(frozen=True, slots=True)
class Group:
    """Blocks kept together on one page where they fit (an incident card)."""

    blocks: list[Block]


Block = Heading | Para | KeyValues | Table | Chart | Callout | Contents | Bullets | PageBreak | Group


@dataclass(frozen=True, slots=True)
class Document:
    title: str
    lang: str
    blocks: list[Block]
    footer: str  # printed on every PDF page, at the end of the HTML
    notes: list[str] = field(default_factory=list)
