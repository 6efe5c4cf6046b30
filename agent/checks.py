"""Runs one configured check with the right probe. The seam between config and probes/.

Whatever goes wrong inside a probe comes back as a result, never an exception:
a bug in the agent is recorded as error class ``internal`` (the agent's fault,
which the analysis never counts against the provider).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime
from typing import Any, Protocol

from agent.config import BandwidthCheck, HostCheck, HttpCheck, IcmpCheck, Target, TcpCheck
from agent.core import result as R
from agent.core.result import ProbeResult
from agent.core.secrets import mask_settings, mask_text, mask_value

log = logging.getLogger(__name__)


class PingerLike(Protocol):
    async def ping(self, address: str, *, count: int, spacing_s: float, timeout_s: float, payload_size: int) -> ProbeResult: ...


async def run_checks(target: Target, check: Any, *, pinger: PingerLike | None, budget: Any = None,
                     clock: Callable[[], datetime] = R.utcnow, host_cursors: Any = None) -> list[ProbeResult]:
    """Like :func:`run_check`, but a bandwidth check may give two results (iperf3 both ways)
    or one ``skipped`` result when the traffic ``budget`` (``agent.budget.TrafficBudget``) refuses it,
    and a host check one result per new reading (``host_cursors``: ``agent.host_glue.HostCursors``)."""
    if isinstance(check, HostCheck):
        try:
            from agent.host_glue import run_host

            return [masked(r) for r in await run_host(target, check, cursors=host_cursors, clock=clock)]
        except Exception as e:  # a probe bug must not stop the agent: record it as the agent's fault
            log.exception("host check of %s failed inside the agent", target.name)
            return [ProbeResult(check.kind, R.utcnow(), False, error_class=R.INTERNAL, error=mask_text(f"{type(e).__name__}: {e}"))]
    if not isinstance(check, BandwidthCheck):
        return [await run_check(target, check, pinger=pinger)]
    try:
        from agent.bandwidth_glue import run_bandwidth

        return [masked(r) for r in await run_bandwidth(target, check, budget=budget, clock=clock)]
    except Exception as e:  # a probe bug must not stop the agent: record it as the agent's fault
        log.exception("bandwidth check of %s failed inside the agent", target.name)
        return [ProbeResult(check.kind, R.utcnow(), False, error_class=R.INTERNAL, error=mask_text(f"{type(e).__name__}: {e}"))]


def masked(res: ProbeResult) -> ProbeResult:
    """The result as it may be stored: a URL's credentials and secret query values, and any
    configured secret quoted in an error or a response excerpt, masked (agent/core/secrets.py)."""
    return ProbeResult(res.kind, res.started_at, res.ok, res.rtt_ms, mask_value(dict(res.figures)), res.error_class,
                       mask_text(res.error) if res.error else res.error)


def check_settings(check: Any) -> dict[str, Any]:
    """The settings that define a check (stored with its rows); secrets left out."""
    return mask_settings(check.model_dump(mode="json"))


async def run_check(target: Target, check: Any, *, pinger: PingerLike | None) -> ProbeResult:
    try:
        if isinstance(check, IcmpCheck):
            if pinger is None:
                raise RuntimeError("no ICMP pinger")
            return await pinger.ping(target.address, count=check.count, spacing_s=check.spacing_s,
                                     timeout_s=check.timeout_s, payload_size=check.payload_size)
        if isinstance(check, TcpCheck):
            from probes.tcp import tcp_check

            return await tcp_check(target.address, check.port, timeout_s=check.timeout_s)
        if isinstance(check, HttpCheck):
            from probes.http import http_check

            return masked(await http_check(check.url, method=check.method, expect_status=check.expect_status or None,
                                           keyword=check.keyword, timeout_s=check.timeout_s, verify_tls=check.verify_tls))
        if isinstance(check, (BandwidthCheck, HostCheck)):
            raise TypeError(f"{check.kind} checks may give several results: call run_checks")
        raise RuntimeError(f"unknown check {check!r}")
    except Exception as e:  # a probe bug must not stop the agent: record it as the agent's fault
        log.exception("check %s/%s failed inside the agent", target.name, getattr(check, "kind", "?"))
        return ProbeResult(getattr(check, "kind", "unknown"), R.utcnow(), False, error_class=R.INTERNAL,
                           error=mask_text(f"{type(e).__name__}: {e}"))
