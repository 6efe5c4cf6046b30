"""Opening the ICMP socket of one address family, and saying how to grant the right to.

Kept apart from the Pinger because it is the one place that depends on the
host's privileges (CAP_NET_RAW or ``net.ipv4.ping_group_range``) and on Linux
socket options Python does not export; the socket it returns is fully set up
(kernel receive timestamps, a large receive buffer, the ICMP filter or the
error queue), so the receive loop only reads.
"""

from __future__ import annotations

import errno
import socket
import struct
from collections.abc import Callable

__all__ = [
    "ICMP_SOCKET_MODES",
    "PERMISSION_HELP",
    "IcmpPermissionError",
    "SocketFactory",
    "open_icmp_socket",
]

# Linux socket option numbers Python 3.11 does not export.
SO_TIMESTAMPNS = 35  # SCM_TIMESTAMPNS: struct timespec, CLOCK_REALTIME
SO_RCVBUFFORCE = 33
IP_RECVERR = 11
IPV6_RECVERR = 25
ICMP_FILTER = 1  # SOL_RAW (255), raw IPv4 sockets
ICMP6_FILTER = 1  # IPPROTO_ICMPV6, raw IPv6 sockets
SOL_RAW = 255
SO_EE_ORIGIN_ICMP = 2
SO_EE_ORIGIN_ICMP6 = 3

# The ICMP types a raw socket lets through: echo reply and the errors that
# quote our requests (unreachable, time exceeded; v6 also packet too big).
_V4_KEEP = (0, 3, 11)
_V6_KEEP = (1, 2, 3, 129)

ICMP_SOCKET_MODES = {"auto": (True, False), "raw": (True,), "dgram": (False,)}  # raw? in order of preference

PERMISSION_HELP = (
    "cannot open an ICMP socket: raw sockets need CAP_NET_RAW and unprivileged "
    "ping sockets are not allowed for this group. Grant it one of these ways: "
    "run the agent as root; or `sudo setcap cap_net_raw+ep $(readlink -f $(which python3))` "
    "(the python binary that runs slaproof); or "
    '`sudo sysctl -w net.ipv4.ping_group_range="0 2147483647"` '
    "(persist it in /etc/sysctl.d/); or in the systemd unit "
    "`AmbientCapabilities=CAP_NET_RAW` (with `CapabilityBoundingSet=CAP_NET_RAW`)."
)

SocketFactory = Callable[[int, int, int], socket.socket]


class IcmpPermissionError(PermissionError):
    """Neither a raw nor a datagram ICMP socket could be opened; ``str()`` says how to grant it."""

    def __init__(self, family: int, detail: str = "") -> None:
        fam = "IPv6" if family == socket.AF_INET6 else "IPv4"
        msg = f"{fam}: {PERMISSION_HELP}"
        if detail:
            msg += f" (system said: {detail})"
        super().__init__(errno.EPERM, msg)
        self.family = family

    def __str__(self) -> str:  # PermissionError would prefix "[Errno 1]"
        return self.strerror or ""


def _create(factory: SocketFactory, family: int, mode: str) -> tuple[socket.socket, bool]:
    """The first socket kind ``mode`` allows that we may open; (socket, is raw)."""
    proto = socket.IPPROTO_ICMPV6 if family == socket.AF_INET6 else socket.IPPROTO_ICMP
    errors: list[str] = []
    for raw in ICMP_SOCKET_MODES[mode]:
        try:
            return factory(family, socket.SOCK_RAW if raw else socket.SOCK_DGRAM, proto), raw
        except (PermissionError, OSError) as e:
            if isinstance(e, PermissionError) or e.errno in (errno.EPERM, errno.EACCES):
                errors.append(f"{'raw' if raw else 'dgram'}: {e.strerror or e}")
                continue
            raise
    raise IcmpPermissionError(family, "; ".join(errors))


def _filter_raw(sock: socket.socket, v6: bool) -> None:
    """Let only echo replies and the errors that quote a request reach a raw socket."""
    if v6:  # struct icmp6_filter: a set bit blocks that type
        bits = [0xFFFFFFFF] * 8
        for t in _V6_KEEP:
            bits[t >> 5] &= ~(1 << (t & 31))
        sock.setsockopt(socket.IPPROTO_ICMPV6, ICMP6_FILTER, struct.pack("8I", *bits))
    else:  # a set bit blocks that type
        mask = 0xFFFFFFFF
        for t in _V4_KEEP:
            mask &= ~(1 << t)
        sock.setsockopt(SOL_RAW, ICMP_FILTER, struct.pack("I", mask))


def _bind_dgram(sock: socket.socket, v6: bool) -> int:
    """ICMP errors for ping sockets arrive on the error queue; return the kernel's identifier."""
    if v6:
        sock.setsockopt(socket.IPPROTO_IPV6, IPV6_RECVERR, 1)
        sock.bind(("::", 0))
    else:
        sock.setsockopt(socket.IPPROTO_IP, IP_RECVERR, 1)
        sock.bind(("0.0.0.0", 0))
    port: int = sock.getsockname()[1]  # the kernel rewrites the echo identifier to this
    return port


def open_icmp_socket(
    factory: SocketFactory, family: int, *, mode: str, rcvbuf_bytes: int, raw_ident: int
) -> tuple[socket.socket, bool, int]:
    """A non-blocking ICMP socket of ``family``, set up: (socket, is raw, echo identifier).

    ``mode`` is "auto" (raw, else datagram), "raw" or "dgram".  Raises
    :class:`IcmpPermissionError` when no kind may be opened.  ``raw_ident`` is
    the identifier a raw socket sends with; a datagram socket's is the one the
    kernel assigns.
    """
    sock, raw = _create(factory, family, mode)
    try:
        sock.setblocking(False)
        sock.setsockopt(socket.SOL_SOCKET, SO_TIMESTAMPNS, 1)
        try:  # as root this may exceed net.core.rmem_max
            sock.setsockopt(socket.SOL_SOCKET, SO_RCVBUFFORCE, rcvbuf_bytes)
        except OSError:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf_bytes)
        v6 = family == socket.AF_INET6
        if raw:
            _filter_raw(sock, v6)
            ident = raw_ident
        else:
            ident = _bind_dgram(sock, v6)
    except BaseException:
        sock.close()
        raise
    return sock, raw, ident
