"""TCP connect probe: how long the three-way handshake to host:port takes.

Name resolution is done (and timed) apart from the connect, so that
``connect_ms`` is the handshake alone and a DNS failure is told apart from a
dead service. The helpers ``resolve``, ``hostport`` and ``classify_os_error``
are shared by the HTTP and traceroute probes.
"""

from __future__ import annotations

import asyncio
import errno
import socket
import time
from collections.abc import Callable
from datetime import datetime
from typing import Any

from agent.core.result import (
    DNS,
    INTERNAL,
    PERMISSION,
    REFUSED,
    TIMEOUT,
    UNREACHABLE,
    ProbeResult,
    utcnow,
)

KIND = "tcp"

# errno values that mean "no path to the host": the network said so, or the
# local stack has no route / no usable source address.
UNREACHABLE_ERRNOS = frozenset(
    {
        errno.EHOSTUNREACH,
        errno.ENETUNREACH,
        errno.ENETDOWN,
        errno.EHOSTDOWN,
        errno.EADDRNOTAVAIL,
    }
)
# A local firewall (OUTPUT DROP/REJECT) answers EPERM/EACCES: the agent's own
# side, not the provider's.
PERMISSION_ERRNOS = frozenset({errno.EPERM, errno.EACCES})


def hostport(host: str, port: int) -> str:
    """``host:port`` with IPv6 literals bracketed, for messages."""
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def ms_between(start_ns: int, end_ns: int) -> float:
    """Milliseconds between two perf_counter_ns readings, to the microsecond."""
    return round((end_ns - start_ns) / 1e6, 3)


def family_name(family: int) -> str:
    return "ipv6" if family == socket.AF_INET6 else "ipv4"


async def resolve(
    host: str,
    port: int,
    *,
    socktype: int = socket.SOCK_STREAM,
    clock_ns: Callable[[], int] = time.perf_counter_ns,
) -> tuple[list[tuple[int, tuple[Any, ...]]], float]:
    """Resolve ``host`` (a name or an IP literal) to (family, sockaddr) pairs, timed.

    Returns the addresses in getaddrinfo order (RFC 6724 preference) without
    duplicates, and the time the lookup took in ms (on ``clock_ns``, a
    monotonic ns clock). Raises ``socket.gaierror``.
    """
    host = host.strip("[]")
    loop = asyncio.get_running_loop()
    t0 = clock_ns()
    infos = await loop.getaddrinfo(host, port, type=socktype)
    t1 = clock_ns()
    seen: set[tuple[int, Any]] = set()
    out: list[tuple[int, tuple[Any, ...]]] = []
    for family, _type, _proto, _canon, sockaddr in infos:
        if int(family) not in (socket.AF_INET, socket.AF_INET6):  # e.g. AF_UNIX never, but typeshed cannot know
            continue
        key = (family, sockaddr[0])
        if key not in seen:
            seen.add(key)
            out.append((family, sockaddr))
    if not out:
        raise socket.gaierror(socket.EAI_NONAME, f"no IPv4/IPv6 address for {host}")
    return out, ms_between(t0, t1)


def classify_os_error(exc: BaseException) -> str | None:
    """The error class for a socket-level exception, or None if not one we know."""
    if isinstance(exc, (socket.gaierror, UnicodeError)):
        # UnicodeError: the name cannot even be IDNA-encoded (empty/long label).
        return DNS
    if isinstance(exc, ConnectionRefusedError):
        return REFUSED
    if isinstance(exc, (TimeoutError, socket.timeout)):
        return TIMEOUT
    if isinstance(exc, OSError) and exc.errno is not None:
        if exc.errno == errno.ECONNREFUSED:
            return REFUSED
        if exc.errno == errno.ETIMEDOUT:
            return TIMEOUT
        if exc.errno in UNREACHABLE_ERRNOS:
            return UNREACHABLE
        if exc.errno in PERMISSION_ERRNOS:
            return PERMISSION
    return None


_MESSAGES = {
    REFUSED: "connection refused",
    TIMEOUT: "no answer",
    UNREACHABLE: "host or network unreachable",
    DNS: "name did not resolve",
    PERMISSION: "connect not permitted locally (firewall or policy)",
}


async def tcp_check(
    host: str,
    port: int,
    *,
    timeout_s: float = 5.0,
    wall: Callable[[], datetime] = utcnow,
    clock_ns: Callable[[], int] = time.perf_counter_ns,
) -> ProbeResult:
    """Connect to host:port, time the handshake only, close at once.

    ``timeout_s`` bounds resolution plus connect. Figures: ``address``,
    ``port``, ``family``, ``dns_ms``, ``connect_ms``; ``rtt_ms`` = connect time.
    ``wall`` gives ``started_at``; ``clock_ns`` (monotonic ns) times DNS and
    the handshake. The timeout runs on the event loop's own clock.
    """
    started_at = wall()
    figures: dict[str, Any] = {"host": host, "port": port}
    where = hostport(host.strip("[]"), port)
    sock: socket.socket | None = None
    phase = "dns"
    try:
        async with asyncio.timeout(timeout_s):
            addrs, dns_ms = await resolve(host, port, clock_ns=clock_ns)
            figures["dns_ms"] = dns_ms
            family, sockaddr = addrs[0]
            figures["address"] = sockaddr[0]
            figures["family"] = family_name(family)
            phase = "connect"
            sock = socket.socket(family, socket.SOCK_STREAM)
            sock.setblocking(False)
            loop = asyncio.get_running_loop()
            t0 = clock_ns()
            await loop.sock_connect(sock, sockaddr)
            t1 = clock_ns()
    except (OSError, TimeoutError, UnicodeError) as exc:
        error_class = classify_os_error(exc) or INTERNAL
        if error_class == TIMEOUT:
            detail = f"no answer within {timeout_s:g} s ({phase})"
        else:
            detail = _MESSAGES.get(error_class, "unexpected socket error")
        if error_class in (INTERNAL, UNREACHABLE, PERMISSION) and str(exc):
            detail = f"{detail}: {exc}"
        return ProbeResult(
            kind=KIND,
            started_at=started_at,
            ok=False,
            figures=figures,
            error_class=error_class,
            error=f"tcp {where}: {detail}",
        )
    finally:
        if sock is not None:
            sock.close()
    connect_ms = ms_between(t0, t1)
    figures["connect_ms"] = connect_ms
    return ProbeResult(kind=KIND, started_at=started_at, ok=True, rtt_ms=connect_ms, figures=figures)
