"""Synthetic timelines for analysis tests: rounds from a pattern string.

    rounds = make_rounds("vps", T0, 10, "uuu DDDD uuu")   # 10 rounds (spaces ignored)

One character per scheduled round, ``interval_s`` apart from ``start``:

    u  up: ICMP ok (20 ms) and HTTP ok (200, 50 ms)
    D  down: both checks fail (error class ``down_class``, default "timeout")
    P  partial: ICMP ok, HTTP answers 503 (error class "http_status")
    S  slow: both ok, ICMP RTT ``slow_rtt_ms`` (default 500 ms)
    O  lossy: both ok, ICMP loss ``lossy_pct`` (default 50 %)
    K  every check skipped (a round that measured nothing)
    k  ICMP ok, HTTP skipped (an up round)
    z  ICMP fails, HTTP skipped (a down round: the skipped check is ignored)
    _  missing: no round at all at this slot (the slot still takes its time)

A list may mix these characters with explicit ``tuple[CheckOutcome, ...]``
(or None for a missing slot).  Row ids are unique and increasing from
``first_row_id``, one per check, so evidence references can be asserted.
Reused by the SLA engine's and the store's tests.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta

from agent.core.result import HTTP_STATUS, SKIPPED, TIMEOUT
from reports.analysis.model import AgentRun, CheckOutcome, Round

UTC = UTC
T0 = datetime(2026, 11, 2, tzinfo=UTC)  # a Monday, 00:00 UTC

PATTERN_CODES = "uDPSOKkz_"

Slot = str | tuple[CheckOutcome, ...] | None


def at(i: float, interval_s: float = 10.0, start: datetime = T0) -> datetime:
    """The scheduled time of slot ``i``."""
    return start + timedelta(seconds=i * interval_s)


def checks_for(
    code: str,
    *,
    slow_rtt_ms: float = 500.0,
    lossy_pct: float = 50.0,
    down_class: str = TIMEOUT,
) -> tuple[CheckOutcome, ...] | None:
    """The checks of one round for a pattern character (None: missing round)."""
    icmp_ok = CheckOutcome("icmp", True, rtt_ms=20.0, loss_pct=0.0)
    http_ok = CheckOutcome("http", True, rtt_ms=50.0, status=200)
    if code == "u":
        return (icmp_ok, http_ok)
    if code == "D":
        return (
            CheckOutcome("icmp", False, loss_pct=100.0, error_class=down_class),
            CheckOutcome("http", False, error_class=down_class),
        )
    if code == "P":
        return (icmp_ok, CheckOutcome("http", False, rtt_ms=40.0, status=503, error_class=HTTP_STATUS))
    if code == "S":
        return (CheckOutcome("icmp", True, rtt_ms=slow_rtt_ms, loss_pct=0.0), http_ok)
    if code == "O":
        return (CheckOutcome("icmp", True, rtt_ms=20.0, loss_pct=lossy_pct), http_ok)
    if code == "K":
        return (
            CheckOutcome("icmp", False, error_class=SKIPPED),
            CheckOutcome("http", False, error_class=SKIPPED),
        )
    if code == "k":
        return (icmp_ok, CheckOutcome("http", False, error_class=SKIPPED))
    if code == "z":
        return (
            CheckOutcome("icmp", False, loss_pct=100.0, error_class=down_class),
            CheckOutcome("http", False, error_class=SKIPPED),
        )
    if code == "_":
        return None
    raise ValueError(f"unknown pattern character {code!r} (known: {PATTERN_CODES})")


def iter_rounds(
    target: str,
    start: datetime,
    interval_s: float,
    pattern: str | Sequence[Slot],
    *,
    first_row_id: int = 1,
    offsets_s: Sequence[float] | None = None,
    slow_rtt_ms: float = 500.0,
    lossy_pct: float = 50.0,
    down_class: str = TIMEOUT,
) -> Iterator[Round]:
    """Rounds for ``pattern``, lazily.  ``offsets_s[i]`` shifts slot i (jitter)."""
    slots: Sequence[Slot] = pattern.replace(" ", "") if isinstance(pattern, str) else pattern
    row = first_row_id
    step = timedelta(seconds=interval_s)
    for i, slot in enumerate(slots):
        checks = (
            checks_for(slot, slow_rtt_ms=slow_rtt_ms, lossy_pct=lossy_pct, down_class=down_class)
            if isinstance(slot, str)
            else slot
        )
        if checks is None:
            continue
        numbered = []
        for c in checks:
            numbered.append(replace(c, row_id=row))
            row += 1
        ts = start + step * i
        if offsets_s is not None:
            ts += timedelta(seconds=offsets_s[i])
        yield Round(target, ts, tuple(numbered))


def make_rounds(
    target: str,
    start: datetime,
    interval_s: float,
    pattern: str | Sequence[Slot],
    **kwargs: object,
) -> list[Round]:
    """``iter_rounds`` as a list (same keyword arguments)."""
    return list(iter_rounds(target, start, interval_s, pattern, **kwargs))  # type: ignore[arg-type]


def run(
    start: datetime,
    end: datetime | None = None,
    *,
    clean: bool | None = True,
    last_seen: datetime | None = None,
) -> AgentRun:
    """An agent run.  ``end`` None and ``clean`` None: still running.

    For an unclean run pass ``clean=False`` and ``last_seen`` (its known end).
    """
    if end is None and clean is True:
        clean = None
    return AgentRun(started_at=start, ended_at=end, last_seen=last_seen, clean=clean)


def repeat(pattern: str, times: int) -> str:
    """``pattern`` concatenated ``times`` times (readable long timelines)."""
    return pattern * times
