"""Charts as vector geometry: one figure, drawn into the PDF (vector_pdf.py) and into the HTML (inline SVG).

A chart is a list of primitives in PDF points with the origin at the top left (as SVG has it);
the two backends draw the same list, so the PDF and the HTML show the same picture, crisp on
paper at any zoom, without a raster step. Hatching is geometry too (lines clipped to their box),
so a chart keeps its meaning printed in greyscale.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from html import escape

Point = tuple[float, float]


@dataclass(frozen=True, slots=True)
class Rect:
    x: float
    y: float
    w: float
    h: float
    fill: str | None
    stroke: str | None = None
    width: float = 0.5
    dash: tuple[float, ...] = ()


@dataclass(frozen=True, slots=True)
class Poly:
    """A closed polygon (filled) or, with ``fill`` None, an open polyline (stroked)."""

    points: tuple[Point, ...]
    fill: str | None
    stroke: str | None = None
    width: float = 0.5
    dash: tuple[float, ...] = ()


@dataclass(frozen=True, slots=True)
class Line:
    x1: float
    y1: float
    x2: float
    y2: float
    stroke: str
    width: float = 0.5
    dash: tuple[float, ...] = ()


@dataclass(frozen=True, slots=True)
class Text:
    x: float
    y: float  # the baseline
    text: str
    size: float = 6.5
    anchor: str = "start"  # start | middle | end
    fill: str = "#000000"
    bold: bool = False
    angle: float = 0.0  # degrees, counter-clockwise about (x, y)


Shape = Rect | Poly | Line | Text


@dataclass
class Figure:
    width: float
    height: float
    title: str = ""
    shapes: list[Shape] = field(default_factory=list)

    def add(self, *shapes: Shape) -> None:
        self.shapes.extend(shapes)


def text_width(text: str, size: float) -> float:
    """A text's width in points, estimated (DejaVu Sans averages ~0.55 em; CJK glyphs are 1 em)."""
    return sum(size if ord(ch) >= 0x2E80 else size * 0.56 for ch in text)


def hatch(x: float, y: float, w: float, h: float, pattern: str, colour: str, step: float = 3.0,
          width: float = 0.45) -> list[Shape]:
    """Lines filling a box: "/" and "\\\\" diagonals, "x" both, "-" horizontal, "|" vertical, "." dots."""
    out: list[Shape] = []
    if w <= 0 or h <= 0:
        return out
    if "." in pattern:
        yy = y + step / 2
        while yy < y + h:
            xx = x + step / 2
            while xx < x + w:
                out.append(Rect(xx - 0.4, yy - 0.4, 0.8, 0.8, colour))
                xx += step
            yy += step
    if "-" in pattern:
        yy = y + step / 2
        while yy < y + h:
            out.append(Line(x, yy, x + w, yy, colour, width))
            yy += step
    if "|" in pattern:
        xx = x + step / 2
        while xx < x + w:
            out.append(Line(xx, y, xx, y + h, colour, width))
            xx += step
    for sign in [s for s, c in ((1, "/"), (-1, "\\")) if c in pattern or "x" in pattern]:
        out += _diagonals(x, y, w, h, sign, colour, step * 1.4, width)
    return out


def _diagonals(x: float, y: float, w: float, h: float, sign: int, colour: str, step: float, width: float) -> list[Shape]:
    """45° lines clipped to the box (sign 1: rising to the right)."""
    out: list[Shape] = []
    c = -h
    while c < w:
        # the line x' = c + t, y' = t (t along the height), clipped to [0, w] × [0, h]
        t0, t1 = max(0.0, -c), min(h, w - c)
        if t1 > t0:
            ya, yb = (y + h - t0, y + h - t1) if sign > 0 else (y + t0, y + t1)
            out.append(Line(x + c + t0, ya, x + c + t1, yb, colour, width))
        c += step
    return out


# -- SVG -------------------------------------------------------------------------------------
def _n(v: float) -> str:
    return f"{v:.1f}".rstrip("0").rstrip(".") if abs(v) < 1e7 else "0"


def _dash(d: tuple[float, ...]) -> str:
    return f' stroke-dasharray="{" ".join(_n(x) for x in d)}"' if d else ""


def _svg_shape(s: Shape) -> str:
    if isinstance(s, Rect):
        stroke = f' stroke="{s.stroke}" stroke-width="{_n(s.width)}"{_dash(s.dash)}' if s.stroke else ""
        return f'<rect x="{_n(s.x)}" y="{_n(s.y)}" width="{_n(s.w)}" height="{_n(s.h)}" fill="{s.fill or "none"}"{stroke}/>'
    if isinstance(s, Poly):
        pts = " ".join(f"{_n(x)},{_n(y)}" for x, y in s.points)
        stroke = f' stroke="{s.stroke}" stroke-width="{_n(s.width)}"{_dash(s.dash)}' if s.stroke else ""
        tag = "polygon" if s.fill else "polyline"
        return f'<{tag} points="{pts}" fill="{s.fill or "none"}"{stroke}/>'
    if isinstance(s, Line):
        return (f'<line x1="{_n(s.x1)}" y1="{_n(s.y1)}" x2="{_n(s.x2)}" y2="{_n(s.y2)}" stroke="{s.stroke}" '
                f'stroke-width="{_n(s.width)}"{_dash(s.dash)}/>')
    rot = f' transform="rotate({_n(-s.angle)} {_n(s.x)} {_n(s.y)})"' if s.angle else ""
    weight = ' font-weight="bold"' if s.bold else ""
    return (f'<text x="{_n(s.x)}" y="{_n(s.y)}" font-size="{_n(s.size)}" text-anchor="{s.anchor}" fill="{s.fill}"'
            f"{weight}{rot}>{escape(s.text)}</text>")


def to_svg(fig: Figure) -> str:
    """The figure as one inline <svg> element (scales to its container's width); every text escaped."""
    head = (f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {_n(fig.width)} {_n(fig.height)}" '
            f'role="img" aria-label="{escape(fig.title)}" class="chart" preserveAspectRatio="xMinYMin meet">')
    title = f"<title>{escape(fig.title)}</title>" if fig.title else ""
    return head + title + "".join(_svg_shape(s) for s in fig.shapes) + "</svg>"
