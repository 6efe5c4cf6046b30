"""Bandwidth probe: sustained throughput, as evidence a provider can check.

Modes (``BandwidthSettings.mode``):

* ``http_download`` / ``http_upload`` — N parallel HTTP/1.1 streams (httpx)
  against a URL, typically the agent's own responder (``agent.responder``);
  see :mod:`probes.bandwidth_http`.
* ``iperf3`` — the ``iperf3`` client against a server the user runs; see
  :mod:`probes.bandwidth_iperf3`.

Method, the same for every mode: the first ``warmup_s`` seconds (or the first
``warmup_bytes``) are moved but not measured, because TCP slow start would
otherwise count against the link; after that the aggregate throughput of all
streams is sampled every ``sample_interval_s``. The headline ``mbps_mean`` is
bytes moved after warm-up over the time they took (the time-weighted mean of
the samples); p10/p50/p90 summarise the samples, which are kept as evidence.
The run stops at ``max_bytes`` or ``max_seconds``, whichever comes first.

This module holds the settings, the pure arithmetic and the result shape;
the runners raise :class:`BandwidthError` (an error class plus whatever was
measured before the failure) and never hang: every read has a timeout.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Callable, Literal, Sequence

from probes.result import INTERNAL, ProbeResult, utcnow

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


async def _run_one(settings: BandwidthSettings, direction: str, *, clock: Callable[[], float],
                   client: Any) -> Measurement:
    # Imported here: the runners import this module for its types.
    if settings.mode == "iperf3":
        from probes.bandwidth_iperf3 import run_iperf3

        return await run_iperf3(settings, direction)
    from probes.bandwidth_http import run_http

    return await run_http(settings, direction, clock=clock, client=client)


async def bandwidth_checks(
    settings: BandwidthSettings,
    *,
    clock: Callable[[], float] = time.monotonic,
    wall: Callable[[], datetime] = utcnow,
    client: Any = None,
) -> list[ProbeResult]:
    """One result per direction the settings ask for (two for iperf3 ``both``)."""
    results = []
    for direction in settings.directions():
        results.append(await _check(settings, direction, clock=clock, wall=wall, client=client))
    return results


async def bandwidth_check(
    settings: BandwidthSettings,
    *,
    clock: Callable[[], float] = time.monotonic,
    wall: Callable[[], datetime] = utcnow,
    client: Any = None,
) -> ProbeResult:
    """Run one transfer and return its result; never raises for a network failure.

    ``client`` (an ``httpx.AsyncClient``) is used instead of a fresh one for the
    http modes. For iperf3 ``direction="both"`` use :func:`bandwidth_checks`;
    here it runs the download only.
    """
    direction = settings.directions()[-1]
    return await _check(settings, direction, clock=clock, wall=wall, client=client)


async def _check(settings: BandwidthSettings, direction: str, *, clock: Callable[[], float],
                 wall: Callable[[], datetime], client: Any) -> ProbeResult:
    started = wall()
    try:
        m = await _run_one(settings, direction, clock=clock, client=client)
    except BandwidthError as exc:
        partial = exc.partial or Measurement(direction=direction, tool="")
        return ProbeResult(kind=KIND, started_at=started, ok=False,
                           figures=figures_of(partial, settings),
                           error_class=exc.error_class, error=exc.message)
    except Exception as exc:  # noqa: BLE001 - a bug must become a row, not a crash
        return ProbeResult(kind=KIND, started_at=started, ok=False,
                           figures=figures_of(Measurement(direction=direction, tool=""), settings),
                           error_class=INTERNAL, error=f"{type(exc).__name__}: {exc}")
    return ProbeResult(kind=KIND, started_at=started, ok=True, figures=figures_of(m, settings))
