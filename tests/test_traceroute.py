"""Traceroute probe: loopback (one hop), a real two-hop path through namespaces, parsers.

The two-hop path is three namespaces of our own, addresses from 10.200.2.0/24
split into /30s::

    A 10.200.2.1/30 --- 10.200.2.2/30  R  10.200.2.5/30 --- 10.200.2.6/30 B
                                  (ip_forward=1)

The probe runs inside A (``ip netns exec A python -c …``), so no packet ever
leaves the namespaces.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from agent.core.result import INTERNAL, TIMEOUT, UNREACHABLE
from probes.traceroute import (
    Hop,
    binary_trace,
    parse_traceroute_output,
    traceroute,
    trim_hops,
)
from tests.support.servers import ipv6_loopback_available

ROOT = Path(__file__).resolve().parents[1]
PYTHON = str(ROOT / ".venv" / "bin" / "python") if (ROOT / ".venv").exists() else sys.executable
needs_root = pytest.mark.skipif(os.geteuid() != 0, reason="needs root for raw ICMP sockets / network namespaces")
needs_ipv6 = pytest.mark.skipif(not ipv6_loopback_available(), reason="no IPv6 loopback (::1) here")

A_IP, R_A_IP, R_B_IP, B_IP = "10.200.2.1", "10.200.2.2", "10.200.2.5", "10.200.2.6"
NO_ROUTE_IP = "10.200.2.100"  # inside our /24, but R has no route to it


def run(coro: Any) -> Any:
    return asyncio.run(coro)


# -- loopback ---------------------------------------------------------------


def test_udp_to_loopback_reaches_in_one_hop() -> None:
    when = datetime(2024, 2, 29, 12, 0, 0, 123456, tzinfo=UTC)
    res = run(traceroute("127.0.0.1", protocol="udp", timeout_s=1.0, wall=lambda: when))
    assert res.ok, res.error
    assert res.kind == "traceroute" and res.started_at == when
    f = res.figures
    assert f["reached"] is True and f["destination"] == "127.0.0.1" and f["protocol"] == "udp"
    assert len(f["hops"]) == 1
    hop = f["hops"][0]
    assert hop["ttl"] == 1 and hop["address"] == "127.0.0.1"
    assert len(hop["rtts_ms"]) == 2 and hop["sent"] == 2
    assert all(r >= 0 for r in hop["rtts_ms"])
    assert res.rtt_ms is not None and res.rtt_ms >= 0


@needs_ipv6
def test_udp_to_ipv6_loopback() -> None:
    res = run(traceroute("::1", protocol="udp", count=1))
    assert res.ok, res.error
    assert [h["address"] for h in res.figures["hops"]] == ["::1"]


@needs_root
@pytest.mark.root
def test_icmp_to_loopback_reaches_in_one_hop() -> None:
    res = run(traceroute("127.0.0.1", protocol="icmp", count=3))
    assert res.ok, res.error
    hops = res.figures["hops"]
    assert len(hops) == 1 and hops[0]["address"] == "127.0.0.1" and len(hops[0]["rtts_ms"]) == 3
    assert res.figures["method"] == "icmplib"


def test_unknown_protocol_is_internal_error() -> None:
    res = run(traceroute("127.0.0.1", protocol="tcp"))
    assert not res.ok and res.error_class == INTERNAL and "tcp" in (res.error or "")


def test_name_that_cannot_resolve_is_dns_error() -> None:
    # Longer than 255 octets: glibc refuses it before sending any query.
    name = ".".join(["a" * 60] * 5) + ".invalid"
    res = run(traceroute(name, protocol="udp"))
    assert not res.ok and res.error_class == "dns"


# -- pure logic ---------------------------------------------------------------


def test_trim_hops_pads_silent_ttls_and_cuts_after_destination() -> None:
    hops = [
        Hop(ttl=1, addresses=["10.0.0.1"], rtts_ms=[1.0], sent=2),
        Hop(ttl=3, addresses=["10.0.0.9"], rtts_ms=[3.0], sent=2, final=True),
        Hop(ttl=4, addresses=["10.0.0.9"], rtts_ms=[3.0], sent=2, final=True),
    ]
    out, reached = trim_hops(hops, max_hops=30)
    assert reached
    assert [h.ttl for h in out] == [1, 2, 3]
    assert out[1].as_figure() == {"ttl": 2, "address": None, "rtts_ms": [], "sent": 0}


def test_trim_hops_unreachable_note_is_not_reached() -> None:
    out, reached = trim_hops([Hop(ttl=1, addresses=["10.0.0.1"], final=True, note="!H")], max_hops=5)
    assert not reached and out[0].as_figure()["note"] == "!H"


def test_hop_figure_lists_all_addresses_when_they_differ() -> None:
    fig = Hop(ttl=2, addresses=["10.0.0.1", "10.0.0.2", "10.0.0.1"], rtts_ms=[1, 2, 3]).as_figure()
    assert fig["address"] == "10.0.0.1" and fig["addresses"] == ["10.0.0.1", "10.0.0.2"]


def test_parse_traceroute_output_multi_hop() -> None:
    text = (
        "traceroute to 192.0.2.9 (192.0.2.9), 30 hops max, 60 byte packets\n"
        " 1  10.0.0.1  0.512 ms  0.401 ms\n"
        " 2  * *\n"
        " 3  198.51.100.1  5.1 ms 198.51.100.2  5.3 ms\n"
        " 4  192.0.2.9  9.000 ms  8.500 ms\n"
    )
    hops = parse_traceroute_output(text, "192.0.2.9")
    assert [h.ttl for h in hops] == [1, 2, 3, 4]
    assert hops[0].addresses == ["10.0.0.1"] and hops[0].rtts_ms == [0.512, 0.401]
    assert hops[1].addresses == [] and hops[1].rtts_ms == []
    assert hops[2].addresses == ["198.51.100.1", "198.51.100.2"]
    assert hops[3].final and not hops[2].final
    out, reached = trim_hops(hops, 30)
    assert reached and len(out) == 4


def test_parse_traceroute_output_unreachable_annotation() -> None:
    hops = parse_traceroute_output(" 1  10.0.0.1  0.5 ms !H  0.4 ms !H\n", "10.9.9.9")
    assert hops[0].final and hops[0].note == "!H" and hops[0].rtts_ms == [0.5, 0.4]


@pytest.mark.skipif(shutil.which("traceroute") is None, reason="no traceroute binary")
def test_system_traceroute_binary_fallback_on_loopback() -> None:
    hops = binary_trace("127.0.0.1", max_hops=3, count=2, timeout_s=1, icmp=False)
    out, reached = trim_hops(hops, 3)
    assert reached and [h.addresses[0] for h in out] == ["127.0.0.1"] and len(out[0].rtts_ms) == 2


# -- a real two-hop path --------------------------------------------------------


def _ip(*args: str) -> None:
    proc = subprocess.run(["ip", *args], capture_output=True, text=True, timeout=15)
    if proc.returncode != 0:
        raise RuntimeError(f"ip {' '.join(args)}: {proc.stderr.strip()}")


def _in_ns(ns: str, *args: str) -> None:
    _ip("netns", "exec", ns, *args)


@pytest.fixture(scope="module")
def two_hop_path() -> Iterator[str]:
    """Namespaces A -- R -- B; yields the name of A. Always removed afterwards."""
    if os.geteuid() != 0 or shutil.which("ip") is None:
        pytest.skip("needs root and iproute2 for network namespaces")
    tag = f"spt{os.getpid()}"
    a, r, b = f"{tag}a", f"{tag}r", f"{tag}b"
    made: list[str] = []
    try:
        for ns in (a, r, b):
            _ip("netns", "add", ns)
            made.append(ns)
        _ip("link", "add", f"{tag}ar", "type", "veth", "peer", "name", f"{tag}ra")
        _ip("link", "set", f"{tag}ar", "netns", a)
        _ip("link", "set", f"{tag}ra", "netns", r)
        _ip("link", "add", f"{tag}br", "type", "veth", "peer", "name", f"{tag}rb")
        _ip("link", "set", f"{tag}br", "netns", b)
        _ip("link", "set", f"{tag}rb", "netns", r)
        for ns, dev, cidr in (
            (a, f"{tag}ar", f"{A_IP}/30"),
            (r, f"{tag}ra", f"{R_A_IP}/30"),
            (r, f"{tag}rb", f"{R_B_IP}/30"),
            (b, f"{tag}br", f"{B_IP}/30"),
        ):
            _in_ns(ns, "ip", "addr", "add", cidr, "dev", dev)
            _in_ns(ns, "ip", "link", "set", dev, "up")
        for ns in (a, r, b):
            _in_ns(ns, "ip", "link", "set", "lo", "up")
            # Our own routers: no ICMP error is rate limited (ratemask 0), so repeated
            # runs stay deterministic. (icmp_ratelimit=0 would not do: it zeroes the
            # per-source token count that "net unreachable" replies also draw on.)
            _in_ns(ns, "sysctl", "-q", "-w", "net.ipv4.icmp_ratemask=0")
        _in_ns(r, "sysctl", "-q", "-w", "net.ipv4.ip_forward=1")
        _in_ns(a, "ip", "route", "add", "default", "via", R_A_IP)
        _in_ns(b, "ip", "route", "add", "default", "via", R_B_IP)
        yield a
    finally:
        for ns in made:
            subprocess.run(["ip", "netns", "del", ns], capture_output=True, timeout=15)


def _trace_in(ns: str, address: str, **kw: Any) -> dict[str, Any]:
    code = (
        "import asyncio, json, dataclasses\n"
        "from probes.traceroute import traceroute\n"
        f"r = asyncio.run(traceroute({address!r}, **{kw!r}))\n"
        "print(json.dumps({'ok': r.ok, 'rtt_ms': r.rtt_ms, 'figures': r.figures,"
        " 'error_class': r.error_class, 'error': r.error}))\n"
    )
    proc = subprocess.run(
        ["ip", "netns", "exec", ns, PYTHON, "-c", code],
        capture_output=True, text=True, timeout=60, cwd=ROOT,
    )
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


@needs_root
@pytest.mark.root
@pytest.mark.parametrize("protocol", ["udp", "icmp"])
def test_two_hops_through_a_router(two_hop_path: str, protocol: str) -> None:
    res = _trace_in(two_hop_path, B_IP, protocol=protocol, count=2, timeout_s=1.0)
    assert res["ok"], res["error"]
    hops = res["figures"]["hops"]
    assert [h["address"] for h in hops] == [R_A_IP, B_IP]
    assert [h["ttl"] for h in hops] == [1, 2]
    assert all(len(h["rtts_ms"]) == 2 for h in hops)
    assert res["figures"]["reached"] is True and res["figures"]["destination"] == B_IP


@needs_root
@pytest.mark.root
@pytest.mark.parametrize("protocol", ["udp", "icmp"])
def test_path_ending_in_network_unreachable(two_hop_path: str, protocol: str) -> None:
    # R answers "net unreachable" at once (route lookup precedes the TTL check).
    # The kernel limits those per source apart from icmp_ratemask (burst 5, then
    # 1/s: net.ipv4.route.error_cost, a global sysctl we leave alone), so both
    # runs together send only 3 probes.
    res = _trace_in(two_hop_path, NO_ROUTE_IP, protocol=protocol, count=1, max_hops=2, timeout_s=1.0)
    assert not res["ok"] and res["error_class"] == UNREACHABLE, res
    hops = res["figures"]["hops"]
    assert hops[-1]["address"] == R_A_IP and hops[-1]["note"] == "!N"
    assert res["figures"]["reached"] is False


@needs_root
@pytest.mark.root
def test_max_hops_short_of_destination_is_not_reached(two_hop_path: str) -> None:
    res = _trace_in(two_hop_path, B_IP, protocol="udp", max_hops=1, count=1, timeout_s=1.0)
    assert not res["ok"] and res["error_class"] == TIMEOUT
    assert [h["address"] for h in res["figures"]["hops"]] == [R_A_IP]


@pytest.mark.root
@pytest.mark.skipif(os.geteuid() != 0 or shutil.which("setpriv") is None, reason="needs root and setpriv to drop privileges")
def test_unprivileged_udp_works_and_icmp_says_permission() -> None:
    """As 'nobody' without capabilities: UDP mode needs no raw socket, ICMP mode reports why not."""
    code = (
        "import asyncio, json\nfrom probes.traceroute import traceroute\n"
        "out = []\n"
        "for p in ('udp', 'icmp'):\n"
        "    r = asyncio.run(traceroute('127.0.0.1', protocol=p, count=1))\n"
        "    out.append([r.ok, r.error_class, [h['address'] for h in r.figures['hops']]])\n"
        "print(json.dumps(out))\n"
    )
    proc = subprocess.run(
        ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "--inh-caps=-all", PYTHON, "-c", code],
        capture_output=True, text=True, timeout=30, cwd="/",
    )
    assert proc.returncode == 0, proc.stderr
    (udp_ok, udp_class, udp_hops), (icmp_ok, icmp_class, icmp_hops) = json.loads(proc.stdout)
    assert udp_ok and udp_class is None and udp_hops == ["127.0.0.1"]
    assert not icmp_ok and icmp_class == "permission" and icmp_hops == []
