"""The one rule by which every document prints a number: cut, never rounded up, never a false 0.

Why one rule: a figure printed beside a promise is read as a claim. Rounding can turn an uptime of
99.4999 % into "99.500 %", a target that was not met, or 99.9996 % into "100 %", and it can turn a
latency of 0.047 ms or a coverage of 0.0078 % into "0". So every document (PDF, HTML, the SLA text,
the letter) formats through :func:`cut`:

- the value is **cut** to the stated number of decimals (truncated toward zero, never rounded up),
  so a value below 100 never prints as 100 and a value below a target never prints as the target;
- a value that is not 0 but would print as 0 gets **more decimals, up to its first significant
  digit** (0.0078 at 2 places prints "0.007"), so nothing above 0 prints as 0;
- a float is taken at its shortest decimal form (``repr``: 99.3 is 99.3, not 99.29999…), a
  ``Fraction`` or ``Decimal`` exactly; the digits are worked out in integers.

docs/report-schema.md ("Conventions") and docs/methods.md ("Rounding") state the same rule.
"""

from __future__ import annotations

import math
from decimal import Decimal
from fractions import Fraction

Number = float | int | Decimal | Fraction


def exact(value: Number) -> Fraction:
    """``value`` as an exact fraction (a float at its shortest decimal form)."""
    if isinstance(value, Fraction):
        return value
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError(f"not a finite number: {value!r}")
        return Fraction(repr(value))
    return Fraction(value)


def cut(value: Number, places: int) -> str:
    """``value`` with ``places`` decimals, cut; more decimals when it would otherwise print as 0.

    >>> cut(99.49999, 2), cut(99.9996, 3), cut(0.0078, 2), cut(0.047, 1), cut(0, 2), cut(12, 0)
    ('99.49', '99.999', '0.007', '0.04', '0.00', '12')
    """
    if places < 0:
        raise ValueError("places must not be negative")
    f = exact(value)
    sign = "-" if f < 0 else ""
    a = abs(f)
    p = places
    n = math.floor(a * 10**p)
    while n == 0 and a != 0:
        p += 1
        n = math.floor(a * 10**p)
    if p == 0:
        return f"{sign}{n}"
    digits = str(n).rjust(p + 1, "0")
    return f"{sign}{digits[:-p]}.{digits[-p:]}"


def cut_short(value: Number, places: int) -> str:
    """:func:`cut`, then trailing zeros (and a bare point) dropped: 100.0000 → "100", 99.2800 → "99.28"."""
    text = cut(value, places)
    return text.rstrip("0").rstrip(".") if "." in text else text


def cut_significant(value: Number, digits: int = 6) -> str:
    """About ``digits`` significant digits, cut, trailing zeros dropped: 0.0482667 → "0.048266",
    99.99999996 → "99.9999" (never "100")."""
    whole = len(str(math.floor(abs(exact(value)))))
    return cut_short(value, max(0, digits - whole) if abs(exact(value)) >= 1 else digits)
