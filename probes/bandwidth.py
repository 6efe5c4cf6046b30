"""Bandwidth probe: sustained throughput, as evidence a provider can check.

Modes (``BandwidthSettings.mode``):

* ``http_download`` / ``http_upload`` — N parallel HTTP/1.1 streams (httpx)
  against a URL, typically the agent's own responder (``agent.serve.responder``);
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

The settings, the pure arithmetic and the result shape live in
:mod:`probes.bandwidth_model` (re-exported here); the runners raise :class:`BandwidthError` (an error class plus whatever was
measured before the failure) and never hang: every read has a timeout.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import datetime
from typing import Any

from agent.core.result import INTERNAL, ProbeResult, utcnow
from probes.bandwidth_http import run_http
from probes.bandwidth_iperf3 import run_iperf3
from probes.bandwidth_model import (
    BUSY,
    DEFAULT_MAX_BYTES,
    DEFAULT_MAX_SECONDS,
    DEFAULT_SAMPLE_INTERVAL_S,
    DEFAULT_STREAMS,
    DEFAULT_TIMEOUT_S,
    DEFAULT_WARMUP_S,
    KIND,
    MISSING_TOOL,
    BandwidthError,
    BandwidthSettings,
    Measurement,
    figures_of,
    percentile,
    planned_bytes,
    summarise_ticks,
)

__all__ = [
    "BUSY",
    "DEFAULT_MAX_BYTES",
    "DEFAULT_MAX_SECONDS",
    "DEFAULT_SAMPLE_INTERVAL_S",
    "DEFAULT_STREAMS",
    "DEFAULT_TIMEOUT_S",
    "DEFAULT_WARMUP_S",
    "KIND",
    "MISSING_TOOL",
    "BandwidthError",
    "BandwidthSettings",
    "Measurement",
    "bandwidth_check",
    "bandwidth_checks",
    "figures_of",
    "percentile",
    "planned_bytes",
    "summarise_ticks",
]


async def _run_one(settings: BandwidthSettings, direction: str, *, clock: Callable[[], float],
                   client: Any) -> Measurement:
    if settings.mode == "iperf3":
        return await run_iperf3(settings, direction)
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
    except Exception as exc:
        return ProbeResult(kind=KIND, started_at=started, ok=False,
                           figures=figures_of(Measurement(direction=direction, tool=""), settings),
                           error_class=INTERNAL, error=f"{type(exc).__name__}: {exc}")
    return ProbeResult(kind=KIND, started_at=started, ok=True, figures=figures_of(m, settings))
