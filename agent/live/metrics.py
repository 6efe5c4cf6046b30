"""Prometheus /metrics (prometheus-client), off by default, loopback by default when on.

Per target and check: up, RTT (a histogram), ICMP loss, last success time; per target:
an incident open. Agent health: writer queue, rows written, probes (a counter, and per
second over the last minute), schedule lag, last checkpoint, alerts waiting. Values are
set as rounds finish (a few dictionary look-ups per result); the exposition is built in its
own server thread when Prometheus scrapes, off the event loop: the agent's health by
prometheus-client, the per-target families by metrics_text (thirty times faster at 1,000
targets, which keeps a scrape every 15 s well under the CPU budget).
The socket is bound when the daemon is built, so a taken port stops the start with a
message naming the key, before a run is recorded.
"""

from __future__ import annotations

import logging
import math
import socket
import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
from datetime import datetime
from socketserver import ThreadingMixIn
from typing import Any, Protocol
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Gauge, Histogram, disable_created_metrics, generate_latest

from agent.config import Settings, Target
from agent.core.errors import ConfigError
from agent.core.result import ProbeResult
from agent.core.times import to_us
from agent.live.metrics_text import TargetFamilies
from agent.live.tracker import AGENT_SIDE, IncidentTracker
from agent.services import Service
from agent.store import Store

log = logging.getLogger(__name__)

RTT_BUCKETS_S = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5)
LAG_BUCKETS_S = (0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1.0, 5.0)
RATE_WINDOW_S = 60.0
CHECKPOINT_CACHE_S = 30.0


class Parts(Protocol):
    settings: Settings
    store: Store
    agent_id: int
    writer: Any  # agent.writer.Writer: pending, stats.rows_written
    services: list[Service]
    clock: Callable[[], datetime]


class _Server(ThreadingMixIn, WSGIServer):
    daemon_threads = True


class _Quiet(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002  # the base class's name
        return None


def parse_listen(listen: str) -> tuple[str, int]:
    host, _, port = listen.rpartition(":")
    return host.strip("[]"), int(port)


def bind(listen: str, app: Any) -> WSGIServer:
    host, port = parse_listen(listen)
    try:
        family = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)[0][0]
    except OSError as e:
        raise ConfigError(f"agent.metrics.listen {listen}: {e.strerror or e}") from None

    class Server(_Server):
        address_family = family

    try:
        return make_server(host, port, app, Server, handler_class=_Quiet)
    except OSError as e:
        raise ConfigError(f"agent.metrics.listen {listen}: cannot listen there: {e.strerror or e}; "
                          "choose another port or stop what uses it") from None


class MetricsService:
    """A Service (the HTTP server) and a RoundObserver (the values)."""

    name = "metrics"

    def __init__(self, d: Parts, tracker: IncidentTracker, *, alerts_waiting: Callable[[], int] | None = None,
                 monotonic: Callable[[], float] = time.monotonic) -> None:
        self.d = d
        self.tracker = tracker
        self.monotonic = monotonic
        disable_created_metrics()  # type: ignore[no-untyped-call]  # unannotated in prometheus-client; *_created series double a histogram's lines and say nothing Prometheus needs here
        self.registry = r = CollectorRegistry(auto_describe=True)
        self.families = TargetFamilies(RTT_BUCKETS_S)
        self.probes = Counter("slaproof_probes", "Check results produced", registry=r)
        self.lag = Histogram("slaproof_schedule_lag_seconds", "How late a round started against its scheduled time", buckets=LAG_BUCKETS_S,
                             registry=r)
        Gauge("slaproof_probes_per_second", "Check results per second over the last minute", registry=r).set_function(self._rate)
        Gauge("slaproof_writer_queue_rows", "Rows waiting to be committed", registry=r).set_function(lambda: float(d.writer.pending))
        Gauge("slaproof_rows_written", "Rows committed by this run", registry=r).set_function(lambda: float(d.writer.stats.rows_written))
        Gauge("slaproof_last_checkpoint_timestamp_seconds", "When the last signed checkpoint was made (Unix time; NaN: none)",
              registry=r).set_function(self._last_checkpoint)
        if alerts_waiting is not None:
            Gauge("slaproof_alerts_waiting", "Alerts queued for delivery", registry=r).set_function(lambda: float(alerts_waiting()))
        Gauge("slaproof_local_outage", "1 while every control target is down (the agent's own network)",
              registry=r).set_function(lambda: float(tracker.local_outage))
        self._recent: deque[tuple[float, int]] = deque()
        self._checkpoint: tuple[float, float] = (-math.inf, math.nan)
        self._lock = threading.Lock()
        self.server = bind(d.settings.agent.metrics.listen, self._app)
        self._thread: threading.Thread | None = None

    # -- RoundObserver ---------------------------------------------------------------
    def observe(self, target: Target, scheduled: datetime, results: Sequence[ProbeResult]) -> None:
        if not results:
            return
        fam = self.families
        seen: dict[str, int] = {}
        for res in results:
            n = seen[res.kind] = seen.get(res.kind, 0) + 1
            c = fam.check(target.name, res.kind if n == 1 else f"{res.kind}{n}", res.kind == "icmp")
            if res.error_class in AGENT_SIDE:
                c.up = math.nan
                continue
            c.up = 1.0 if res.ok else 0.0
            if res.ok:
                c.last_ok = res.started_at.timestamp()
                if res.rtt_ms is not None:
                    fam.observe_rtt(c, res.rtt_ms / 1000.0)
            lp = res.figures.get("loss_pct")
            if c.loss is not None and isinstance(lp, (int, float)):
                c.loss = lp / 100.0
        fam.set_incident(target.name, self.tracker.state(target.name).confirmed)
        self.probes.inc(len(results))
        if results[0].kind != "host":  # a host reading is timed when the host took it, not on the round's grid
            self.lag.observe(max(0.0, (to_us(results[0].started_at) - to_us(scheduled)) / 1e6))
        now = self.monotonic()
        with self._lock:
            self._recent.append((now, len(results)))

    # -- the scrape (server thread) -----------------------------------------------------
    def exposition(self) -> bytes:
        """The agent's health (prometheus-client) and the per-target families (metrics_text)."""
        return generate_latest(self.registry) + self.families.text().encode()

    def _app(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
        if environ.get("PATH_INFO", "/") not in ("/", "/metrics"):
            start_response("404 Not Found", [("Content-Type", "text/plain")])
            return [b"not found: /metrics\n"]
        body = self.exposition()
        start_response("200 OK", [("Content-Type", CONTENT_TYPE_LATEST), ("Content-Length", str(len(body)))])
        return [body]

    # -- values computed at scrape time (server thread) ---------------------------------
    def _rate(self) -> float:
        now = self.monotonic()
        with self._lock:
            while self._recent and now - self._recent[0][0] > RATE_WINDOW_S:
                self._recent.popleft()
            return sum(n for _, n in self._recent) / RATE_WINDOW_S

    def _last_checkpoint(self) -> float:
        at, value = self._checkpoint
        now = self.monotonic()
        if now - at < CHECKPOINT_CACHE_S:
            return value
        value = math.nan
        if any(s.name == "checkpoints" for s in self.d.services):
            from agent.store.proof import ProofRecords

            try:
                cp = ProofRecords(self.d.store).last_checkpoint(self.d.agent_id)
            except Exception as e:  # a locked database must not fail the scrape
                log.debug("last checkpoint not read: %s", e)
                return value
            value = cp.ts_us / 1e6 if cp is not None else math.nan
        self._checkpoint = (now, value)
        return value

    # -- Service -----------------------------------------------------------------------
    async def start(self) -> None:
        self._thread = threading.Thread(target=self.server.serve_forever, name="slaproof-metrics", daemon=True)
        self._thread.start()
        log.info("serving /metrics on http://%s/metrics", self.d.settings.agent.metrics.listen)

    async def stop(self) -> None:
        if self._thread is not None:
            self.server.shutdown()
            self._thread.join(5)
        self.server.server_close()
