"""HTTP throughput runner: parallel streamed downloads or uploads with httpx.

Each stream loops: request, stream the body (download) or send generated
bytes (upload), and request again when the body ends before the cap, so a
small test file still gives a sustained transfer. A sampler reads one shared
byte counter every ``sample_interval_s``. The first failure of any stream ends
the run (with what was measured so far); every connect/read/write has a
timeout, so a server that stalls after its headers fails, it does not hang.
"""

from __future__ import annotations

import asyncio
import os
import ssl
from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx

from agent.core.result import HTTP_STATUS, INTERNAL, PROTOCOL, TIMEOUT, TLS, UNREACHABLE
from probes.bandwidth_model import (
    BandwidthError,
    BandwidthSettings,
    Measurement,
    summarise_ticks,
)
from probes.tcp import classify_os_error

# Upload chunk sizes: a chunk is counted when it has been handed to the socket,
# so a chunk is the counting granularity. Small on slow links (≥ 16 chunks per
# stream per sample interval), large on fast ones (less per-call overhead).
UPLOAD_CHUNKS = (16 * 1024, 64 * 1024, 256 * 1024, 1024 * 1024)
CHUNKS_PER_INTERVAL = 16
UPLOAD_REQUEST_MAX = 256 * 1024 * 1024  # stays under the responder's default per-request cap
MAX_REQUESTS_PER_STREAM = 100_000  # bound on re-requests of a tiny body
_RANDOM = os.urandom(UPLOAD_CHUNKS[-1])
# bytes, not memoryview: h11 then sends them without a copy
_UPLOAD_BYTES = {n: _RANDOM[:n] for n in UPLOAD_CHUNKS}


def upload_chunk_size(rate_bytes_per_s: float, sample_interval_s: float) -> int:
    """The largest chunk that still gives ≥ CHUNKS_PER_INTERVAL chunks per interval."""
    target = rate_bytes_per_s * sample_interval_s / CHUNKS_PER_INTERVAL
    best = UPLOAD_CHUNKS[0]
    for n in UPLOAD_CHUNKS:
        if n <= target:
            best = n
    return best


class _Run:
    """Shared state of one transfer: the byte counter, the stop signal, the first error."""

    def __init__(self, max_bytes: int) -> None:
        self.total = 0
        self.max_bytes = max_bytes
        self.done = asyncio.Event()
        self.error: BandwidthError | None = None

    def add(self, n: int) -> bool:
        """Count ``n`` bytes; False once the byte cap is reached (stop moving data)."""
        self.total += n
        if self.total >= self.max_bytes:
            self.done.set()
            return False
        return not self.done.is_set()

    def fail(self, err: BandwidthError) -> None:
        if self.error is None:
            self.error = err
        self.done.set()


def _cause_chain(exc: BaseException) -> list[BaseException]:
    out, seen = [], set()
    cur: BaseException | None = exc
    while cur is not None and id(cur) not in seen:
        seen.add(id(cur))
        out.append(cur)
        cur = cur.__cause__ or cur.__context__
    return out


def classify_httpx(exc: BaseException) -> tuple[str, str]:
    """(error class, message) for an httpx exception, most specific first."""
    msg = str(exc) or type(exc).__name__
    if isinstance(exc, httpx.TimeoutException):
        what = {httpx.ConnectTimeout: "connect", httpx.ReadTimeout: "read",
                httpx.WriteTimeout: "write", httpx.PoolTimeout: "pool"}.get(type(exc), "")
        return TIMEOUT, f"{what} timeout: no data within the timeout".strip()
    for e in _cause_chain(exc):
        if isinstance(e, ssl.SSLError):
            return TLS, msg
        cls = classify_os_error(e)
        if cls is not None:
            return cls, msg
    if isinstance(exc, httpx.ConnectError):
        return UNREACHABLE, msg
    if isinstance(exc, (httpx.RemoteProtocolError, httpx.ReadError, httpx.WriteError,
                        httpx.LocalProtocolError)):
        return PROTOCOL, msg
    if isinstance(exc, httpx.TransportError):
        return PROTOCOL, msg
    return INTERNAL, f"{type(exc).__name__}: {msg}"


def _check_status(resp: httpx.Response) -> None:
    if not 200 <= resp.status_code < 300:
        raise BandwidthError(HTTP_STATUS, f"HTTP {resp.status_code} from {resp.request.url}")


async def _download_stream(client: httpx.AsyncClient, url: str, run: _Run,
                           headers: dict[str, str]) -> None:
    for _ in range(MAX_REQUESTS_PER_STREAM):
        async with client.stream("GET", url, headers=headers) as resp:
            _check_status(resp)
            async for chunk in resp.aiter_raw():
                if not run.add(len(chunk)):
                    return
        # Body complete before the cap: ask again (a small test file still works).


async def _upload_stream(client: httpx.AsyncClient, url: str, run: _Run, size: int,
                         auth: dict[str, str], interval_s: float, clock: Callable[[], float]) -> None:
    sent, t0 = 0, clock()

    async def body() -> AsyncIterator[bytes]:
        nonlocal sent
        left = size
        while left > 0:
            elapsed = clock() - t0
            chunk = upload_chunk_size(sent / elapsed if elapsed > 0 else 0.0, interval_s)
            n = min(left, chunk)
            yield _UPLOAD_BYTES[chunk] if n == chunk else _RANDOM[:n]
            # Resumed: the previous chunk is in the socket, so it counts now.
            left -= n
            sent += n
            if not run.add(n):
                await asyncio.Event().wait()  # capped: wait to be cancelled, keep the body valid

    for _ in range(MAX_REQUESTS_PER_STREAM):
        headers = {**auth, "Content-Length": str(size), "Content-Type": "application/octet-stream"}
        resp = await client.post(url, content=body(), headers=headers)
        _check_status(resp)


async def _preflight_upload(client: httpx.AsyncClient, url: str, own_client: bool,
                            headers: dict[str, str]) -> None:
    """An empty POST first: a refusal (401, 404 …) then comes back as a clean status.

    Without it the server answers while the client is still sending, closes,
    and the answer is lost in the reset.
    """
    try:
        resp = await client.post(url, content=b"", headers=headers)
        _check_status(resp)
    except BandwidthError:
        if own_client:
            await client.aclose()
        raise
    except Exception as exc:
        if own_client:
            await client.aclose()
        raise BandwidthError(*classify_httpx(exc)) from None


async def _stream_task(coro: Any, run: _Run) -> None:
    try:
        await coro
    except asyncio.CancelledError:
        raise
    except BandwidthError as exc:
        run.fail(exc)
    except Exception as exc:
        run.fail(BandwidthError(*classify_httpx(exc)))


def request_headers(settings: BandwidthSettings) -> dict[str, str]:
    """Per-request headers: no compression (count wire bytes), the token if any."""
    headers = {"Accept-Encoding": "identity"}
    if settings.token:
        headers["Authorization"] = f"Bearer {settings.token}"
    return headers


def make_client(settings: BandwidthSettings) -> httpx.AsyncClient:
    """An HTTP/1.1 client with one connection per stream; no proxies from the environment."""
    t = min(settings.timeout_s, settings.max_seconds)
    return httpx.AsyncClient(
        http1=True,
        http2=False,
        trust_env=False,
        verify=settings.verify_tls,
        follow_redirects=False,
        timeout=httpx.Timeout(t),
        limits=httpx.Limits(max_connections=settings.streams, max_keepalive_connections=settings.streams),
    )


async def run_http(settings: BandwidthSettings, direction: str, *,
                   clock: Callable[[], float], client: httpx.AsyncClient | None = None) -> Measurement:
    """One timed transfer; raises BandwidthError (with the partial measurement) on failure."""
    assert settings.url is not None
    own_client = client is None
    if client is None:
        client = make_client(settings)
    headers = request_headers(settings)
    if direction == "upload":
        await _preflight_upload(client, settings.url, own_client, headers)
    run = _Run(settings.max_bytes)
    per_request = min(UPLOAD_REQUEST_MAX, -(-settings.max_bytes // settings.streams))
    tasks: list[asyncio.Task[None]] = []
    ticks: list[tuple[float, int]] = []
    stopped_by: str | None = None
    t0 = clock()
    try:
        for _ in range(settings.streams):
            if direction == "upload":
                coro = _upload_stream(client, settings.url, run, per_request, headers,
                                      settings.sample_interval_s, clock)
            else:
                coro = _download_stream(client, settings.url, run, headers)
            tasks.append(asyncio.create_task(_stream_task(coro, run)))
        ticks.append((t0, 0))
        deadline = t0 + settings.max_seconds
        next_tick = t0 + settings.sample_interval_s
        # Bounded: one pass per sample interval until the time cap.
        for _ in range(int(settings.max_seconds / settings.sample_interval_s) + 2):
            wait = min(next_tick, deadline) - clock()
            if wait > 0:
                try:
                    await asyncio.wait_for(run.done.wait(), wait)
                except TimeoutError:
                    pass
            now = clock()
            ticks.append((now, run.total))
            if run.done.is_set() or now >= deadline - 1e-6:
                break
            while next_tick <= now:
                next_tick += settings.sample_interval_s
        if run.error is None:
            stopped_by = "bytes" if run.total >= settings.max_bytes else "time"
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        if own_client:
            await client.aclose()

    samples, measured, measured_s, warm, mean = summarise_ticks(
        ticks, warmup_s=settings.warmup_s, warmup_bytes=settings.warmup_bytes,
        sample_interval_s=settings.sample_interval_s)
    m = Measurement(
        direction=direction, tool=f"httpx {httpx.__version__}", samples=samples,
        bytes_total=run.total, bytes_measured=measured, duration_s=ticks[-1][0] - t0,
        measured_s=measured_s, warmup_s=warm, mbps_mean=mean, stopped_by=stopped_by,
    )
    if run.error is not None:
        run.error.partial = m
        raise run.error
    if measured == 0:
        raise BandwidthError(TIMEOUT, f"no bytes moved in {measured_s:.1f} s after warm-up", m)
    return m
