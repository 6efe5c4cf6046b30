"""The wall clock's trustworthiness: the kernel's NTP state, and steps against a steady clock.

Every measurement's time comes from the wall clock. The kernel knows whether
NTP (chrony, timesyncd, ntpd) keeps it synchronised and how far off it may be
(``adjtimex``: the STA_UNSYNC flag, ``maxerror`` and ``esterror`` in µs); a
step (someone set the date, NTP corrected a large offset) shows as a jump of
the wall clock against CLOCK_BOOTTIME, which only moves forward, at the rate
NTP slews both. The heartbeat samples both; spans of samples and the steps
are stored at each checkpoint, so a report can state the clock's uncertainty
and show a step as an event rather than silently shifted incident times.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from agent.core.times import to_us
from agent.proof.checkpoint import ClockState
from agent.store.proof import ClockSpan, ClockStep

STA_UNSYNC = 0x0040
TIME_ERROR = 5
# A jump of the wall clock against the steady clock larger than this between two heartbeats is a
# step. NTP slews at most 500 ppm (5 ms over a 10 s heartbeat), so this cannot be a slew.
STEP_THRESHOLD_US = 50_000


class _Timeval(ctypes.Structure):
    _fields_ = [("tv_sec", ctypes.c_long), ("tv_usec", ctypes.c_long)]


class _Timex(ctypes.Structure):
    """struct timex of <sys/timex.h> on 64-bit Linux (natural alignment gives the padding)."""

    _fields_ = [("modes", ctypes.c_uint), ("offset", ctypes.c_long), ("freq", ctypes.c_long), ("maxerror", ctypes.c_long),
                ("esterror", ctypes.c_long), ("status", ctypes.c_int), ("constant", ctypes.c_long), ("precision", ctypes.c_long),
                ("tolerance", ctypes.c_long), ("time", _Timeval), ("tick", ctypes.c_long), ("ppsfreq", ctypes.c_long),
                ("jitter", ctypes.c_long), ("shift", ctypes.c_int), ("stabil", ctypes.c_long), ("jitcnt", ctypes.c_long),
                ("calcnt", ctypes.c_long), ("errcnt", ctypes.c_long), ("stbcnt", ctypes.c_long), ("tai", ctypes.c_int),
                ("_pad", ctypes.c_int * 11)]


_libc: ctypes.CDLL | None = None


def read_kernel_clock() -> ClockState:
    """adjtimex(2) with modes = 0 (read only, no privilege needed); unknown where unavailable."""
    global _libc
    try:
        if _libc is None:
            _libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        tx = _Timex()
        state = int(_libc.adjtimex(ctypes.byref(tx)))
    except (OSError, AttributeError):
        return ClockState(None)
    if state < 0:
        return ClockState(None)
    synced = not (tx.status & STA_UNSYNC) and state != TIME_ERROR
    return ClockState(synced, int(tx.maxerror), int(tx.esterror))


def steady_us() -> int:
    """CLOCK_BOOTTIME in µs: steady, counts suspend (CLOCK_MONOTONIC would call a resume a step)."""
    clock = getattr(time, "CLOCK_BOOTTIME", time.CLOCK_MONOTONIC)
    return time.clock_gettime_ns(clock) // 1000


@dataclass
class _Open:
    start_us: int
    end_us: int
    synced: bool | None
    maxerror_us: int | None
    esterror_us: int | None
    samples: int = 1

    def close(self) -> ClockSpan:
        return ClockSpan(self.start_us, self.end_us, self.synced, self.maxerror_us, self.esterror_us, self.samples)


def _max(a: int | None, b: int | None) -> int | None:
    return b if a is None else a if b is None else max(a, b)


@dataclass
class ClockWatch:
    """Sampled at each heartbeat (on the event loop: a syscall and a few comparisons);
    :meth:`drain` hands the finished spans and steps to whoever stores them."""

    wall: Callable[[], datetime]
    steady: Callable[[], int] = steady_us
    kernel: Callable[[], ClockState] = read_kernel_clock
    latest: ClockState = field(default_factory=lambda: ClockState(None))
    _offset: int | None = None
    _last_us: int | None = None  # the previous sample's wall time, where a following span starts
    _open: _Open | None = None
    _spans: list[ClockSpan] = field(default_factory=list)
    _steps: list[ClockStep] = field(default_factory=list)

    def sample(self) -> ClockState:
        state = self.kernel()
        wall_us = to_us(self.wall())
        offset = wall_us - self.steady()
        if self._offset is not None and abs(offset - self._offset) >= STEP_THRESHOLD_US:
            self._steps.append(ClockStep(wall_us, offset - self._offset))
            self._close()  # a span never straddles a step: its times are on one side of it
            self._last_us = None
        self._offset = offset
        cur = self._open
        if cur is not None and (cur.synced != state.synced or wall_us < cur.end_us):
            self._close()
            cur = None
        if cur is None:
            start = self._last_us if self._last_us is not None and self._last_us <= wall_us else wall_us
            self._open = _Open(start, wall_us, state.synced, state.maxerror_us, state.esterror_us)
        else:
            cur.end_us = wall_us
            cur.samples += 1
            cur.maxerror_us = _max(cur.maxerror_us, state.maxerror_us)
            cur.esterror_us = _max(cur.esterror_us, state.esterror_us)
        self._last_us = wall_us
        self.latest = state
        return state

    def _close(self) -> None:
        if self._open is not None:
            self._spans.append(self._open.close())
            self._open = None

    def drain(self) -> tuple[list[ClockSpan], list[ClockStep]]:
        """Finished spans (the open one is closed; the next sample opens another) and steps since the last drain."""
        self._close()
        spans, steps = self._spans, self._steps
        self._spans, self._steps = [], []
        return spans, steps

    def restore(self, spans: list[ClockSpan], steps: list[ClockStep]) -> None:
        """Put back what could not be stored, to be tried with the next drain."""
        self._spans[:0] = spans
        self._steps[:0] = steps
