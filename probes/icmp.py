"""ICMP echo probe that stays accurate with a thousand targets in one process.

Why not icmplib's ``multiping``: it opens one socket per host and reads replies
when the event loop gets round to it, so with 50–200 concurrent hosts it reported
73–165 ms on a 0.01 ms path.  Here, like fping:

* one socket per address family for the whole process (raw where we hold
  CAP_NET_RAW, else the unprivileged datagram "ping" socket);
* one reader per socket registered with the event loop, dispatching replies by
  (identifier, sequence) to the pending request;
* RTT = kernel receive timestamp of the reply (``SO_TIMESTAMPNS``, CLOCK_REALTIME)
  minus ``time.time_ns()`` read immediately before ``sendto`` (same clock), so a
  busy event loop delays *reading* a reply but not its measured RTT;
* sends paced per socket, receive buffer enlarged, so a burst of replies is not
  dropped by the kernel.

A failed check is a :class:`ProbeResult` with ``ok=False`` and an error class,
never an exception (that includes missing privileges: error class
``permission``).  :meth:`Pinger.open` raises :class:`IcmpPermissionError` for a
fail-fast start-up check.

This module is the API (the Pinger: sockets per family, sending, one
``ping()``); the parts live beside it: :mod:`probes.icmp_socket` (opening a
socket, privileges), :mod:`probes.icmp_receive` (the reader that matches
replies and errors to requests), :mod:`probes.icmp_timing` (the RTT rule and
send pacing), :mod:`probes.icmp_summary` (figures of one ping) and
:mod:`probes.icmp_packet` (bytes).
"""

from __future__ import annotations

import asyncio
import errno
import os
import random
import socket
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from agent.core import result as R
from agent.core.result import ProbeResult
from probes.icmp_packet import COOKIE_LEN, build_echo, make_payload
from probes.icmp_receive import Channel, Dispatcher, Pending, norm
from probes.icmp_socket import (
    ICMP_SOCKET_MODES,
    PERMISSION_HELP,
    IcmpPermissionError,
    SocketFactory,
    open_icmp_socket,
)
from probes.icmp_summary import Probe, summarise
from probes.icmp_timing import Pacer, rtt_from_timestamps

__all__ = [
    "PERMISSION_HELP",
    "IcmpPermissionError",
    "Pinger",
    "SocketFactory",
    "ping_sync",
    "rtt_from_timestamps",
]

SEND_ATTEMPTS = 5  # sendto tries while the socket's send buffer is full
LITERALS_MAX = 65536  # parsed address literals kept


def _utc(ns: int) -> datetime:
    """A CLOCK_REALTIME reading in ns as an aware UTC datetime (µs)."""
    return datetime.fromtimestamp(ns / 1e9, UTC)


class Pinger:
    """Process-wide ICMP echo engine for asyncio; create one and share it.

    Sockets are opened lazily on first use of each family and bound to the
    running event loop at that moment; use one Pinger per loop.
    """

    def __init__(
        self,
        *,
        send_gap_s: float = 0.0002,
        send_burst: int = 8,
        rcvbuf_bytes: int = 4 * 1024 * 1024,
        late_window_s: float = 60.0,
        mode: str = "auto",
        socket_factory: SocketFactory | None = None,
        wall_ns: Callable[[], int] = time.time_ns,
        clock_ns: Callable[[], int] = time.monotonic_ns,
    ) -> None:
        """``mode``: "auto" (raw, else datagram), "raw" or "dgram".
        ``socket_factory(family, type, proto)`` exists for tests (e.g. to open
        sockets inside a network namespace, or to simulate EPERM).

        ``wall_ns`` (CLOCK_REALTIME ns) stamps each send and gives ``started_at``;
        it must be the clock of the kernel's receive stamps, so a test that
        injects another one sees RTTs fall back to the monotonic interval
        (``clock_fallbacks``).  ``clock_ns`` (monotonic ns) paces and spaces
        sends, bounds that fallback and ages the late-reply window.  The
        timeouts run on the event loop's own clock."""
        if mode not in ICMP_SOCKET_MODES:
            raise ValueError(f"mode must be auto, raw or dgram, not {mode!r}")
        self._mode = mode
        self._factory: SocketFactory = socket_factory or socket.socket
        self._gap = send_gap_s
        self._burst = send_burst
        self._rcvbuf = rcvbuf_bytes
        self._wall_ns = wall_ns
        self._clock_ns = clock_ns
        self._channels: dict[int, Channel] = {}
        self._raw_ident = (os.getpid() ^ random.randrange(0x10000)) & 0xFFFF
        self._cookie = os.urandom(COOKIE_LEN)
        self._payloads: dict[int, bytes] = {}  # payload by size (the cookie is fixed per Pinger)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._closed = False
        self.stats: dict[str, int] = {
            "sent": 0,
            "replies": 0,
            "duplicates": 0,
            "late": 0,
            "foreign": 0,
            "icmp_errors": 0,
            "send_errors": 0,
            "clock_fallbacks": 0,
            "recv_errors": 0,
        }
        self._rx = Dispatcher(
            cookie=self._cookie,
            late_window_ns=int(late_window_s * 1e9),
            stats=self.stats,
            wall_ns=wall_ns,
            clock_ns=clock_ns,
            first_seq=random.randrange(0x10000),
        )

    # ------------------------------------------------------------ lifecycle

    async def __aenter__(self) -> Pinger:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def open(self, family: int = socket.AF_INET) -> str:
        """Open the socket for ``family`` now (normally lazy); return "raw" or
        "dgram".  Raises :class:`IcmpPermissionError` with how-to-grant text."""
        return self._channel(family).mode

    def mode_of(self, family: int) -> str | None:
        """"raw"/"dgram" for an open family, ``None`` if not opened yet."""
        ch = self._channels.get(family)
        return ch.mode if ch else None

    async def close(self) -> None:
        """Stop readers, close sockets, finish pending pings (as not answered)."""
        self._closed = True
        self._rx.abort_all()
        for ch in self._channels.values():
            if self._loop is not None:
                try:
                    self._loop.remove_reader(ch.sock.fileno())
                except (ValueError, RuntimeError):
                    pass
            ch.sock.close()
        self._channels.clear()

    def _channel(self, family: int) -> Channel:
        ch = self._channels.get(family)
        if ch is not None:
            return ch
        if self._closed:
            raise RuntimeError("Pinger is closed")
        loop = asyncio.get_running_loop()
        if self._loop is None:
            self._loop = loop
        elif self._loop is not loop:
            raise RuntimeError("a Pinger is bound to the event loop it was first used on")
        sock, raw, ident = open_icmp_socket(
            self._factory, family, mode=self._mode, rcvbuf_bytes=self._rcvbuf, raw_ident=self._raw_ident
        )
        try:
            ch = Channel(sock, family, raw, ident, Pacer(self._gap, self._burst, self._clock_ns))
            loop.add_reader(sock.fileno(), self._rx.on_readable, ch)
        except BaseException:
            sock.close()
            raise
        self._channels[family] = ch
        return ch

    # --------------------------------------------------------------- sending

    async def _send_one(
        self,
        ch: Channel,
        probe: Probe,
        index: int,
        sockaddr: tuple[Any, ...],
        payload: bytes,
        timeout_s: float,
    ) -> tuple[asyncio.Future[None], int]:
        """Send one request; return its future and the realtime stamp taken before sendto."""
        loop = asyncio.get_running_loop()
        delay = ch.pacer.reserve()
        if delay > 0:
            await asyncio.sleep(delay)
        rx = self._rx
        key = rx.next_key(ch)
        pkt = build_echo(ch.v6, ch.ident, key[2], payload)
        fut: asyncio.Future[None] = loop.create_future()
        pend = Pending(probe, index, fut)
        rx.pending[key] = pend
        clock_ns, wall_ns = self._clock_ns, self._wall_ns
        for attempt in range(SEND_ATTEMPTS):
            # Both stamps as close to sendto as Python allows; realtime last.
            pend.send_mono_ns = clock_ns()
            pend.send_real_ns = wall_ns()
            try:
                ch.sock.sendto(pkt, sockaddr)
                break
            except (BlockingIOError, InterruptedError):
                if attempt == SEND_ATTEMPTS - 1:
                    rx.send_failed(key, pend, OSError(errno.EAGAIN, "socket send buffer full"))
                    return fut, pend.send_real_ns
                await asyncio.sleep(0.001 * (attempt + 1))
            except OSError as e:
                rx.send_failed(key, pend, e)
                return fut, pend.send_real_ns
        self.stats["sent"] += 1
        pend.timer = loop.call_later(timeout_s, rx.expire, key)
        return fut, pend.send_real_ns

    # ------------------------------------------------------------------ API

    async def ping(
        self,
        address: str,
        *,
        count: int = 3,
        spacing_s: float = 0.2,
        timeout_s: float = 1.0,
        payload_size: int = 56,
        family: int = socket.AF_UNSPEC,
        dns_timeout_s: float = 5.0,
    ) -> ProbeResult:
        """Send ``count`` echo requests ``spacing_s`` apart to ``address`` (name or
        literal, IPv4 or IPv6) and wait up to ``timeout_s`` for each reply."""
        if count < 1:
            raise ValueError("count must be >= 1")
        if not 0 <= payload_size <= 65000:
            raise ValueError("payload_size must be within 0..65000")
        asked_at = _utc(self._wall_ns())
        try:
            fam, sockaddr = await _resolve(address, family, dns_timeout_s)
        except _DnsError as e:
            return ProbeResult(
                "icmp", asked_at, False, figures={"address": None}, error_class=R.DNS, error=str(e)
            )
        target = norm(sockaddr[0])
        try:
            ch = self._channel(fam)
        except IcmpPermissionError as e:
            return ProbeResult(
                "icmp", asked_at, False, figures={"address": target}, error_class=R.PERMISSION, error=str(e)
            )
        except OSError as e:
            return ProbeResult(
                "icmp", asked_at, False, figures={"address": target}, error_class=R.INTERNAL,
                error=f"cannot open ICMP socket: {e}",
            )
        probe = Probe(target, count, cookie_len=min(COOKIE_LEN, payload_size))
        payload = self._payloads.get(payload_size)
        if payload is None:
            payload = self._payloads[payload_size] = make_payload(self._cookie, payload_size)
        try:
            first_real = await self._send_all(ch, probe, sockaddr, payload, spacing_s, timeout_s)
        except asyncio.CancelledError:
            self._rx.forget(probe)
            raise
        started = _utc(first_real) if first_real else asked_at
        return summarise(probe, started, ch.mode)

    async def _send_all(
        self, ch: Channel, probe: Probe, sockaddr: tuple[Any, ...], payload: bytes, spacing_s: float,
        timeout_s: float,
    ) -> int:
        """Send the ping's requests on schedule, wait for all; the first send's realtime stamp."""
        futures: list[asyncio.Future[None]] = []
        first_send_mono = 0
        first_real = 0
        for i in range(probe.count):
            if i:
                due = first_send_mono + int(i * spacing_s * 1e9)
                wait = (due - self._clock_ns()) / 1e9
                if wait > 0:
                    await asyncio.sleep(wait)
            fut, real_ns = await self._send_one(ch, probe, i, sockaddr, payload, timeout_s)
            futures.append(fut)
            if i == 0:
                first_send_mono = self._clock_ns()
                first_real = real_ns
        await asyncio.gather(*futures)
        return first_real


# ----------------------------------------------------------------- resolving


class _DnsError(Exception):
    pass


_LITERALS: dict[tuple[str, int], tuple[int, tuple[Any, ...]]] = {}


async def _resolve(address: str, family: int, timeout_s: float) -> tuple[int, tuple[Any, ...]]:
    """(family, sockaddr).  Literals are parsed locally; names go to the system
    resolver via loop.getaddrinfo, bounded by ``timeout_s``."""
    hit = _LITERALS.get((address, family))
    if hit is not None:
        return hit
    try:
        infos = socket.getaddrinfo(address, None, family, socket.SOCK_RAW, 0, socket.AI_NUMERICHOST)
    except (socket.gaierror, UnicodeError):
        infos = None
    if infos:  # a literal: the same answer every time (names are resolved afresh, their answers change)
        for fam, _t, _p, _c, sockaddr in infos:
            if fam in (socket.AF_INET, socket.AF_INET6):
                if len(_LITERALS) >= LITERALS_MAX:
                    _LITERALS.clear()
                _LITERALS[(address, family)] = (fam, sockaddr)
                return fam, sockaddr
    if not infos:
        loop = asyncio.get_running_loop()
        try:
            infos = await asyncio.wait_for(
                loop.getaddrinfo(address, None, family=family, type=socket.SOCK_RAW), timeout_s
            )
        except TimeoutError:
            raise _DnsError(f"resolving {address!r} timed out after {timeout_s:g} s") from None
        except (socket.gaierror, UnicodeError) as e:
            raise _DnsError(f"cannot resolve {address!r}: {e}") from None
    for fam, _t, _p, _c, sockaddr in infos:
        if fam in (socket.AF_INET, socket.AF_INET6):
            return fam, sockaddr
    raise _DnsError(f"{address!r} has no IPv4/IPv6 address")


def ping_sync(address: str, **kw: Any) -> ProbeResult:
    """One-shot ping for the CLI (``slaproof probe``): its own loop and Pinger."""

    async def run() -> ProbeResult:
        async with Pinger() as p:
            return await p.ping(address, **kw)

    return asyncio.run(run())
