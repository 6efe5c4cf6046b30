"""Plain number and duration formatting shared by the SLA text and the complaint letter.

Numbers go through reports/render/numbers.py, the one rule every document uses: cut, never
rounded up (a figure printed next to a target must not reach the target when the exact value
does not: 99.49999 prints 99.4999), and never a false 0 (0.00004 prints 0.00004, not 0.0000).
"""

from __future__ import annotations

from reports.render.numbers import Number, cut, cut_short

_HMS_UNITS = {"en": ("h", "min", "s"), "zh": ("小时", "分", "秒")}


def fmt_truncated(v: Number, places: int = 4) -> str:
    """``v`` cut to ``places`` decimals (more when it would print as 0): 99.49999 → "99.4999"."""
    return cut(v, places)


def fmt_hms(seconds: float, lang: str) -> str:
    """Whole hours, minutes and seconds, zero parts left out: "1 h 5 s" / "1 小时 5 秒"; zero is "0 s".

    Under half a second but not zero prints its seconds cut ("0.4 s"), never "0 s"."""
    units = _HMS_UNITS["zh" if lang == "zh" else "en"]
    if round(seconds) == 0 and seconds:
        return f"{cut_short(seconds, 3)} {units[2]}"
    h, rem = divmod(round(seconds), 3600)
    m, s = divmod(rem, 60)
    shown = [f"{n} {unit}" for n, unit in zip((h, m, s), units) if n]
    return " ".join(shown) or f"0 {units[2]}"
