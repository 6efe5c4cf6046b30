"""The receive side of the ICMP probe: read replies and errors, match them to requests.

One reader per socket drains it when the event loop says it is readable and
hands each echo reply or ICMP error to the request it answers, found by
(family, identifier, sequence).  The RTT comes from the kernel's receive stamp
(``SO_TIMESTAMPNS``), so reading late does not inflate it.  Answered and
expired requests are remembered for a while, so a second reply is counted as a
duplicate and a slow one as late, instead of as someone else's traffic.

The clocks are given (``wall_ns`` must be CLOCK_REALTIME, the clock of the
kernel stamps; ``clock_ns`` monotonic), so tests can step them.
"""

from __future__ import annotations

import asyncio
import functools
import ipaddress
import socket
import struct
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field

from probes.icmp_packet import Echo, IcmpError, parse, parse_sent_echo
from probes.icmp_socket import (
    IP_RECVERR,
    IPV6_RECVERR,
    SO_EE_ORIGIN_ICMP,
    SO_EE_ORIGIN_ICMP6,
    SO_TIMESTAMPNS,
)
from probes.icmp_summary import Probe
from probes.icmp_timing import Pacer, rtt_from_timestamps

__all__ = ["Channel", "Dispatcher", "Key", "Pending", "norm"]

Key = tuple[int, int, int]  # (family, identifier, sequence)

_TIMESPEC = struct.Struct("@qq")
_EXT_ERR = struct.Struct("@IBBBBII")  # struct sock_extended_err
DRAIN_MAX = 2048  # datagrams read per wake-up, so one busy socket cannot starve the loop
RECENT_MAX = 0x8000  # answered/expired requests remembered at most
SEQ_SPACE = 0x10000


@dataclass(eq=False)
class Channel:
    """One socket of one family, with its send pacing."""

    sock: socket.socket
    family: int
    raw: bool
    ident: int  # raw: ours; datagram: the port the kernel assigned (it rewrites the id)
    pacer: Pacer
    buf: bytearray = field(default_factory=lambda: bytearray(65536))

    @property
    def v6(self) -> bool:
        return self.family == socket.AF_INET6

    @property
    def mode(self) -> str:
        return "raw" if self.raw else "dgram"


@dataclass(eq=False)
class Pending:
    """One request in flight: which slot of which ping, and its send stamps."""

    probe: Probe
    index: int
    future: asyncio.Future[None]
    send_real_ns: int = 0
    send_mono_ns: int = 0
    timer: asyncio.TimerHandle | None = None


@functools.lru_cache(maxsize=65536)
def norm(addr: str) -> str:
    """Canonical text of an address as the kernel reports it (drops IPv6 scope)."""
    return str(ipaddress.ip_address(addr.split("%", 1)[0]))


def _offender(data: bytes) -> str:
    """Address in the sockaddr that follows sock_extended_err (the router that complained)."""
    if len(data) >= 8 and struct.unpack_from("@H", data)[0] == socket.AF_INET:
        return socket.inet_ntop(socket.AF_INET, data[4:8])
    if len(data) >= 24 and struct.unpack_from("@H", data)[0] == socket.AF_INET6:
        return socket.inet_ntop(socket.AF_INET6, data[8:24])
    return ""


class Dispatcher:
    """The table of requests in flight and the readers that answer them.

    ``stats`` is the Pinger's counter dict, updated in place.
    """

    def __init__(
        self,
        *,
        cookie: bytes,
        late_window_ns: int,
        stats: dict[str, int],
        wall_ns: Callable[[], int],
        clock_ns: Callable[[], int],
        first_seq: int,
    ) -> None:
        self.cookie = cookie
        self.seq = first_seq & 0xFFFF
        self.late_window_ns = late_window_ns
        self.stats = stats
        self.wall_ns = wall_ns
        self.clock_ns = clock_ns
        self.pending: dict[Key, Pending] = {}
        # key -> (probe, index, expiry mono ns): answered or expired, kept to
        # recognise duplicates and late replies instead of calling them foreign.
        self.recent: OrderedDict[Key, tuple[Probe, int, int]] = OrderedDict()

    # ------------------------------------------------------------- requests

    def next_key(self, ch: Channel) -> Key:
        """A free key on ``ch``.  Sequence numbers are unique across the Pinger, so
        replies on a datagram socket (whose identifier the kernel chose) still
        match one request; a reused key forgets its past."""
        for _ in range(SEQ_SPACE):
            self.seq = (self.seq + 1) & 0xFFFF
            key = (ch.family, ch.ident, self.seq)
            if key not in self.pending:
                self.recent.pop(key, None)
                return key
        raise RuntimeError("more than 65536 ICMP requests in flight")

    def send_failed(self, key: Key, p: Pending, e: OSError) -> None:
        self.stats["send_errors"] += 1
        p.probe.send_errors[p.index] = e
        self.pending.pop(key, None)
        if not p.future.done():
            p.future.set_result(None)

    def forget(self, probe: Probe) -> None:
        """Drop a cancelled ping's requests (their replies will count as foreign)."""
        for key, p in list(self.pending.items()):
            if p.probe is probe:
                if p.timer:
                    p.timer.cancel()
                self.pending.pop(key, None)

    def abort_all(self) -> None:
        """Finish every ping in flight as not answered (the Pinger is closing)."""
        for p in list(self.pending.values()):
            if p.timer:
                p.timer.cancel()
            p.probe.aborted += 1
            if not p.future.done():
                p.future.set_result(None)
        self.pending.clear()
        self.recent.clear()

    def expire(self, key: Key) -> None:
        """The timeout of a request passed: it is not answered (a reply now is late)."""
        p = self.pending.pop(key, None)
        if p is None:
            return
        if not p.future.done():
            p.future.set_result(None)
        self._remember(key, p)

    # -------------------------------------------------------------- reading

    def on_readable(self, ch: Channel) -> None:
        """Drain the socket (bounded) and dispatch; kernel stamps make reading late harmless."""
        sock = ch.sock
        mv = memoryview(ch.buf)
        clock_ns, wall_ns = self.clock_ns, self.wall_ns
        for _ in range(DRAIN_MAX):
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
            read_mono = clock_ns()
            read_real = wall_ns()
            rx = None  # the SO_TIMESTAMPNS receive stamp (CLOCK_REALTIME ns), if given
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

    def _drain_errqueue(self, ch: Channel) -> None:
        """ICMP errors for datagram ping sockets: our request quoted + sock_extended_err."""
        sock = ch.sock
        for _ in range(DRAIN_MAX):
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

    # ------------------------------------------------------------- matching

    def _on_echo(
        self, ch: Channel, msg: Echo, src: str, rx: int | None, read_real: int, read_mono: int
    ) -> None:
        key = (ch.family, ch.ident if not ch.raw else msg.ident, msg.seq)
        p = self.pending.get(key)
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

    def _is_ours(self, ch: Channel, probe: Probe, msg: Echo, src: str) -> bool:
        """Same identifier (raw), our cookie back, from the address we pinged."""
        if ch.raw:
            if msg.ident != ch.ident:
                return False
            n = probe.cookie_len
            if n and msg.payload[:n] != self.cookie[:n]:
                return False
        try:
            return norm(src) == probe.target
        except ValueError:
            return False

    def _on_unmatched(self, key: Key, ch: Channel, msg: Echo, src: str) -> None:
        """Duplicate (already answered), late (already given up) or not ours at all."""
        rec = self.recent.get(key)
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

    def _on_error(self, ch: Channel, err: IcmpError, src: str) -> None:
        ident = ch.ident if not ch.raw else err.ident
        if ch.raw and err.ident != ch.ident:
            return  # another program's request
        key = (ch.family, ident, err.seq)
        p = self.pending.get(key)
        try:
            if p is None or (err.original_dst and norm(err.original_dst) != p.probe.target):
                return
        except ValueError:
            return
        self.stats["icmp_errors"] += 1
        p.probe.errors[p.index] = err
        p.probe.error_from[p.index] = src
        self._finish(key, p)

    def _finish(self, key: Key, p: Pending) -> None:
        self.pending.pop(key, None)
        if p.timer:
            p.timer.cancel()
        if not p.future.done():
            p.future.set_result(None)
        self._remember(key, p)

    def _remember(self, key: Key, p: Pending) -> None:
        now = self.clock_ns()
        self.recent[key] = (p.probe, p.index, now + self.late_window_ns)
        self.recent.move_to_end(key)
        while self.recent:
            k, (_pr, _i, exp) = next(iter(self.recent.items()))
            if exp > now and len(self.recent) <= RECENT_MAX:
                break
            del self.recent[k]
