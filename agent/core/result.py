"""The value every probe returns.

One shape for every kind so that the store and the reports can treat them
alike; kind-specific figures go into ``figures`` (JSON-serialisable values).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from agent.core.times import utcnow as utcnow  # re-exported: probes take their clock from here

# Error classes: short, stable strings that reports group by. A probe may add
# its own, but these are the ones the analysis knows.
TIMEOUT = "timeout"  # no answer in time
REFUSED = "refused"  # TCP RST / ICMP port unreachable
UNREACHABLE = "unreachable"  # ICMP destination/host unreachable, no route
DNS = "dns"  # name did not resolve
TLS = "tls"  # handshake or certificate failure
HTTP_STATUS = "http_status"  # answered, but with an unexpected status code
KEYWORD = "keyword"  # answered, body lacked the expected keyword
PERMISSION = "permission"  # the agent may not open the socket it needs
PROTOCOL = "protocol"  # malformed answer, connection closed early
SKIPPED = "skipped"  # deliberately not run (e.g. traffic budget): not a failure of the target
INTERNAL = "internal"  # a bug or an unexpected local error in the agent itself


@dataclass(frozen=True, slots=True)
class ProbeResult:
    """The outcome of one check of one target at one moment.

    ``rtt_ms`` is the kind's headline latency: ICMP average RTT, TCP connect
    time, HTTP total time. ``figures`` holds the rest, named per kind (ICMP:
    ``sent``, ``received``, ``loss_pct``, ``rtt_min_ms``, ``rtt_max_ms``,
    ``rtt_stddev_ms``; HTTP: ``status``, ``dns_ms``, ``connect_ms``, ``tls_ms``,
    ``ttfb_ms``, ``cert_days``; bandwidth: ``mbps_mean`` …).
    """

    kind: str
    started_at: datetime
    ok: bool
    rtt_ms: float | None = None
    figures: Mapping[str, Any] = field(default_factory=dict)
    error_class: str | None = None
    error: str | None = None

    def __post_init__(self) -> None:
        if self.started_at.tzinfo is None:
            raise ValueError("ProbeResult.started_at must be timezone-aware (UTC)")
