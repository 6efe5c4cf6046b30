"""ICMP probe: packet codec and RTT maths (no privileges), then real pings as root
over loopback and through an isolated pair of network namespaces (10.200.1.0/24)."""

from __future__ import annotations

import asyncio
import os
import select
import socket
import statistics
import struct
import subprocess
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from agent.core import result as R
from probes.icmp import (
    IcmpPermissionError,
    Pinger,
    ping_sync,
    rtt_from_timestamps,
)
from probes.icmp_packet import (
    ICMP_DEST_UNREACH,
    Echo,
    IcmpError,
    build_echo,
    checksum,
    make_payload,
    parse,
)
from probes.icmp_receive import Channel, Dispatcher, Pending
from probes.icmp_socket import SO_TIMESTAMPNS
from probes.icmp_summary import Probe
from probes.icmp_timing import Pacer
from tests.support.wait import async_wait_until

needs_root = pytest.mark.skipif(os.geteuid() != 0, reason="needs root for raw ICMP sockets / netns")


# ------------------------------------------------------------------ pure parts


def test_checksum_rfc1071_example() -> None:
    # RFC 1071 §3 example words sum to 0xddf2; checksum is its complement.
    data = bytes([0x00, 0x01, 0xF2, 0x03, 0xF4, 0xF5, 0xF6, 0xF7])
    assert checksum(data) == (~0xDDF2) & 0xFFFF
    # A packet carrying its own checksum sums to zero.
    pkt = build_echo(False, 0x1234, 7, b"abc")
    assert checksum(pkt) == 0


def _ipv4(payload: bytes, src: bytes = b"\x7f\0\0\1", dst: bytes = b"\x7f\0\0\2") -> bytes:
    return struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(payload), 0, 0, 64, 1, 0, src, dst) + payload


def test_parse_echo_reply_with_ip_header() -> None:
    req = build_echo(False, 0xBEEF, 513, b"cookie!!rest")
    reply = bytes([0, 0]) + req[2:]  # type 0
    msg = parse(_ipv4(reply), v6=False, has_ip_header=True)
    assert msg == Echo(0xBEEF, 513, b"cookie!!rest")
    # Our own request seen on loopback is not a reply.
    assert parse(_ipv4(req), v6=False, has_ip_header=True) is None


def test_parse_unreachable_quotes_our_request() -> None:
    req = build_echo(False, 0xBEEF, 9, b"x" * 8)
    quoted = _ipv4(req, dst=bytes([10, 200, 1, 33]))[: 20 + 8]
    err = bytes([ICMP_DEST_UNREACH, 1, 0, 0, 0, 0, 0, 0]) + quoted
    msg = parse(_ipv4(err), v6=False, has_ip_header=True)
    assert isinstance(msg, IcmpError)
    assert (msg.ident, msg.seq, msg.original_dst) == (0xBEEF, 9, "10.200.1.33")
    assert msg.describe(False) == "host unreachable"


def test_parse_icmpv6_reply_and_truncated_junk() -> None:
    req = build_echo(True, 1, 2, b"")
    assert parse(bytes([129, 0]) + req[2:], v6=True, has_ip_header=False) == Echo(1, 2, b"")
    assert parse(b"\x00\x00", v6=False, has_ip_header=False) is None


def test_payload_starts_with_cookie_and_has_requested_size() -> None:
    assert make_payload(b"12345678", 56)[:8] == b"12345678"
    assert len(make_payload(b"12345678", 56)) == 56
    assert make_payload(b"12345678", 3) == b"123"
    assert make_payload(b"12345678", 0) == b""


def test_rtt_uses_kernel_stamp_when_clocks_agree() -> None:
    rtt, fell_back = rtt_from_timestamps(1_000_000, 50, 1_010_000, 2_000_000, 1_000_050)
    assert (rtt, fell_back) == (10_000, False)


def test_rtt_falls_back_on_clock_step_and_missing_stamp() -> None:
    # realtime stepped back 1 s between send and read: kernel RTT would be negative
    rtt, fell_back = rtt_from_timestamps(10**10, 0, 10**10 - 10**9 + 5_000, 10**10 - 10**9 + 9_000, 9_000)
    assert fell_back and rtt == 9_000
    rtt, fell_back = rtt_from_timestamps(0, 0, None, 7_000, 7_000)
    assert fell_back and rtt == 7_000


@given(
    st.integers(0, 2**62),
    st.integers(0, 2**40),
    st.one_of(st.none(), st.integers(0, 2**62)),
    st.integers(0, 2**62),
    st.integers(0, 2**40),
)
def test_rtt_never_negative_nor_above_monotonic_bound(
    sr: int, sm: int, rx: int | None, rr: int, rm: int
) -> None:
    rtt, _ = rtt_from_timestamps(sr, sm, rx, rr, rm)
    assert 0 <= rtt <= max(0, rm - sm) + 200_000


def test_pacer_allows_a_burst_then_spaces_sends() -> None:
    now = [100 * 10**9]
    pacer = Pacer(gap_s=0.001, burst=3, clock_ns=lambda: now[0])
    delays = [pacer.reserve() for _ in range(6)]
    assert delays == [0.0, 0.0, 0.0, 0.001, 0.002, 0.003]  # exact: the schedule is kept in ns
    now[0] += 10**9  # idle: the burst allowance comes back
    assert pacer.reserve() == 0.0


# ------------------------------------------------- the reader, on injected clocks

STAT_KEYS = ("sent", "replies", "duplicates", "late", "foreign", "icmp_errors", "send_errors",
             "clock_fallbacks", "recv_errors")
IDENT = 4242


@contextmanager
def _udp_channel(*, kernel_stamps: bool) -> Iterator[tuple[Channel, socket.socket]]:
    """A UDP socket on 127.0.0.1 standing in for a datagram ping socket (no privilege):
    what arrives on it is read as ICMP from 127.0.0.1, with a kernel receive stamp
    when ``kernel_stamps``.  Yields the channel and a socket to send replies from."""
    rx = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    tx = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        rx.bind(("127.0.0.1", 0))
        rx.setblocking(False)
        if kernel_stamps:
            rx.setsockopt(socket.SOL_SOCKET, SO_TIMESTAMPNS, 1)
        tx.bind(("127.0.0.1", 0))
        yield Channel(rx, socket.AF_INET, False, IDENT, Pacer(0.0, 1, lambda: 0)), tx
    finally:
        rx.close()
        tx.close()


def _deliver(ch: Channel, tx: socket.socket, disp: Dispatcher, seq: int) -> None:
    """An echo reply for ``seq`` arrives on the channel's socket; the reader reads it."""
    tx.sendto(bytes([0, 0]) + build_echo(False, IDENT, seq, b"")[2:], ch.sock.getsockname())
    readable, _, _ = select.select([ch.sock], [], [], 5.0)
    assert readable, "the reply never arrived on loopback"
    disp.on_readable(ch)


def _request(disp: Dispatcher, ch: Channel, probe: Probe, index: int,
             loop: asyncio.AbstractEventLoop) -> tuple[tuple[int, int, int], Pending]:
    """Register request ``index`` of ``probe`` as sent now (stamps from the dispatcher's clocks)."""
    key = disp.next_key(ch)
    pend = Pending(probe, index, loop.create_future(), send_mono_ns=disp.clock_ns(), send_real_ns=disp.wall_ns())
    disp.pending[key] = pend
    return key, pend


def test_reader_matches_replies_and_ages_them_on_the_injected_clock() -> None:
    clock = {"mono": 5 * 10**9, "real": 1_700_000_000 * 10**9}

    def advance(ns: int) -> None:
        clock["mono"] += ns
        clock["real"] += ns

    stats = dict.fromkeys(STAT_KEYS, 0)
    disp = Dispatcher(cookie=b"cookie!!", late_window_ns=10**9, stats=stats, first_seq=7,
                      wall_ns=lambda: clock["real"], clock_ns=lambda: clock["mono"])
    loop = asyncio.new_event_loop()
    try:
        with _udp_channel(kernel_stamps=False) as (ch, tx):
            probe = Probe("127.0.0.1", 2)
            (k0, p0), (k1, p1) = (_request(disp, ch, probe, i, loop) for i in range(2))
            advance(3_000_000)
            _deliver(ch, tx, disp, k0[2])  # answered, 3 ms later on the monotonic clock
            _deliver(ch, tx, disp, k0[2])  # the same again: a duplicate
            disp.expire(k1)  # its timeout passed ...
            _deliver(ch, tx, disp, k1[2])  # ... so its reply is late
            _deliver(ch, tx, disp, (k1[2] + 100) & 0xFFFF)  # never asked for: foreign
            advance(2 * 10**9)  # past the late window: the next request remembered ages k0, k1 out
            k2, _ = _request(disp, ch, Probe("127.0.0.1", 1), 0, loop)
            disp.expire(k2)
            _deliver(ch, tx, disp, k1[2])  # forgotten: foreign now
            futures_done = p0.future.done() and p1.future.done()
    finally:
        loop.close()
    assert probe.rtts_ns == [3_000_000, None] and futures_done
    assert probe.fallbacks == 1  # no kernel stamp here: the monotonic interval, flagged
    assert (probe.duplicates, probe.late) == (1, 1)
    assert (stats["replies"], stats["duplicates"], stats["late"], stats["foreign"]) == (1, 1, 1, 2)
    assert stats["clock_fallbacks"] == 1 and set(disp.recent) == {k2}


def test_reader_takes_the_kernel_stamp_unless_the_wall_clock_stepped() -> None:
    step = {"ns": 0}
    stats = dict.fromkeys(STAT_KEYS, 0)
    disp = Dispatcher(cookie=b"cookie!!", late_window_ns=10**9, stats=stats, first_seq=7,
                      wall_ns=lambda: time.time_ns() + step["ns"], clock_ns=time.monotonic_ns)
    loop = asyncio.new_event_loop()
    try:
        with _udp_channel(kernel_stamps=True) as (ch, tx):
            probe = Probe("127.0.0.1", 2)
            k0, _ = _request(disp, ch, probe, 0, loop)
            _deliver(ch, tx, disp, k0[2])  # clocks in step: the kernel's receive stamp
            k1, _ = _request(disp, ch, probe, 1, loop)
            step["ns"] = 10**9  # the wall clock jumps a second before the reply is read
            _deliver(ch, tx, disp, k1[2])
    finally:
        loop.close()
    assert all(r is not None and r >= 0 for r in probe.rtts_ns)
    assert probe.fallbacks == 1 and stats["clock_fallbacks"] == 1 and stats["replies"] == 2


# ------------------------------------------------------------------ permission


def _denied(family: int, type_: int, proto: int) -> socket.socket:
    raise PermissionError(1, "Operation not permitted")


def test_permission_error_says_how_to_grant() -> None:
    async def run() -> tuple[str, R.ProbeResult]:
        async with Pinger(socket_factory=_denied) as p:
            with pytest.raises(IcmpPermissionError) as ei:
                await p.open(socket.AF_INET)
            return str(ei.value), await p.ping("127.0.0.1", count=1)

    msg, res = asyncio.run(run())
    for hint in ("root", "setcap cap_net_raw+ep", "ping_group_range", "AmbientCapabilities=CAP_NET_RAW"):
        assert hint in msg
    assert "Operation not permitted" in msg
    assert not res.ok and res.error_class == R.PERMISSION
    assert res.error and "setcap cap_net_raw+ep" in res.error


def test_dns_failure_is_a_result_without_sending() -> None:
    # Names under .invalid would still be sent to the configured nameserver by
    # glibc here, so use names that fail inside the local resolver stack.
    async def run() -> tuple[list[R.ProbeResult], dict[str, int], str | None]:
        async with Pinger(socket_factory=_denied) as p:
            res = [await p.ping(n) for n in ("bad..name.invalid", "a" * 64 + ".invalid")]
            return res, dict(p.stats), p.mode_of(socket.AF_INET)

    results, stats, mode = asyncio.run(run())
    for r in results:
        assert not r.ok and r.error_class == R.DNS and r.rtt_ms is None
        assert r.error and "resolve" in r.error
    assert stats["sent"] == 0 and mode is None


# ------------------------------------------------------------------ as root


@needs_root
@pytest.mark.root
@pytest.mark.parametrize("address", ["127.0.0.1", "127.1.2.3", "127.254.0.9", "::1", "localhost"])
def test_ping_loopback(address: str) -> None:
    r = ping_sync(address, count=2, spacing_s=0.05, timeout_s=1.0)
    f = r.figures
    assert r.ok and r.error_class is None and r.kind == "icmp"
    assert (f["sent"], f["received"], f["loss_pct"], f["duplicates"]) == (2, 2, 0.0, 0)
    assert f["address"] in ("127.0.0.1", "::1") or f["address"] == address
    assert 0 <= f["rtt_min_ms"] <= f["rtt_avg_ms"] == r.rtt_ms <= f["rtt_max_ms"]
    assert f["rtt_stddev_ms"] >= 0 and len(f["rtts_ms"]) == 2
    assert r.started_at.tzinfo is not None and abs(time.time() - r.started_at.timestamp()) < 30


@needs_root
@pytest.mark.root
def test_injected_wall_clock_dates_the_ping_and_its_rtts_fall_back() -> None:
    """The wall clock stamps sends and gives started_at; one that is not the kernel's
    clock (here: stopped) cannot be paired with the kernel's receive stamps, so each
    RTT is the monotonic send-to-read interval, and the result says so."""
    stopped = 1_709_208_000_123_456_000  # 2024-02-29 12:00:00.123456 UTC

    async def run() -> R.ProbeResult:
        async with Pinger(wall_ns=lambda: stopped) as p:
            return await p.ping("127.0.0.1", count=2, spacing_s=0.01, timeout_s=2.0)

    r = asyncio.run(run())
    assert r.started_at == datetime(2024, 2, 29, 12, 0, 0, 123456, tzinfo=UTC)
    assert r.ok and r.figures["received"] == 2 and r.figures["clock_fallbacks"] == 2
    assert all(ms is not None and ms >= 0 for ms in r.figures["rtts_ms"])


@needs_root
@pytest.mark.root
def test_500_loopback_addresses_at_once_all_answer_fast() -> None:
    addrs = [f"127.0.{i // 250}.{i % 250 + 1}" for i in range(500)]

    async def run() -> tuple[list[R.ProbeResult], dict[str, int]]:
        async with Pinger() as p:
            res = await asyncio.gather(*(p.ping(a, count=1, timeout_s=2.0) for a in addrs))
            return list(res), dict(p.stats)

    results, stats = asyncio.run(run())
    assert [r.figures["address"] for r in results] == addrs
    assert all(r.ok for r in results), [r for r in results if not r.ok][:3]
    assert stats["replies"] == 500 and stats["duplicates"] == 0 and stats["clock_fallbacks"] == 0
    # Sanity bound for loopback (real ~0.01 ms); icmplib's multiping gave ~100 ms.
    assert statistics.median(r.rtt_ms for r in results) < 1.0


def _forge_reply(request_ident: int, seq: int, payload: bytes) -> None:
    """Send an ICMP echo reply to 127.0.0.1 from a separate raw socket."""
    s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)
    try:
        body = struct.pack("!BBHHH", 0, 0, 0, request_ident, seq) + payload
        body = body[:2] + struct.pack("!H", checksum(body)) + body[4:]
        s.sendto(body, ("127.0.0.1", 0))
    finally:
        s.close()


@needs_root
@pytest.mark.root
def test_duplicate_and_foreign_replies_are_counted_not_received() -> None:
    async def run() -> tuple[R.ProbeResult, dict[str, int]]:
        async with Pinger() as p:
            task = asyncio.ensure_future(p.ping("127.0.0.1", count=2, spacing_s=0.3, timeout_s=1.0))
            await async_wait_until(lambda: p._rx.recent, "the first request answered", timeout_s=2.0)
            (_fam, ident, seq), (_probe, _i, _e) = next(iter(p._rx.recent.items()))
            payload = make_payload(p._cookie, 56)
            _forge_reply(ident, seq, payload)  # same request again: a duplicate
            _forge_reply(ident, seq, b"\x00" * 56)  # wrong cookie: someone else's
            _forge_reply(ident ^ 1, seq, payload)  # other identifier: someone else's
            return await task, dict(p.stats)

    r, stats = asyncio.run(run())
    assert r.ok and r.figures["received"] == 2 and r.figures["duplicates"] == 1
    # foreign >= 2: a raw socket also sees other programs' ICMP on this host
    assert stats["duplicates"] == 1 and stats["foreign"] >= 2


# ------------------------------------------------------- namespaces, 10.200.1.0/24

# client ns (pinger) 10.200.1.1/26 --veth-- router ns 10.200.1.2/26
# router: 10.200.1.32/29 "unreachable" (answers ICMP host unreachable),
#         10.200.1.40/29 blackhole (silently dropped) -> timeout.


def _ip(*args: str) -> None:
    subprocess.run(["ip", *args], check=True, capture_output=True, timeout=10)


@pytest.fixture(scope="module")
def netns_pair() -> Iterator[str]:
    tag = uuid.uuid4().hex[:6]
    client, router = f"spicmp-c{tag}", f"spicmp-r{tag}"
    vc, vr = f"spic{tag}", f"spir{tag}"
    try:
        _ip("netns", "add", client)
        _ip("netns", "add", router)
        _ip("link", "add", vc, "type", "veth", "peer", "name", vr)
        _ip("link", "set", vc, "netns", client)
        _ip("link", "set", vr, "netns", router)
        _ip("-n", client, "addr", "add", "10.200.1.1/26", "dev", vc)
        _ip("-n", router, "addr", "add", "10.200.1.2/26", "dev", vr)
        for ns, dev in ((client, vc), (router, vr)):
            _ip("-n", ns, "link", "set", "lo", "up")
            _ip("-n", ns, "link", "set", dev, "up")
        # The router's "host unreachable" passes two kernel limits.  ICMP's own
        # (per destination, net.ipv4.icmp_ratelimit; netns-wide, icmp_msgs_per_sec)
        # is off for every type with icmp_ratemask=0.  Not icmp_ratelimit=0: that
        # empties the per-source token bucket the route error limit below also
        # draws on, whenever a jiffy passes between the two checks, and the next
        # error within a second is then not sent (the flake: 1 unreachable of 2).
        # The route error limit (net.ipv4.route.error_cost/error_burst, host-wide
        # sysctls we leave alone) allows a burst of 5 per source: the tests of
        # this module send 4 requests to the unreachable route in all.
        for key, value in (("net.ipv4.ip_forward", "1"), ("net.ipv4.icmp_ratemask", "0")):
            _ip("netns", "exec", router, "sysctl", "-qw", f"{key}={value}")
        _ip("netns", "exec", client, "sysctl", "-qw", "net.ipv4.ping_group_range=0 2147483647")
        _ip("-n", router, "route", "add", "unreachable", "10.200.1.32/29")
        _ip("-n", router, "route", "add", "blackhole", "10.200.1.40/29")
        _ip("-n", client, "route", "add", "10.200.1.32/28", "via", "10.200.1.2")
        yield client
    finally:
        for ns in (client, router):
            subprocess.run(["ip", "netns", "del", ns], capture_output=True, timeout=10)


@needs_root
@pytest.mark.root
@pytest.mark.parametrize("mode", ["raw", "dgram"])
def test_namespace_reply_unreachable_and_timeout(netns_pair: str, mode: str) -> None:
    from probes.icmp_netns import netns_socket_factory

    timeout_s = 0.5

    async def run() -> tuple[list[R.ProbeResult], float, str | None]:
        async with Pinger(mode=mode, socket_factory=netns_socket_factory(netns_pair)) as p:
            up = await p.ping("10.200.1.2", count=2, spacing_s=0.05, timeout_s=timeout_s)
            # The errors come back at once; a long timeout only keeps an error
            # delivered late on a busy machine from counting as a timeout.
            unreach = await p.ping("10.200.1.33", count=2, spacing_s=0.05, timeout_s=5.0)
            t0 = time.monotonic()
            lost = await p.ping("10.200.1.41", count=2, spacing_s=0.05, timeout_s=timeout_s)
            took = time.monotonic() - t0
            return [up, unreach, lost], took, p.mode_of(socket.AF_INET)

    (up, unreach, lost), took, opened = asyncio.run(run())
    assert opened == mode
    assert up.ok and up.figures["received"] == 2 and up.figures["socket"] == mode
    assert not unreach.ok and unreach.error_class == R.UNREACHABLE
    assert unreach.figures["unreachable"] == 2 and unreach.figures["received"] == 0
    assert unreach.error and "host unreachable from 10.200.1.2" in unreach.error
    assert not lost.ok and lost.error_class == R.TIMEOUT
    assert lost.figures["loss_pct"] == 100.0 and lost.rtt_ms is None
    # finishes once the last request's timeout is over, not later
    assert timeout_s <= took < 0.05 + timeout_s + 0.5


@needs_root
@pytest.mark.root
def test_local_no_route_is_unreachable_and_says_local(netns_pair: str) -> None:
    from probes.icmp_netns import netns_socket_factory

    async def run() -> R.ProbeResult:
        async with Pinger(socket_factory=netns_socket_factory(netns_pair)) as p:
            return await p.ping("10.200.1.200", count=1, timeout_s=0.5)  # no route in client ns

    r = asyncio.run(run())
    assert not r.ok and r.error_class == R.UNREACHABLE
    assert r.figures["send_errors"] == 1 and r.error and "locally" in r.error


@needs_root
@pytest.mark.root
def test_closing_mid_ping_gives_no_data_not_timeout(netns_pair: str) -> None:
    from probes.icmp_netns import netns_socket_factory

    async def run() -> R.ProbeResult:
        p = Pinger(socket_factory=netns_socket_factory(netns_pair))
        task = asyncio.ensure_future(p.ping("10.200.1.41", count=1, timeout_s=5.0))  # blackholed
        await async_wait_until(lambda: p.stats["sent"], "the request sent", timeout_s=4.0)
        await p.close()
        return await task

    r = asyncio.run(run())
    assert not r.ok and r.error_class == R.INTERNAL and r.figures["aborted"] == 1
    assert r.error and "no data" in r.error
