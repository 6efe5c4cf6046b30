"""Interval arithmetic on integer microseconds, and counting windows.

An interval is ``(start, end)`` µs since the epoch, half-open. Integers keep
every cut exact: a maintenance window ending at the second an outage starts
leaves no sliver behind.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Iterable

Interval = tuple[int, int]


def clip(iv: Interval, lo: int, hi: int) -> Interval | None:
    """``iv`` inside [lo, hi), or None when nothing of it is."""
    s, e = max(iv[0], lo), min(iv[1], hi)
    return (s, e) if s < e else None


def subtract(iv: Interval, cuts: list[Interval]) -> list[Interval]:
    """``iv`` minus the sorted, disjoint ``cuts``."""
    out, cur = [], iv[0]
    for cs, ce in cuts:
        if ce <= cur or cs >= iv[1]:
            continue
        if cs > cur:
            out.append((cur, cs))
        cur = max(cur, ce)
    if cur < iv[1]:
        out.append((cur, iv[1]))
    return out


def overlap(iv: Interval, cuts: list[Interval]) -> int:
    """µs of ``iv`` covered by the disjoint ``cuts``."""
    return sum(max(0, min(iv[1], ce) - max(iv[0], cs)) for cs, ce in cuts)


def overlap_sorted(iv: Interval, cuts: list[Interval]) -> int:
    """µs of ``iv`` covered by the sorted, disjoint ``cuts`` (a binary search to the first one)."""
    total = 0
    for cs, ce in cuts[bisect_right(cuts, iv[0], key=lambda c: c[1]):]:
        if cs >= iv[1]:
            break
        total += max(0, min(iv[1], ce) - max(iv[0], cs))
    return total


def merge(ivs: list[Interval]) -> list[Interval]:
    """Sorted, with touching or overlapping intervals joined."""
    out: list[Interval] = []
    for s, e in sorted(ivs):
        if out and s <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], e))
        else:
            out.append((s, e))
    return out


def per_bucket(ivs: Iterable[Interval], origin: int, size: int, hi: int) -> tuple[dict[int, int], int, int]:
    """Covered µs per bucket [origin + k·size, …) clipped at hi.

    Returns (partial buckets → covered µs, number of fully covered full-size
    buckets, µs in them). Full middle buckets are counted, not stored, so a
    month-long outage at 1 s windows costs O(1).
    """
    partial: dict[int, int] = {}
    full_n = full_us = 0
    for s, e in ivs:
        k0, k1 = (s - origin) // size, (e - 1 - origin) // size
        for k in {k0, k1}:
            b0, b1 = origin + k * size, min(origin + (k + 1) * size, hi)
            partial[k] = partial.get(k, 0) + max(0, min(e, b1) - max(s, b0))
        if k1 - k0 > 1:
            full_n += k1 - k0 - 1
            full_us += (k1 - k0 - 1) * size
    return partial, full_n, full_us
