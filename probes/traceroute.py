"""Traceroute probe: the path to a target, hop by hop ("send us an MTR").

Two ways to elicit answers from the routers on the path:

- ``protocol="icmp"``: ICMP echo requests with increasing TTL via
  ``icmplib.traceroute`` (raw socket: needs root or CAP_NET_RAW; without it
  the result is error class ``permission``).
- ``protocol="udp"``: UDP datagrams to high ports (33434 + n) with increasing
  TTL, one connected socket per probe with ``IP_RECVERR``: the kernel queues
  the ICMP time-exceeded / port-unreachable that comes back on that very
  socket's error queue, with the sender's address. No raw socket, so no
  privilege needed (Linux only). TTLs are probed a few at a time
  (``WINDOW`` hops per round, all ``count`` probes at once) so a path of
  silent hops costs about ``max_hops / WINDOW * timeout_s``, not
  ``max_hops * count * timeout_s``. Elsewhere, the system ``traceroute``
  binary is run and its output parsed.

Figures: ``hops`` (one entry per TTL probed up to the destination or
``max_hops``, silent hops with ``address`` None and no RTTs),
``destination`` (the resolved address), ``reached``, ``protocol``.
"""

from __future__ import annotations

import asyncio
import errno
import ipaddress
import re
import select
import shutil
import socket
import struct
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from agent.core.result import DNS, INTERNAL, PERMISSION, TIMEOUT, UNREACHABLE, ProbeResult, utcnow
from probes.tcp import classify_os_error, ms_between, resolve

KIND = "traceroute"
WINDOW = 4  # TTLs probed at once in UDP mode
BASE_PORT = 33434

# Linux constants not exported by Python 3.11's socket module.
IP_RECVERR = getattr(socket, "IP_RECVERR", 11)
IPV6_RECVERR = getattr(socket, "IPV6_RECVERR", 25)
SOL_IPV6 = getattr(socket, "SOL_IPV6", 41)
MSG_ERRQUEUE = getattr(socket, "MSG_ERRQUEUE", 0x2000)
SO_TIMESTAMPNS = getattr(socket, "SO_TIMESTAMPNS", 35)  # also the SCM type
_TIMESPEC = struct.Struct("=qq")
SO_EE_ORIGIN_ICMP = 2
SO_EE_ORIGIN_ICMP6 = 3
_EE = struct.Struct("=IBBBBII")  # struct sock_extended_err


@dataclass
class Hop:
    """Answers seen for one TTL."""

    ttl: int
    addresses: list[str] = field(default_factory=list)
    rtts_ms: list[float] = field(default_factory=list)
    sent: int = 0  # probes sent for this TTL (sent - len(rtts_ms) went unanswered)
    final: bool = False  # the answer came from the destination (or ended the path)
    note: str | None = None  # e.g. "!H" host unreachable, "!N", "!X"

    def as_figure(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "ttl": self.ttl,
            "address": self.addresses[0] if self.addresses else None,
            "rtts_ms": self.rtts_ms,
            "sent": self.sent,
        }
        if len(set(self.addresses)) > 1:  # ECMP / load balancing: say so, do not hide it
            out["addresses"] = sorted(set(self.addresses), key=self.addresses.index)
        if self.note:
            out["note"] = self.note
        return out


def trim_hops(hops: list[Hop], max_hops: int) -> tuple[list[Hop], bool]:
    """Cut the list after the first final hop; pad silent TTLs up to the last one probed.

    Returns (hops for TTL 1…n, whether the destination was reached).
    """
    by_ttl = {h.ttl: h for h in hops}
    out: list[Hop] = []
    reached = False
    last = max((h.ttl for h in hops), default=0)
    for ttl in range(1, min(last, max_hops) + 1):
        hop = by_ttl.get(ttl) or Hop(ttl=ttl)
        out.append(hop)
        if hop.final:
            reached = hop.note is None
            break
    return out, reached


# --------------------------------------------------------------------------
# UDP with IP_RECVERR (Linux)


def _kernel_time_ns(ancdata: list[tuple[int, int, bytes]]) -> int | None:
    """The kernel's receive timestamp (CLOCK_REALTIME ns) of the ICMP answer, if given."""
    for level, ctype, data in ancdata:
        if level == socket.SOL_SOCKET and ctype == SO_TIMESTAMPNS and len(data) >= _TIMESPEC.size:
            sec, nsec = _TIMESPEC.unpack_from(data)
            return int(sec) * 1_000_000_000 + int(nsec)
    return None


def _parse_errqueue(ancdata: list[tuple[int, int, bytes]]) -> tuple[int, int, int, str | None] | None:
    """(origin, icmp type, code, offender address) from recvmsg(MSG_ERRQUEUE) ancillary data."""
    for level, ctype, data in ancdata:
        if (level, ctype) not in ((socket.IPPROTO_IP, IP_RECVERR), (SOL_IPV6, IPV6_RECVERR)):
            continue
        if len(data) < _EE.size:
            continue
        _errno, origin, icmp_type, code, _pad, _info, _data = _EE.unpack_from(data)
        offender = data[_EE.size :]
        address: str | None = None
        if len(offender) >= 8:
            family = struct.unpack_from("=H", offender)[0]
            if family == socket.AF_INET:
                address = socket.inet_ntop(socket.AF_INET, offender[4:8])
            elif family == socket.AF_INET6 and len(offender) >= 24:
                address = socket.inet_ntop(socket.AF_INET6, offender[8:24])
        return origin, icmp_type, code, address
    return None


def _judge(origin: int, icmp_type: int, code: int) -> tuple[bool, bool, str | None]:
    """(is an answer, ends the path, note) for one ICMP error."""
    if origin == SO_EE_ORIGIN_ICMP:
        if icmp_type == 11:  # time exceeded
            return True, False, None
        if icmp_type == 3:  # destination unreachable
            if code == 3:  # port unreachable: the destination itself answered
                return True, True, None
            return True, True, {0: "!N", 1: "!H", 2: "!P", 9: "!X", 10: "!X", 13: "!X"}.get(code, f"!<{code}>")
    elif origin == SO_EE_ORIGIN_ICMP6:
        if icmp_type == 3:  # time exceeded
            return True, False, None
        if icmp_type == 1:  # destination unreachable
            if code == 4:  # port unreachable
                return True, True, None
            return True, True, {0: "!N", 1: "!X", 3: "!H"}.get(code, f"!<{code}>")
    return False, False, None


def udp_trace(
    family: int, destination: str, *, max_hops: int, count: int, timeout_s: float
) -> list[Hop]:
    """Blocking UDP traceroute (run it in a thread). Raises OSError on socket trouble."""
    hops: dict[int, Hop] = {}
    probe_no = 0
    for first in range(1, max_hops + 1, WINDOW):
        ttls = range(first, min(first + WINDOW, max_hops + 1))
        probes: dict[int, tuple[socket.socket, int, int, int]] = {}  # fd → (sock, ttl, sent perf/wall ns)
        poller = select.poll()
        try:
            for ttl in ttls:
                hop = hops.setdefault(ttl, Hop(ttl=ttl))
                for _ in range(count):
                    sock = socket.socket(family, socket.SOCK_DGRAM)
                    try:
                        # Kernel receive timestamps: RTTs not inflated by our own loop.
                        sock.setsockopt(socket.SOL_SOCKET, SO_TIMESTAMPNS, 1)
                        if family == socket.AF_INET6:
                            sock.setsockopt(SOL_IPV6, IPV6_RECVERR, 1)
                            sock.setsockopt(SOL_IPV6, socket.IPV6_UNICAST_HOPS, ttl)
                        else:
                            sock.setsockopt(socket.IPPROTO_IP, IP_RECVERR, 1)
                            sock.setsockopt(socket.IPPROTO_IP, socket.IP_TTL, ttl)
                        sock.connect((destination, BASE_PORT + probe_no % 1000))
                        probe_no += 1
                        sent_wall = time.time_ns()
                        sent = time.perf_counter_ns()
                        sock.send(b"slaproof traceroute probe")
                    except BaseException:
                        sock.close()
                        raise
                    hop.sent += 1
                    probes[sock.fileno()] = (sock, ttl, sent, sent_wall)
                    poller.register(sock, select.POLLERR | select.POLLIN)
            deadline = time.perf_counter_ns() + int(timeout_s * 1e9)
            pending = set(probes)
            final_ttl = max_hops + 1  # lowest TTL that ended the path so far
            while any(probes[fd][1] <= final_ttl for fd in pending):
                # Probes past the end of the path are moot: do not wait for them.
                left_ms = (deadline - time.perf_counter_ns()) / 1e6
                if left_ms <= 0:
                    break
                for fd, _events in poller.poll(left_ms):
                    sock, ttl, sent, sent_wall = probes[fd]
                    now = time.perf_counter_ns()
                    answer = _read_answer(sock, destination)
                    if answer is None:
                        continue
                    pending.discard(fd)
                    poller.unregister(fd)
                    is_answer, final, note, address, kernel_ns = answer
                    if not is_answer:
                        continue
                    hop = hops[ttl]
                    if kernel_ns is not None and 0 <= kernel_ns - sent_wall <= now - sent:
                        hop.rtts_ms.append(ms_between(sent_wall, kernel_ns))
                    else:  # no timestamp, or the wall clock stepped: our own clock
                        hop.rtts_ms.append(ms_between(sent, now))
                    if address:
                        hop.addresses.append(address)
                    if final:
                        hop.final = True
                        hop.note = hop.note or note
                        final_ttl = min(final_ttl, ttl)
        finally:
            for sock, *_rest in probes.values():
                sock.close()
        if any(hops[t].final for t in ttls):
            break
    return list(hops.values())


Answer = tuple[bool, bool, str | None, str | None, int | None]


def _read_answer(sock: socket.socket, destination: str) -> Answer | None:
    """Read what woke the poll: an ICMP error from the queue, or a UDP reply.

    (is an answer, ends the path, note, responder address, kernel time ns).
    """
    try:
        _data, ancdata, _flags, _addr = sock.recvmsg(512, 1024, MSG_ERRQUEUE | socket.MSG_DONTWAIT)
    except BlockingIOError:
        ancdata = None
    if ancdata is not None:
        parsed = _parse_errqueue(ancdata)
        if parsed is None:
            return (False, False, None, None, None)
        origin, icmp_type, code, address = parsed
        is_answer, final, note = _judge(origin, icmp_type, code)
        return (is_answer, final, note, address, _kernel_time_ns(ancdata))
    try:
        _data, ancdata, _flags, _addr = sock.recvmsg(512, 1024, socket.MSG_DONTWAIT)
        return (True, True, None, destination, _kernel_time_ns(ancdata))  # a UDP service answered
    except BlockingIOError:
        return None
    except OSError as exc:
        # A pending error surfaced by recv (the queue was already read): ignore it.
        if exc.errno in (errno.ECONNREFUSED, errno.EHOSTUNREACH):
            return None
        raise


# --------------------------------------------------------------------------
# ICMP via icmplib


def icmp_trace(destination: str, *, max_hops: int, count: int, timeout_s: float) -> list[Hop]:
    """Blocking ICMP echo traceroute on icmplib's raw socket. Raises icmplib errors.

    Our own loop over icmplib's socket (not ``icmplib.traceroute``) so that
    the ICMP type/code of each answer is kept: a router's "unreachable" ends
    the path with a note instead of being taken for a hop. A hop's probes
    stop at its first timeout, as icmplib does, so a silent hop costs one
    ``timeout_s``; ``sent`` tells how many probes each hop got.
    """
    import icmplib

    v6 = ":" in destination
    sock_cls = icmplib.ICMPv6Socket if v6 else icmplib.ICMPv4Socket
    ident = icmplib.utils.unique_identifier()
    origin = SO_EE_ORIGIN_ICMP6 if v6 else SO_EE_ORIGIN_ICMP
    echo_reply = 129 if v6 else 0
    hops: list[Hop] = []
    seq = 0
    with sock_cls(privileged=True) as sock:
        for ttl in range(1, max_hops + 1):
            hop = Hop(ttl=ttl)
            hops.append(hop)
            for _ in range(count):
                request = icmplib.ICMPRequest(destination=destination, id=ident, sequence=seq & 0xFFFF, ttl=ttl)
                seq += 1
                sock.send(request)
                hop.sent += 1
                try:
                    reply = sock.receive(request, timeout_s)
                except icmplib.TimeoutExceeded:
                    break
                hop.rtts_ms.append(round((reply.time - request.time) * 1000, 3))
                hop.addresses.append(reply.source)
                if reply.type == echo_reply:
                    hop.final = True
                    continue
                _is_answer, final, note = _judge(origin, reply.type, reply.code)
                if final:
                    hop.final, hop.note = True, note
            if hop.final:
                break
    return hops


# --------------------------------------------------------------------------
# the system traceroute binary (fallback off Linux)

_HOP_LINE = re.compile(r"^\s*(\d+)\s+(.*)$")


def parse_traceroute_output(text: str, destination: str) -> list[Hop]:
    """Parse ``traceroute -n`` output into hops (pure; unit-tested on real output)."""
    hops: list[Hop] = []
    for line in text.splitlines():
        m = _HOP_LINE.match(line)
        if not m or line.lstrip().startswith("traceroute"):
            continue
        hop = Hop(ttl=int(m.group(1)))
        current: str | None = None
        for tok in re.findall(r"\S+", m.group(2)):
            if tok == "*":
                continue
            if tok == "ms":
                continue
            if tok.startswith("!"):
                hop.final, hop.note = True, tok
                continue
            try:
                ipaddress.ip_address(tok)
                current = tok
                hop.addresses.append(tok)
                continue
            except ValueError:
                pass
            try:
                hop.rtts_ms.append(float(tok))
            except ValueError:
                continue
        if current is not None and destination in hop.addresses:
            hop.final = True
        hops.append(hop)
    return hops


def binary_trace(
    destination: str, *, max_hops: int, count: int, timeout_s: float, icmp: bool
) -> list[Hop]:
    exe = shutil.which("traceroute")
    if exe is None:
        raise FileNotFoundError("no traceroute binary on PATH")
    argv = [exe, "-n", "-q", str(count), "-w", f"{timeout_s:g}", "-m", str(max_hops)]
    if icmp:
        argv.append("-I")
    argv.append(destination)
    budget = max_hops * count * timeout_s + 10
    proc = subprocess.run(argv, capture_output=True, text=True, timeout=budget)
    if proc.returncode != 0 and not proc.stdout.strip():
        raise OSError(proc.stderr.strip() or f"traceroute exited {proc.returncode}")
    return parse_traceroute_output(proc.stdout, destination)


# --------------------------------------------------------------------------
# the probe


def _has_recverr() -> bool:
    return sys.platform.startswith("linux")


async def traceroute(
    address: str,
    *,
    max_hops: int = 30,
    count: int = 2,
    timeout_s: float = 1.0,
    protocol: str = "icmp",
    wall: Callable[[], datetime] = utcnow,
) -> ProbeResult:
    """Trace the path to ``address``; ok when the destination answered.

    ``timeout_s`` is the wait for each probe's answer. ``rtt_ms`` is the mean
    RTT of the destination's answers when reached. ``wall`` gives
    ``started_at``; hop RTTs stay on kernel stamps and ``perf_counter_ns``.
    """
    started_at = wall()
    figures: dict[str, Any] = {"target": address, "protocol": protocol, "hops": [], "reached": False}

    def fail(error_class: str, message: str) -> ProbeResult:
        return ProbeResult(
            kind=KIND, started_at=started_at, ok=False, figures=figures,
            error_class=error_class, error=f"traceroute {address}: {message}",
        )

    if protocol not in ("icmp", "udp"):
        return fail(INTERNAL, f"unknown protocol {protocol!r} (icmp or udp)")
    if not 1 <= max_hops <= 255 or count < 1 or timeout_s <= 0:
        return fail(INTERNAL, "max_hops must be 1–255, count ≥ 1, timeout_s > 0")
    try:
        addrs, dns_ms = await resolve(address, 0, socktype=socket.SOCK_DGRAM)
    except (OSError, UnicodeError) as exc:
        return fail(classify_os_error(exc) or DNS, f"name did not resolve: {exc}")
    family, sockaddr = addrs[0]
    destination = sockaddr[0]
    figures["destination"] = destination
    figures["dns_ms"] = dns_ms
    figures["method"] = None
    try:
        if protocol == "udp" and _has_recverr():
            figures["method"] = "udp-recverr"
            hops = await asyncio.to_thread(
                udp_trace, family, destination, max_hops=max_hops, count=count, timeout_s=timeout_s
            )
        elif protocol == "udp":
            figures["method"] = "traceroute-binary"
            hops = await asyncio.to_thread(
                binary_trace, destination, max_hops=max_hops, count=count, timeout_s=timeout_s, icmp=False
            )
        else:
            figures["method"] = "icmplib"
            hops = await asyncio.to_thread(
                icmp_trace, destination, max_hops=max_hops, count=count, timeout_s=timeout_s
            )
    except FileNotFoundError as exc:
        return fail(INTERNAL, f"no way to trace: {exc}")
    except subprocess.TimeoutExpired:
        return fail(TIMEOUT, "traceroute binary did not finish in time")
    except Exception as exc:
        return fail(*_classify(exc, protocol))
    trimmed, reached = trim_hops(hops, max_hops)
    figures["hops"] = [h.as_figure() for h in trimmed]
    figures["reached"] = reached
    if not reached:
        last = trimmed[-1] if trimmed else None
        why = f"stopped at hop {last.ttl} ({last.note})" if last and last.note else f"no answer from the destination within {max_hops} hops"
        return fail(_unreached_class(last), why)
    dest_rtts = trimmed[-1].rtts_ms
    rtt = round(sum(dest_rtts) / len(dest_rtts), 3) if dest_rtts else None
    return ProbeResult(kind=KIND, started_at=started_at, ok=True, rtt_ms=rtt, figures=figures)


def _unreached_class(last: Hop | None) -> str:
    if last is not None and last.note:
        return UNREACHABLE
    return TIMEOUT


def _classify(exc: BaseException, protocol: str) -> tuple[str, str]:
    try:
        import icmplib

        if isinstance(exc, icmplib.SocketPermissionError):
            return PERMISSION, "ICMP traceroute needs root or CAP_NET_RAW; protocol='udp' does not"
        if isinstance(exc, icmplib.NameLookupError):
            return DNS, str(exc)
        if isinstance(exc, icmplib.ICMPLibError):
            return INTERNAL, f"icmplib: {exc}"
    except ImportError:
        pass
    known = classify_os_error(exc)
    if known is not None:
        return known, str(exc)
    return INTERNAL, f"{type(exc).__name__}: {exc}"
