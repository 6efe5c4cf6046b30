"""Clock arithmetic of the ICMP probe: the RTT from kernel stamps, and send pacing.

Pure functions of the clock readings they are given, so the rules that decide
what an RTT is (and when it cannot be trusted) are tested with made-up numbers
and never depend on how busy the test machine is.
"""

from __future__ import annotations

from collections.abc import Callable

__all__ = ["STEP_TOLERANCE_NS", "Pacer", "rtt_from_timestamps"]

STEP_TOLERANCE_NS = 200_000  # realtime may drift from monotonic this much between send and read


def rtt_from_timestamps(
    send_real_ns: int,
    send_mono_ns: int,
    rx_real_ns: int | None,
    read_real_ns: int,
    read_mono_ns: int,
    *,
    step_tolerance_ns: int = STEP_TOLERANCE_NS,
) -> tuple[int, bool]:
    """RTT in ns from the kernel receive stamp, and whether we had to fall back.

    Both kernel stamp and send stamp are CLOCK_REALTIME, which can be stepped.
    Reading realtime and monotonic at send and again when the reply is read tells
    us whether the realtime clock moved relative to monotonic in between (a step;
    NTP slewing moves both alike).  If it did, or the kernel stamp is missing or
    outside [send, read], the kernel RTT cannot be trusted and we report the
    monotonic send→read interval instead (an upper bound: it includes event-loop
    delay) with the flag set.  Never negative.
    """
    mono_rtt = max(0, read_mono_ns - send_mono_ns)
    if rx_real_ns is None:
        return mono_rtt, True
    step = (read_real_ns - read_mono_ns) - (send_real_ns - send_mono_ns)
    rtt = rx_real_ns - send_real_ns
    if abs(step) > step_tolerance_ns or rtt < 0 or rtt > mono_rtt + step_tolerance_ns:
        return mono_rtt, True
    return rtt, False


class Pacer:
    """Virtual-schedule send pacing (GCRA): at most ``burst`` sends back to back,
    then one every ``gap_s``.  Reservations are taken in call order, so callers
    are served first come, first served.  ``clock_ns`` is monotonic ns."""

    def __init__(self, gap_s: float, burst: int, clock_ns: Callable[[], int]) -> None:
        self.gap_ns = max(0, round(gap_s * 1e9))
        self.tau_ns = self.gap_ns * max(0, burst - 1)
        self.clock_ns = clock_ns
        self.tat_ns = 0  # theoretical arrival time of the next send

    def reserve(self) -> float:
        """Reserve the next slot; return how many seconds to wait before using it."""
        now = self.clock_ns()
        tat = max(now, self.tat_ns)
        self.tat_ns = tat + self.gap_ns
        return max(0, tat - now - self.tau_ns) / 1e9
