"""Units and the few formulas every layer shares (one copy each)."""

from __future__ import annotations

import math

NS_PER_MS = 1_000_000


def ms_to_ns(v: float | None) -> int | None:
    """Milliseconds (float) → integer nanoseconds; None and non-finite stay None."""
    if v is None or (isinstance(v, float) and not math.isfinite(v)):
        return None
    return round(v * NS_PER_MS)


def loss_pct(sent: int | None, received: int | None) -> float | None:
    """Packet loss in percent of what was sent; None when nothing was sent."""
    if not sent or received is None:
        return None
    return 100.0 * (sent - received) / sent
