"""What one ``ping()`` saw, and the result it becomes: figures and the words of a failure.

Kept apart from the sockets so the figures (loss, RTT statistics, counts of
duplicates, late replies, ICMP errors) and the error class of a ping with no
reply are plain functions of recorded values, testable without a network.
"""

from __future__ import annotations

import errno
import math
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from agent.core import result as R
from agent.core.result import ProbeResult
from agent.core.units import loss_pct
from probes.icmp_packet import IcmpError

__all__ = ["Probe", "summarise"]

KIND = "icmp"

# sendto errors that mean the agent's own host has no way out.
_LOCAL_UNREACH = {errno.ENETUNREACH, errno.EHOSTUNREACH, errno.EADDRNOTAVAIL, errno.ENETDOWN}


@dataclass(eq=False)
class Probe:
    """Accumulates the replies of one ``ping()`` call, one slot per request."""

    target: str  # the address pinged, as the kernel reports it
    count: int
    cookie_len: int = 0  # leading payload bytes that must echo our cookie
    rtts_ns: list[int | None] = field(init=False)
    errors: list[IcmpError | None] = field(init=False)
    error_from: list[str | None] = field(init=False)  # the router that sent each error
    send_errors: list[OSError | None] = field(init=False)
    duplicates: int = 0
    late: int = 0
    fallbacks: int = 0  # RTTs taken from the monotonic clock (kernel stamp untrustworthy)
    aborted: int = 0  # requests still waiting when the Pinger was closed

    def __post_init__(self) -> None:
        self.rtts_ns = [None] * self.count
        self.errors = [None] * self.count
        self.error_from = [None] * self.count
        self.send_errors = [None] * self.count


def ms(ns: float) -> float:
    """ns → ms rounded to 0.001 ms (1 µs); timestamps are ns, accuracy is µs."""
    return round(ns / 1e6, 3)


def summarise(probe: Probe, started: datetime, socket_mode: str) -> ProbeResult:
    """The result of a finished ping: ok when any reply came back."""
    rtts = [r for r in probe.rtts_ns if r is not None]
    sent = probe.count
    received = len(rtts)
    loss = loss_pct(sent, received)
    figures: dict[str, Any] = {
        "sent": sent,
        "received": received,
        "loss_pct": None if loss is None else round(loss, 3),
        "rtt_min_ms": None,
        "rtt_avg_ms": None,
        "rtt_max_ms": None,
        "rtt_stddev_ms": None,
        "rtts_ms": [None if r is None else ms(r) for r in probe.rtts_ns],
        "address": probe.target,
        "duplicates": probe.duplicates,
        "late": probe.late,
        "unreachable": sum(1 for e in probe.errors if e is not None),
        "send_errors": sum(1 for e in probe.send_errors if e is not None),
        "clock_fallbacks": probe.fallbacks,
        "aborted": probe.aborted,
        "socket": socket_mode,
    }
    avg = None
    if rtts:
        mean = sum(rtts) / received
        var = sum((r - mean) ** 2 for r in rtts) / received  # population, like ping's mdev
        avg = ms(mean)
        figures.update(
            rtt_min_ms=ms(min(rtts)),
            rtt_avg_ms=avg,
            rtt_max_ms=ms(max(rtts)),
            rtt_stddev_ms=ms(math.sqrt(var)),
        )
    if received:
        return ProbeResult(KIND, started, True, avg, figures)
    error_class, error = failure(probe)
    return ProbeResult(KIND, started, False, None, figures, error_class, error)


def failure(probe: Probe) -> tuple[str, str]:
    """Error class and words for a ping with no reply at all."""
    v6 = ":" in probe.target
    errs = [(e, src) for e, src in zip(probe.errors, probe.error_from) if e is not None]
    sends = [e for e in probe.send_errors if e is not None]
    n = probe.count
    if probe.aborted:
        # Not the target's fault and not a measurement: say so.
        return R.INTERNAL, (
            f"the agent stopped pinging {probe.target} before {probe.aborted} of {n} "
            "replies were due; no data"
        )
    if errs:
        e, src = errs[0]
        frm = f" from {src}" if src else ""
        return R.UNREACHABLE, (
            f"ICMP {e.describe(v6)}{frm} for {len(errs)} of {n} requests to {probe.target}"
        )
    if sends:
        e0 = sends[0]
        what = f"{e0.strerror or e0}"
        if e0.errno in _LOCAL_UNREACH:
            return R.UNREACHABLE, (
                f"sending to {probe.target} failed locally ({what}): the agent's own "
                f"host has no route, not an answer from the network ({len(sends)} of {n})"
            )
        if e0.errno in (errno.EPERM, errno.EACCES):
            return R.PERMISSION, f"sending to {probe.target} refused locally ({what}), e.g. a firewall rule"
        return R.INTERNAL, f"sending to {probe.target} failed locally ({what}) for {len(sends)} of {n}"
    late = f", {probe.late} arrived after the timeout" if probe.late else ""
    return R.TIMEOUT, f"no echo reply from {probe.target} to {n} requests{late}"
