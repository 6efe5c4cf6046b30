"""A vector figure drawn into the PDF as one flowable: its geometry written as PDF path operators.

Why not reportlab's graphics shapes: a month's SmokePing chart and the incident cards are tens of
thousands of points, and a shape object per line with attribute validation and a renderer
dispatch per node cost a second per report; the operators themselves cost a few milliseconds.
Texts go through the canvas (fonts, subsetting, CJK), the rest straight into the page's content
stream. The drawing is flipped once (the figure's origin is its top left, as in SVG).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from reportlab.platypus import Flowable

from reports.render.vector import Figure, Line, Poly, Rect, Text

FontFor = Callable[[str, bool], str]


def _rgb(hexcolour: str) -> str:
    c = hexcolour.lstrip("#")
    r, g, b = (int(c[i:i + 2], 16) / 255 for i in (0, 2, 4))
    return f"{r:.3f} {g:.3f} {b:.3f}"


def _n(v: float) -> str:
    return f"{v:.2f}"


class FigureFlowable(Flowable):  # type: ignore[misc]  # reportlab ships no type information
    """``fig`` at ``scale`` × its size."""

    def __init__(self, fig: Figure, font_for: FontFor, scale: float = 1.0) -> None:
        super().__init__()
        self.fig, self.font_for, self.scale = fig, font_for, scale
        self.width, self.height = fig.width * scale, fig.height * scale

    def wrap(self, available_width: float, available_height: float) -> tuple[float, float]:
        return self.width, self.height

    def draw(self) -> None:
        c: Any = self.canv
        c.saveState()
        c.scale(self.scale, self.scale)
        ops = [f"q 1 0 0 -1 0 {_n(self.fig.height)} cm 1 j 0 J"]
        state: dict[str, Any] = {}
        texts: list[Text] = []
        for s in self.fig.shapes:
            if isinstance(s, Text):
                texts.append(s)
            else:
                ops.append(_ops(s, state))
        ops.append("Q")
        c._code.append("\n".join(ops))
        for t in texts:
            self._text(c, t)
        c.restoreState()

    def _text(self, c: Any, t: Text) -> None:
        font = self.font_for(t.text, t.bold)
        c.saveState()
        c.setFillColorRGB(*(int(t.fill.lstrip("#")[i:i + 2], 16) / 255 for i in (0, 2, 4)))
        c.setFont(font, t.size)
        c.translate(t.x, self.fig.height - t.y)
        if t.angle:
            c.rotate(t.angle)
        draw = {"start": c.drawString, "middle": c.drawCentredString, "end": c.drawRightString}[t.anchor]
        draw(0, 0, t.text)
        c.restoreState()


def _style(state: dict[str, Any], key: str, value: Any, op: str) -> str:
    """An operator setting a graphics state value, only when it changes."""
    if state.get(key) == value:
        return ""
    state[key] = value
    return op + " "


def _stroke(state: dict[str, Any], colour: str, width: float, dash: tuple[float, ...]) -> str:
    return (_style(state, "RG", colour, f"{_rgb(colour)} RG") + _style(state, "w", width, f"{_n(width)} w")
            + _style(state, "d", dash, f"[{' '.join(_n(x) for x in dash)}] 0 d"))


def _ops(s: Rect | Poly | Line, state: dict[str, Any]) -> str:
    if isinstance(s, Line):
        return (_stroke(state, s.stroke, s.width, s.dash)
                + f"{_n(s.x1)} {_n(s.y1)} m {_n(s.x2)} {_n(s.y2)} l S")
    if isinstance(s, Rect):
        out = _style(state, "rg", s.fill, f"{_rgb(s.fill)} rg") if s.fill else ""
        if s.stroke:
            out += _stroke(state, s.stroke, s.width, s.dash)
        paint = "B" if s.fill and s.stroke else "f" if s.fill else "S"
        return out + f"{_n(s.x)} {_n(s.y)} {_n(s.w)} {_n(s.h)} re {paint}"
    if not s.points or any(math.isnan(v) for p in s.points for v in p):
        return ""
    path = f"{_n(s.points[0][0])} {_n(s.points[0][1])} m " + " ".join(f"{_n(x)} {_n(y)} l" for x, y in s.points[1:])
    if s.fill:
        out = _style(state, "rg", s.fill, f"{_rgb(s.fill)} rg")
        if s.stroke:
            return out + _stroke(state, s.stroke, s.width, s.dash) + path + " h B"
        return out + path + " h f"
    return _stroke(state, s.stroke or "#000000", s.width, s.dash) + path + " S"
