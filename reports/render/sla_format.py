"""Plain number and duration formatting shared by the SLA text and the complaint letter.

Truncation, never rounding up: a figure printed next to a target must not
reach the target when the exact value does not (99.49999 prints 99.4999).
"""

from __future__ import annotations

_HMS_UNITS = {"en": ("h", "min", "s"), "zh": ("小时", "分", "秒")}


def fmt_truncated(v: float, places: int = 4) -> str:
    """``v`` with ``places`` decimals, the rest cut off (from six decimals): 99.49999 → "99.4999"."""
    s = f"{v:.6f}"
    head, _, tail = s.partition(".")
    return f"{head}.{tail[:places]}"


def fmt_hms(seconds: float, lang: str) -> str:
    """Whole hours, minutes and seconds, zero parts left out: "1 h 5 s" / "1 小时 5 秒"; zero is "0 s"."""
    units = _HMS_UNITS["zh" if lang == "zh" else "en"]
    h, rem = divmod(round(seconds), 3600)
    m, s = divmod(rem, 60)
    shown = [f"{n} {unit}" for n, unit in zip((h, m, s), units) if n]
    return " ".join(shown) or f"0 {units[2]}"
