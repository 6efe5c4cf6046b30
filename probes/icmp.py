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
"""

from __future__ import annotations

import asyncio
import errno
import functools
import ipaddress
import math
import os
import random
import socket
import struct
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from agent.core import result as R
from agent.core.result import ProbeResult
from probes.icmp_packet import (
    COOKIE_LEN,
    Echo,
    IcmpError,
    build_echo,
    make_payload,
    parse,
    parse_sent_echo,
)

__all__ = [
    "PERMISSION_HELP",
    "IcmpPermissionError",
    "Pinger",
    "ping_sync",
    "rtt_from_timestamps",
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

_TIMESPEC = struct.Struct("@qq")
_EXT_ERR = struct.Struct("@IBBBBII")  # struct sock_extended_err

PERMISSION_HELP = (
    "cannot open an ICMP socket: raw sockets need CAP_NET_RAW and unprivileged "
    "ping sockets are not allowed for this group. Grant it one of these ways: "
    "run the agent as root; or `sudo setcap cap_net_raw+ep $(readlink -f $(which python3))` "
    "(the python binary that runs slaproof); or "
    '`sudo sysctl -w net.ipv4.ping_group_range="0 2147483647"` '
    "(persist it in /etc/sysctl.d/); or in the systemd unit "
    "`AmbientCapabilities=CAP_NET_RAW` (with `CapabilityBoundingSet=CAP_NET_RAW`)."
)


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


SocketFactory = Callable[[int, int, int], socket.socket]


# --------------------------------------------------------------------------- RTT


def rtt_from_timestamps(
    send_real_ns: int,
    send_mono_ns: int,
    rx_real_ns: int | None,
    read_real_ns: int,
    read_mono_ns: int,
    *,
    step_tolerance_ns: int = 200_000,
) -> tuple[int, bool]:
    """RTT in ns from the kernel receive stamp, and whether we had to fall back.

    Both kernel stamp and send stamp are CLOCK_REALTIME, which can be stepped.
    Reading realtime and monotonic at send and again when the reply is read tells
    us whether the realtime clock moved relative to monotonic in between (a step;
    NTP slewing moves both alike).  If it did, or the kernel stamp is missing or
    outside [send, read], the kernel RTT cannot be trusted and we report the
    monotonic send→read interval instead (an upper bound: it includes event-loop
    delay) with the flag set.  Never negative.
    """
    mono_rtt = max(0, read_mono_ns - send_mono_ns)
    if rx_real_ns is None:
        return mono_rtt, True
    step = (read_real_ns - read_mono_ns) - (send_real_ns - send_mono_ns)
    rtt = rx_real_ns - send_real_ns
    if abs(step) > step_tolerance_ns or rtt < 0 or rtt > mono_rtt + step_tolerance_ns:
        return mono_rtt, True
    return rtt, False


# ------------------------------------------------------------------------ pacing


class _Pacer:
    """Virtual-schedule send pacing (GCRA): at most ``burst`` sends back to back,
    then one every ``gap_s``.  Reservations are taken in call order, so callers
    are served first come, first served."""

    def __init__(self, gap_s: float, burst: int, clock: Callable[[], float]) -> None:
        self.gap = max(0.0, gap_s)
        self.tau = self.gap * max(0, burst - 1)
        self.clock = clock
        self.tat = 0.0  # theoretical arrival time of the next send

    def reserve(self) -> float:
        """Reserve the next slot; return how long to wait before using it."""
        now = self.clock()
        tat = max(now, self.tat)
        self.tat = tat + self.gap
        return max(0.0, tat - now - self.tau)


# --------------------------------------------------------------------- channels


@dataclass(eq=False)
class _Channel:
    """One socket of one family, with its reader registered on the loop."""

    sock: socket.socket
    family: int
    raw: bool
    ident: int  # raw: ours; datagram: the port the kernel assigned (it rewrites the id)
    pacer: _Pacer
    buf: bytearray = field(default_factory=lambda: bytearray(65536))

    @property
    def v6(self) -> bool:
        return self.family == socket.AF_INET6

    @property
    def mode(self) -> str:
        return "raw" if self.raw else "dgram"


@dataclass(eq=False)
class _Probe:
    """Accumulates the replies of one ``ping()`` call."""

    target: str
    count: int
    rtts_ns: list[int | None]
    errors: list[IcmpError | None]
    send_errors: list[OSError | None]
    duplicates: int = 0
    late: int = 0
    fallbacks: int = 0
    cookie_len: int = 0  # leading payload bytes that must echo our cookie
    aborted: int = 0  # requests still waiting when the Pinger was closed
    error_from: list[str | None] = field(default_factory=list)


@dataclass(eq=False)
class _Pending:
    probe: _Probe
    index: int
    future: asyncio.Future[None]
    send_real_ns: int = 0
    send_mono_ns: int = 0
    timer: asyncio.TimerHandle | None = None


@functools.lru_cache(maxsize=65536)
def _norm(addr: str) -> str:
    """Canonical text of an address as the kernel reports it (drops IPv6 scope)."""
    return str(ipaddress.ip_address(addr.split("%", 1)[0]))


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
    ) -> None:
        """``mode``: "auto" (raw, else datagram), "raw" or "dgram".
        ``socket_factory(family, type, proto)`` exists for tests (e.g. to open
        sockets inside a network namespace, or to simulate EPERM)."""
        if mode not in ("auto", "raw", "dgram"):
            raise ValueError(f"mode must be auto, raw or dgram, not {mode!r}")
        self._mode = mode
        self._factory: SocketFactory = socket_factory or socket.socket
        self._gap = send_gap_s
        self._burst = send_burst
        self._rcvbuf = rcvbuf_bytes
        self._late_window_ns = int(late_window_s * 1e9)
        self._channels: dict[int, _Channel] = {}
        self._pending: dict[tuple[int, int, int], _Pending] = {}
        # key -> (probe, index, expiry mono ns): answered or expired, kept to
        # recognise duplicates and late replies instead of calling them foreign.
        self._recent: OrderedDict[tuple[int, int, int], tuple[_Probe, int, int]] = OrderedDict()
        self._seq = random.randrange(0x10000)
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
        for p in list(self._pending.values()):
            if p.timer:
                p.timer.cancel()
            p.probe.aborted += 1
            if not p.future.done():
                p.future.set_result(None)
        self._pending.clear()
        self._recent.clear()
        for ch in self._channels.values():
            if self._loop is not None:
                try:
                    self._loop.remove_reader(ch.sock.fileno())
                except (ValueError, RuntimeError):
                    pass
            ch.sock.close()
        self._channels.clear()

    # --------------------------------------------------------------- sockets

    def _open_socket(self, family: int) -> tuple[socket.socket, bool]:
        proto = socket.IPPROTO_ICMPV6 if family == socket.AF_INET6 else socket.IPPROTO_ICMP
        errors: list[str] = []
        kinds = {"auto": (True, False), "raw": (True,), "dgram": (False,)}[self._mode]
        for raw in kinds:
            try:
                return self._factory(family, socket.SOCK_RAW if raw else socket.SOCK_DGRAM, proto), raw
            except (PermissionError, OSError) as e:
                if isinstance(e, PermissionError) or e.errno in (errno.EPERM, errno.EACCES):
                    errors.append(f"{'raw' if raw else 'dgram'}: {e.strerror or e}")
                    continue
                raise
        raise IcmpPermissionError(family, "; ".join(errors))

    def _channel(self, family: int) -> _Channel:
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
        sock, raw = self._open_socket(family)
        try:
            sock.setblocking(False)
            sock.setsockopt(socket.SOL_SOCKET, SO_TIMESTAMPNS, 1)
            try:  # as root this may exceed net.core.rmem_max
                sock.setsockopt(socket.SOL_SOCKET, SO_RCVBUFFORCE, self._rcvbuf)
            except OSError:
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, self._rcvbuf)
            v6 = family == socket.AF_INET6
            if raw:
                ident = self._raw_ident
                if v6:  # struct icmp6_filter: a set bit blocks that type
                    bits = [0xFFFFFFFF] * 8
                    for t in (1, 2, 3, 129):
                        bits[t >> 5] &= ~(1 << (t & 31))
                    sock.setsockopt(socket.IPPROTO_ICMPV6, ICMP6_FILTER, struct.pack("8I", *bits))
                else:  # keep echo reply, dest unreachable, time exceeded only
                    mask = 0xFFFFFFFF & ~((1 << 0) | (1 << 3) | (1 << 11))
                    sock.setsockopt(SOL_RAW, ICMP_FILTER, struct.pack("I", mask))
            else:
                # ICMP errors for ping sockets arrive on the error queue.
                if v6:
                    sock.setsockopt(socket.IPPROTO_IPV6, IPV6_RECVERR, 1)
                    sock.bind(("::", 0))
                else:
                    sock.setsockopt(socket.IPPROTO_IP, IP_RECVERR, 1)
                    sock.bind(("0.0.0.0", 0))
                ident = sock.getsockname()[1]
            ch = _Channel(sock, family, raw, ident, _Pacer(self._gap, self._burst, time.monotonic))
            loop.add_reader(sock.fileno(), self._on_readable, ch)
        except BaseException:
            sock.close()
            raise
        self._channels[family] = ch
        return ch

    # --------------------------------------------------------------- reading

    def _on_readable(self, ch: _Channel) -> None:
        """Drain the socket (bounded) and dispatch; kernel stamps make reading late harmless."""
        sock = ch.sock
        mv = memoryview(ch.buf)
        for _ in range(2048):
            try:
                n, anc, _flags, addr = sock.recvmsg_into([mv], 256)
            except BlockingIOError:
                break
            except InterruptedError:
                continue
            except OSError:
                # A datagram ping socket reports a pending ICMP error once here;
                # the details are on the error queue, drained below.
                self.stats["recv_errors"] += 1
                continue
            read_mono = time.monotonic_ns()
            read_real = time.time_ns()
            rx = None
            for level, typ, data in anc:
                if level == socket.SOL_SOCKET and typ == SO_TIMESTAMPNS and len(data) >= 16:
                    sec, nsec = _TIMESPEC.unpack_from(data)
                    rx = sec * 1_000_000_000 + nsec
                    break
            msg = parse(mv[:n], ch.v6, ch.raw and not ch.v6)
            if msg is None:
                continue
            src = addr[0] if addr else ""
            if isinstance(msg, Echo):
                self._on_echo(ch, msg, src, rx, read_real, read_mono)
            else:
                self._on_error(ch, msg, src)
        if not ch.raw:
            self._drain_errqueue(ch)

    def _drain_errqueue(self, ch: _Channel) -> None:
        """ICMP errors for datagram ping sockets: our request quoted + sock_extended_err."""
        sock = ch.sock
        for _ in range(2048):
            try:
                data, anc, _flags, addr = sock.recvmsg(2048, 512, socket.MSG_ERRQUEUE)
            except (BlockingIOError, InterruptedError):
                return
            except OSError:
                self.stats["recv_errors"] += 1
                return
            idseq = parse_sent_echo(data)
            for level, typ, cdata in anc:
                if level in (socket.IPPROTO_IP, socket.IPPROTO_IPV6) and typ in (IP_RECVERR, IPV6_RECVERR):
                    if len(cdata) < _EXT_ERR.size or idseq is None:
                        continue
                    _eno, origin, etype, code, _pad, _info, _data = _EXT_ERR.unpack_from(cdata)
                    if origin not in (SO_EE_ORIGIN_ICMP, SO_EE_ORIGIN_ICMP6):
                        continue  # local errors are reported by sendto
                    offender = _offender(cdata[_EXT_ERR.size :])
                    dst = addr[0] if addr else ""
                    self._on_error(ch, IcmpError(idseq[0], idseq[1], dst, etype, code), offender)

    def _on_echo(
        self, ch: _Channel, msg: Echo, src: str, rx: int | None, read_real: int, read_mono: int
    ) -> None:
        key = (ch.family, ch.ident if not ch.raw else msg.ident, msg.seq)
        p = self._pending.get(key)
        if p is None or not self._is_ours(ch, p.probe, msg, src):
            self._on_unmatched(key, ch, msg, src)
            return
        rtt, fell_back = rtt_from_timestamps(p.send_real_ns, p.send_mono_ns, rx, read_real, read_mono)
        if fell_back:
            p.probe.fallbacks += 1
            self.stats["clock_fallbacks"] += 1
        p.probe.rtts_ns[p.index] = rtt
        self.stats["replies"] += 1
        self._finish(key, p)

    def _is_ours(self, ch: _Channel, probe: _Probe, msg: Echo, src: str) -> bool:
        """Same identifier (raw), our cookie back, from the address we pinged."""
        if ch.raw:
            if msg.ident != ch.ident:
                return False
            n = probe.cookie_len
            if n and msg.payload[:n] != self._cookie[:n]:
                return False
        try:
            return _norm(src) == probe.target
        except ValueError:
            return False

    def _on_unmatched(self, key: tuple[int, int, int], ch: _Channel, msg: Echo, src: str) -> None:
        """Duplicate (already answered), late (already given up) or not ours at all."""
        rec = self._recent.get(key)
        if rec is None or not self._is_ours(ch, rec[0], msg, src):
            self.stats["foreign"] += 1
            return
        probe, index, _exp = rec
        if probe.rtts_ns[index] is not None:
            probe.duplicates += 1
            self.stats["duplicates"] += 1
        else:
            probe.late += 1
            self.stats["late"] += 1

    def _on_error(self, ch: _Channel, err: IcmpError, src: str) -> None:
        ident = ch.ident if not ch.raw else err.ident
        if ch.raw and err.ident != ch.ident:
            return  # another program's request
        key = (ch.family, ident, err.seq)
        p = self._pending.get(key)
        try:
            if p is None or (err.original_dst and _norm(err.original_dst) != p.probe.target):
                return
        except ValueError:
            return
        self.stats["icmp_errors"] += 1
        p.probe.errors[p.index] = err
        p.probe.error_from[p.index] = src
        self._finish(key, p)

    def _finish(self, key: tuple[int, int, int], p: _Pending) -> None:
        self._pending.pop(key, None)
        if p.timer:
            p.timer.cancel()
        if not p.future.done():
            p.future.set_result(None)
        self._remember(key, p)

    def _expire(self, key: tuple[int, int, int]) -> None:
        p = self._pending.pop(key, None)
        if p is None:
            return
        if not p.future.done():
            p.future.set_result(None)
        self._remember(key, p)

    def _remember(self, key: tuple[int, int, int], p: _Pending) -> None:
        now = time.monotonic_ns()
        self._recent[key] = (p.probe, p.index, now + self._late_window_ns)
        self._recent.move_to_end(key)
        while self._recent:
            k, (_pr, _i, exp) = next(iter(self._recent.items()))
            if exp > now and len(self._recent) <= 0x8000:
                break
            del self._recent[k]

    # --------------------------------------------------------------- sending

    def _next_key(self, ch: _Channel) -> tuple[int, int, int]:
        """Sequence numbers are unique across the Pinger, so replies on a datagram
        socket (whose identifier the kernel chose) still match one request."""
        for _ in range(0x10000):
            self._seq = (self._seq + 1) & 0xFFFF
            key = (ch.family, ch.ident, self._seq)
            if key not in self._pending:
                self._recent.pop(key, None)
                return key
        raise RuntimeError("more than 65536 ICMP requests in flight")

    async def _send_one(
        self,
        ch: _Channel,
        probe: _Probe,
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
        key = self._next_key(ch)
        pkt = build_echo(ch.v6, ch.ident, key[2], payload)
        fut: asyncio.Future[None] = loop.create_future()
        pend = _Pending(probe, index, fut)
        self._pending[key] = pend
        for attempt in range(5):
            # Both stamps as close to sendto as Python allows; realtime last.
            pend.send_mono_ns = time.monotonic_ns()
            pend.send_real_ns = time.time_ns()
            try:
                ch.sock.sendto(pkt, sockaddr)
                break
            except (BlockingIOError, InterruptedError):
                if attempt == 4:
                    self._send_failed(key, pend, OSError(errno.EAGAIN, "socket send buffer full"))
                    return fut, pend.send_real_ns
                await asyncio.sleep(0.001 * (attempt + 1))
            except OSError as e:
                self._send_failed(key, pend, e)
                return fut, pend.send_real_ns
        self.stats["sent"] += 1
        pend.timer = loop.call_later(timeout_s, self._expire, key)
        return fut, pend.send_real_ns

    def _send_failed(self, key: tuple[int, int, int], p: _Pending, e: OSError) -> None:
        self.stats["send_errors"] += 1
        p.probe.send_errors[p.index] = e
        self._pending.pop(key, None)
        if not p.future.done():
            p.future.set_result(None)

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
        asked_at = R.utcnow()
        try:
            fam, sockaddr = await _resolve(address, family, dns_timeout_s)
        except _DnsError as e:
            return ProbeResult(
                "icmp", asked_at, False, figures={"address": None}, error_class=R.DNS, error=str(e)
            )
        target = _norm(sockaddr[0])
        try:
            ch = self._channel(fam)
        except IcmpPermissionError as e:
            return ProbeResult(
                "icmp",
                asked_at,
                False,
                figures={"address": target},
                error_class=R.PERMISSION,
                error=str(e),
            )
        except OSError as e:
            return ProbeResult(
                "icmp",
                asked_at,
                False,
                figures={"address": target},
                error_class=R.INTERNAL,
                error=f"cannot open ICMP socket: {e}",
            )

        probe = _Probe(target, count, [None] * count, [None] * count, [None] * count)
        probe.error_from = [None] * count
        probe.cookie_len = min(COOKIE_LEN, payload_size)
        payload = self._payloads.get(payload_size)
        if payload is None:
            payload = self._payloads[payload_size] = make_payload(self._cookie, payload_size)
        futures: list[asyncio.Future[None]] = []
        first_send_mono = 0
        first_real = 0
        try:
            for i in range(count):
                if i:
                    due = first_send_mono + int(i * spacing_s * 1e9)
                    wait = (due - time.monotonic_ns()) / 1e9
                    if wait > 0:
                        await asyncio.sleep(wait)
                fut, real_ns = await self._send_one(ch, probe, i, sockaddr, payload, timeout_s)
                futures.append(fut)
                if i == 0:
                    first_send_mono = time.monotonic_ns()
                    first_real = real_ns
            await asyncio.gather(*futures)
        except asyncio.CancelledError:
            self._forget(probe)
            raise
        started = datetime.fromtimestamp(first_real / 1e9, UTC) if first_real else asked_at
        return _summarise(probe, started, ch)

    def _forget(self, probe: _Probe) -> None:
        for key, p in list(self._pending.items()):
            if p.probe is probe:
                if p.timer:
                    p.timer.cancel()
                self._pending.pop(key, None)


# ----------------------------------------------------------------- helpers


class _DnsError(Exception):
    pass


_LITERALS: dict[tuple[str, int], tuple[int, tuple[Any, ...]]] = {}


async def _resolve(address: str, family: int, timeout_s: float) -> tuple[int, tuple[Any, ...]]:
    """(family, sockaddr).  Literals are parsed locally; names go to the system
    resolver via loop.getaddrinfo, bounded by ``timeout_s``."""
    hit = _LITERALS.get((address, family))
    if hit is not None:
        return hit
    flags_numeric = socket.AI_NUMERICHOST
    try:
        infos = socket.getaddrinfo(address, None, family, socket.SOCK_RAW, 0, flags_numeric)
    except (socket.gaierror, UnicodeError):
        infos = None
    if infos:  # a literal: the same answer every time (names are resolved afresh, their answers change)
        for fam, _t, _p, _c, sockaddr in infos:
            if fam in (socket.AF_INET, socket.AF_INET6):
                if len(_LITERALS) >= 65536:
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


def _offender(data: bytes) -> str:
    """Address in the sockaddr that follows sock_extended_err (the router that complained)."""
    if len(data) >= 8 and struct.unpack_from("@H", data)[0] == socket.AF_INET:
        return socket.inet_ntop(socket.AF_INET, data[4:8])
    if len(data) >= 24 and struct.unpack_from("@H", data)[0] == socket.AF_INET6:
        return socket.inet_ntop(socket.AF_INET6, data[8:24])
    return ""


def _ms(ns: float) -> float:
    """ns → ms rounded to 0.001 ms (1 µs); timestamps are ns, accuracy is µs."""
    return round(ns / 1e6, 3)


def _summarise(probe: _Probe, started: datetime, ch: _Channel) -> ProbeResult:
    rtts = [r for r in probe.rtts_ns if r is not None]
    sent = probe.count
    received = len(rtts)
    figures: dict[str, Any] = {
        "sent": sent,
        "received": received,
        "loss_pct": round(100.0 * (sent - received) / sent, 3),
        "rtt_min_ms": None,
        "rtt_avg_ms": None,
        "rtt_max_ms": None,
        "rtt_stddev_ms": None,
        "rtts_ms": [None if r is None else _ms(r) for r in probe.rtts_ns],
        "address": probe.target,
        "duplicates": probe.duplicates,
        "late": probe.late,
        "unreachable": sum(1 for e in probe.errors if e is not None),
        "send_errors": sum(1 for e in probe.send_errors if e is not None),
        "clock_fallbacks": probe.fallbacks,
        "aborted": probe.aborted,
        "socket": ch.mode,
    }
    avg = None
    if rtts:
        mean = sum(rtts) / received
        var = sum((r - mean) ** 2 for r in rtts) / received  # population, like ping's mdev
        avg = _ms(mean)
        figures.update(
            rtt_min_ms=_ms(min(rtts)),
            rtt_avg_ms=avg,
            rtt_max_ms=_ms(max(rtts)),
            rtt_stddev_ms=_ms(math.sqrt(var)),
        )
    if received:
        return ProbeResult("icmp", started, True, avg, figures)
    error_class, error = _failure(probe)
    return ProbeResult("icmp", started, False, None, figures, error_class, error)


_LOCAL_UNREACH = {errno.ENETUNREACH, errno.EHOSTUNREACH, errno.EADDRNOTAVAIL, errno.ENETDOWN}


def _failure(probe: _Probe) -> tuple[str, str]:
    """Error class and words for a ping with no reply at all."""
    v6 = ":" in probe.target
    errs = [(e, src) for e, src in zip(probe.errors, probe.error_from) if e is not None]
    sends = [e for e in probe.send_errors if e is not None]
    n = probe.count
    if probe.aborted:
        # Not the target's fault and not a measurement: say so.
        return R.INTERNAL, (
            f"the agent stopped pinging {probe.target} before {probe.aborted} of {n} "
            "replies were due; no data"
        )
    if errs:
        e, src = errs[0]
        frm = f" from {src}" if src else ""
        return R.UNREACHABLE, (
            f"ICMP {e.describe(v6)}{frm} for {len(errs)} of {n} requests to {probe.target}"
        )
    if sends:
        e0 = sends[0]
        what = f"{e0.strerror or e0}"
        if e0.errno in _LOCAL_UNREACH:
            return R.UNREACHABLE, (
                f"sending to {probe.target} failed locally ({what}): the agent's own "
                f"host has no route, not an answer from the network ({len(sends)} of {n})"
            )
        if e0.errno in (errno.EPERM, errno.EACCES):
            return R.PERMISSION, f"sending to {probe.target} refused locally ({what}), e.g. a firewall rule"
        return R.INTERNAL, f"sending to {probe.target} failed locally ({what}) for {len(sends)} of {n}"
    late = f", {probe.late} arrived after the timeout" if probe.late else ""
    return R.TIMEOUT, f"no echo reply from {probe.target} to {n} requests{late}"


def ping_sync(address: str, **kw: Any) -> ProbeResult:
    """One-shot ping for the CLI (``slaproof probe``): its own loop and Pinger."""

    async def run() -> ProbeResult:
        async with Pinger() as p:
            return await p.ping(address, **kw)

    return asyncio.run(run())
