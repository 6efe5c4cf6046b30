"""Bandwidth probe, the shared part: settings, the pure arithmetic and the result shape.

The runners (:mod:`probes.bandwidth_http`, :mod:`probes.bandwidth_iperf3`) and the
dispatcher (:mod:`probes.bandwidth`) all import this module; it imports none of them.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

KIND = "bandwidth"
MISSING_TOOL = "missing_tool"  # iperf3 not installed (a local problem, not the target's)
BUSY = "busy"  # the iperf3 server is running someone else's test

Mode = Literal["http_download", "http_upload", "iperf3"]
Direction = Literal["download", "upload", "both"]

DEFAULT_STREAMS = 4
DEFAULT_WARMUP_S = 1.0
DEFAULT_SAMPLE_INTERVAL_S = 0.25
DEFAULT_MAX_BYTES = 100_000_000
DEFAULT_MAX_SECONDS = 10.0
DEFAULT_TIMEOUT_S = 5.0


@dataclass(frozen=True, slots=True)
class BandwidthSettings:
    """One bandwidth check. Field names match the ``bandwidth`` check in the config."""

    mode: Mode = "http_download"
    url: str | None = None  # http modes: the download URL / the upload endpoint
    host: str | None = None  # iperf3: the server
    port: int = 5201  # iperf3: the server's port
    direction: Direction = "download"  # iperf3 only; the http modes imply theirs
    streams: int = DEFAULT_STREAMS
    warmup_s: float = DEFAULT_WARMUP_S
    warmup_bytes: int | None = None  # if set, warm-up ends after this many bytes instead
    sample_interval_s: float = DEFAULT_SAMPLE_INTERVAL_S
    max_bytes: int = DEFAULT_MAX_BYTES
    max_seconds: float = DEFAULT_MAX_SECONDS
    timeout_s: float = DEFAULT_TIMEOUT_S  # connect / each read / each write
    token: str | None = None  # sent as ``Authorization: Bearer …`` (http modes)
    verify_tls: bool = True
    iperf3_path: str = "iperf3"

    def __post_init__(self) -> None:
        if self.mode in ("http_download", "http_upload") and not self.url:
            raise ValueError(f"mode {self.mode!r} needs url")
        if self.mode == "iperf3" and not self.host:
            raise ValueError("mode 'iperf3' needs host")
        if self.streams < 1 or self.max_bytes < 1 or self.max_seconds <= 0:
            raise ValueError("streams, max_bytes and max_seconds must be positive")
        if self.sample_interval_s <= 0 or self.timeout_s <= 0 or self.warmup_s < 0:
            raise ValueError("sample_interval_s and timeout_s must be positive, warmup_s ≥ 0")

    def directions(self) -> tuple[Literal["download", "upload"], ...]:
        """The transfers this check runs, in order (upload first, as iperf3 users expect)."""
        if self.mode == "http_download":
            return ("download",)
        if self.mode == "http_upload":
            return ("upload",)
        return ("upload", "download") if self.direction == "both" else (self.direction,)


def planned_bytes(settings: BandwidthSettings) -> int:
    """Worst-case traffic of one check, for the traffic budget.

    iperf3 cannot stop at a byte count and a time at once, so for that mode
    ``max_bytes`` is the user's declared worst case per direction, not a cap.
    """
    return settings.max_bytes * len(settings.directions())


# -- measurements -------------------------------------------------------------


@dataclass(slots=True)
class Measurement:
    """What one transfer moved, before it is turned into a ProbeResult."""

    direction: str
    tool: str
    samples: list[float] = field(default_factory=list)  # Mbit/s per interval, after warm-up
    bytes_total: int = 0  # everything moved, warm-up included (what the budget pays)
    bytes_measured: int = 0  # after warm-up
    duration_s: float = 0.0  # the whole transfer, warm-up included
    measured_s: float = 0.0  # the window the mean is taken over
    warmup_s: float = 0.0  # warm-up actually discarded (0 if the cap came first)
    mbps_mean: float | None = None
    stopped_by: str | None = None  # "bytes", "time", or None when it failed


class BandwidthError(Exception):
    """A transfer failed; carries the error class and what was measured until then."""

    def __init__(self, error_class: str, message: str, partial: Measurement | None = None) -> None:
        super().__init__(message)
        self.error_class = error_class
        self.message = message
        self.partial = partial


def percentile(values: Sequence[float], q: float) -> float | None:
    """Linear-interpolated percentile (numpy's default), q in [0, 100]; None if empty."""
    if not values:
        return None
    xs = sorted(values)
    pos = (len(xs) - 1) * q / 100.0
    lo, hi = math.floor(pos), math.ceil(pos)
    return xs[lo] + (xs[hi] - xs[lo]) * (pos - lo)


def summarise_ticks(
    ticks: Sequence[tuple[float, int]],
    *,
    warmup_s: float,
    warmup_bytes: int | None,
    sample_interval_s: float,
) -> tuple[list[float], int, float, float, float | None]:
    """Samples and mean from (time, cumulative bytes) ticks; the first tick is the start.

    Returns (samples, bytes_measured, measured_s, warmup_applied_s, mean). The
    warm-up ends at the first tick at or past ``warmup_s`` (or ``warmup_bytes``).
    If the transfer ended inside the warm-up, nothing is discarded: a short,
    slow-start-dominated figure is reported rather than none (the result's
    ``warmup_s`` then says 0). A final interval shorter than half a sample
    interval is left out of the samples (too short to be a fair sample) but its
    bytes count towards the mean.
    """
    if len(ticks) < 2:
        return [], 0, 0.0, 0.0, None
    t0 = ticks[0][0]
    start = None
    for i, (t, b) in enumerate(ticks):
        reached = b >= warmup_bytes if warmup_bytes is not None else t - t0 >= warmup_s - 1e-9
        if reached:
            start = i
            break
    if start is None or start >= len(ticks) - 1:
        start = 0
    window = ticks[start:]
    samples: list[float] = []
    for (ta, ba), (tb, bb) in zip(window, window[1:]):
        dt = tb - ta
        last = tb == window[-1][0]
        if dt <= 0 or (last and dt < 0.5 * sample_interval_s and len(window) > 2):
            continue
        samples.append((bb - ba) * 8 / dt / 1e6)
    measured_bytes = window[-1][1] - window[0][1]
    measured_s = window[-1][0] - window[0][0]
    mean = measured_bytes * 8 / measured_s / 1e6 if measured_s > 0 else None
    return samples, measured_bytes, measured_s, window[0][0] - t0, mean


def _r(x: float | None, nd: int = 3) -> float | None:
    return None if x is None else round(x, nd)


def figures_of(m: Measurement, settings: BandwidthSettings) -> dict[str, Any]:
    """The ``figures`` mapping of a bandwidth result (JSON-serialisable)."""
    return {
        "mode": settings.mode,
        "direction": m.direction,
        "mbps_mean": _r(m.mbps_mean),
        "mbps_p10": _r(percentile(m.samples, 10)),
        "mbps_p50": _r(percentile(m.samples, 50)),
        "mbps_p90": _r(percentile(m.samples, 90)),
        "bytes_total": m.bytes_total,
        "bytes_measured": m.bytes_measured,
        "duration_s": _r(m.duration_s),
        "measured_s": _r(m.measured_s),
        "warmup_s": _r(m.warmup_s),
        "sample_interval_s": settings.sample_interval_s,
        "streams": settings.streams,
        "samples": [round(s, 3) for s in m.samples],
        "stopped_by": m.stopped_by,
        "tool": m.tool,
    }


# -- entry points ---------------------------------------------------------------
