"""Throw-away test hosts: a network namespace joined to the root namespace by a veth pair.

Why: outages and rate limits must be real to be evidence, so tests cut a real
link (``ip link set … down``) and shape it with a real qdisc (``tc … tbf``;
this kernel has no netem) instead of mocking sockets.

Layout of one host (index ``i`` → the ``i``-th /30 of 10.200.10.0/24 …
10.200.19.0/24, or the ``subnet`` given)::

    root namespace                          namespace ``ns``
    veth_host  host_ip (.1 of the /30)  <-> veth_peer  peer_ip (.2 of the /30)

Names are ``sp-<pid>-<n>`` (interfaces add ``h``/``p``; ≤ 15 chars), so
concurrent test processes never clash on names. Addresses are chosen by the
caller (``index`` or ``subnet``); a /30 already on a live interface is refused
with a clear error rather than silently misrouted, and one left behind by a
test process that died (its pid no longer exists) is cleaned up first.

Everything created is removed in ``finally``, processes started with
:meth:`TestHost.popen` included.
"""

from __future__ import annotations

import functools
import ipaddress
import itertools
import os
import re
import shutil
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import pytest

PREFIX = "sp-"
POOL_FIRST = ipaddress.ip_network("10.200.10.0/24")
POOL_SLOTS = 10 * 64  # ten /24s (10.200.10.0 … 10.200.19.255), 64 /30s each
CMD_TIMEOUT_S = 15.0
_counter = itertools.count()


class NetnsError(RuntimeError):
    """Setting up or tearing down a test host failed (message says which command)."""


def _ip(*args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run(
        ["ip", *args], capture_output=True, text=True, timeout=CMD_TIMEOUT_S
    )
    if check and proc.returncode != 0:
        raise NetnsError(f"ip {' '.join(args)}: {proc.stderr.strip() or proc.returncode}")
    return proc


def _tc(*args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run(
        ["tc", *args], capture_output=True, text=True, timeout=CMD_TIMEOUT_S
    )
    if check and proc.returncode != 0:
        raise NetnsError(f"tc {' '.join(args)}: {proc.stderr.strip() or proc.returncode}")
    return proc


@functools.lru_cache(maxsize=1)
def can_use_netns() -> tuple[bool, str]:
    """Whether this process can create namespaces and veths; the reason when not."""
    if os.geteuid() != 0:
        return False, "needs root for network namespaces (ip netns, veth, tc)"
    for tool in ("ip", "tc"):
        if shutil.which(tool) is None:
            return False, f"needs iproute2 ({tool} not found)"
    name = f"{PREFIX}{os.getpid()}-chk"
    try:
        made = _ip("netns", "add", name, check=False)
        if made.returncode != 0:
            return False, f"ip netns add failed: {made.stderr.strip()}"
        _ip("netns", "del", name, check=False)
    except (OSError, subprocess.SubprocessError) as exc:
        return False, f"ip netns unusable: {exc}"
    return True, ""


requires_netns = pytest.mark.skipif(
    not can_use_netns()[0], reason=can_use_netns()[1] or "network namespaces usable"
)


def subnet_for_index(index: int) -> ipaddress.IPv4Network:
    """The ``index``-th /30 of the shared pool 10.200.10.0/24 … 10.200.19.0/24."""
    if not 0 <= index < POOL_SLOTS:
        raise ValueError(f"index must be in [0, {POOL_SLOTS}), got {index}")
    base = int(POOL_FIRST.network_address) + index * 4
    return ipaddress.ip_network(f"{ipaddress.ip_address(base)}/30")


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _free_subnet(net: ipaddress.IPv4Network) -> None:
    """Refuse a /30 in use by a live interface; remove one left by a dead test process."""
    out = _ip("-o", "-4", "addr", "show").stdout
    for line in out.splitlines():
        m = re.match(r"\d+:\s+(\S+)\s+inet\s+(\S+)", line)
        if not m:
            continue
        ifname, cidr = m.group(1).split("@")[0], m.group(2)
        if not ipaddress.ip_interface(cidr).network.overlaps(net):
            continue
        stale = re.fullmatch(rf"{re.escape(PREFIX)}(\d+)-(\d+)h", ifname)
        if stale and not _pid_alive(int(stale.group(1))):
            _ip("netns", "del", ifname[:-1], check=False)
            _ip("link", "del", ifname, check=False)
            continue
        raise NetnsError(f"{net} is already in use on {ifname} ({cidr}); pick another index/subnet")


@dataclass
class TestHost:
    """One namespace reachable at ``peer_ip`` from the root namespace (``host_ip``)."""

    __test__ = False  # not a pytest test class, despite the name

    ns: str
    host_ip: str
    peer_ip: str
    veth_host: str
    veth_peer: str
    _procs: list[subprocess.Popen[Any]] = field(default_factory=list, repr=False)

    # -- outages -------------------------------------------------------------
    def link_down(self) -> None:
        """A real outage: the root-side end of the veth goes down (carrier lost on both)."""
        _ip("link", "set", self.veth_host, "down")

    def link_up(self) -> None:
        _ip("link", "set", self.veth_host, "up")

    # -- rate limits ---------------------------------------------------------
    def shape(self, rate_mbit: float, burst_kb: int | None = None) -> None:
        """Token-bucket limit ``rate_mbit`` on the egress of both directions.

        The burst defaults to 4 ms of traffic (≥ 16 KiB) so that the bucket
        is larger than one timer tick's worth at high rates; the queue holds
        50 ms so TCP sees the rate, not drops.
        """
        if rate_mbit <= 0:
            raise ValueError("rate_mbit must be positive")
        rate_kbit = max(8, round(rate_mbit * 1000))
        if burst_kb is None:
            burst_kb = max(16, int(rate_mbit * 1e6 / 8 * 0.004 / 1024))
        spec = ["root", "tbf", "rate", f"{rate_kbit}kbit", "burst", f"{burst_kb}kb", "latency", "50ms"]
        _tc("qdisc", "replace", "dev", self.veth_host, *spec)
        _ip("netns", "exec", self.ns, "tc", "qdisc", "replace", "dev", self.veth_peer, *spec)

    def unshape(self) -> None:
        _tc("qdisc", "del", "dev", self.veth_host, "root", check=False)
        _ip("netns", "exec", self.ns, "tc", "qdisc", "del", "dev", self.veth_peer, "root", check=False)

    # -- processes inside the namespace -------------------------------------
    def _argv(self, args: list[str]) -> list[str]:
        return ["ip", "netns", "exec", self.ns, *args]

    def run(self, args: list[str], **kw: Any) -> subprocess.CompletedProcess[Any]:
        """Run ``args`` inside the namespace (defaults: capture text, 30 s timeout, no check)."""
        kw.setdefault("capture_output", True)
        kw.setdefault("text", True)
        kw.setdefault("timeout", 30)
        return subprocess.run(self._argv(args), **kw)

    def popen(self, args: list[str], **kw: Any) -> subprocess.Popen[Any]:
        """Start ``args`` inside the namespace; it is stopped when the host is torn down."""
        proc = subprocess.Popen(self._argv(args), **kw)
        self._procs.append(proc)
        return proc

    def wait_listening(self, port: int, timeout: float = 5.0) -> None:
        """Block until a TCP socket listens on ``port`` inside the namespace (bounded)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            out = self.run(["ss", "-Hltn", f"sport = :{port}"], timeout=5).stdout
            if out.strip():
                return
            time.sleep(0.05)
        raise NetnsError(f"nothing listens on port {port} in {self.ns} after {timeout} s")

    def _stop_procs(self) -> None:
        for proc in self._procs:
            if proc.poll() is None:
                proc.terminate()
        for proc in self._procs:
            try:
                proc.wait(timeout=3)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=3)
        self._procs.clear()


def _new_name() -> str:
    """Create and return a fresh namespace ``sp-<pid>-<n>``.

    Skips names already taken (the module may be imported twice, as
    ``support.netns`` and ``tests.support.netns``, each with its own counter).
    """
    for _ in range(1000):
        base = f"{PREFIX}{os.getpid()}-{next(_counter)}"
        if len(base) > 14:  # interface names are ≤ 15 chars with the h/p suffix
            raise NetnsError(f"namespace name {base!r} too long for interface names")
        if _ip("link", "show", base + "h", check=False).returncode == 0:
            continue
        if _ip("netns", "add", base, check=False).returncode == 0:
            return base
    raise NetnsError("no free namespace name")


@contextmanager
def test_host(index: int = 0, *, subnet: str | None = None) -> Iterator[TestHost]:
    """A fresh namespace + veth pair with addresses from a /30; always removed afterwards."""
    net = ipaddress.ip_network(subnet, strict=False) if subnet else subnet_for_index(index)
    if net.prefixlen > 30:
        raise ValueError(f"subnet {net} too small: need at least a /30")
    hosts = list(net.hosts())
    _free_subnet(net)
    base = _new_name()
    host = TestHost(
        ns=base,
        host_ip=str(hosts[0]),
        peer_ip=str(hosts[1]),
        veth_host=base + "h",
        veth_peer=base + "p",
    )
    try:
        _ip("link", "add", host.veth_host, "type", "veth", "peer", "name", host.veth_peer)
        _ip("link", "set", host.veth_peer, "netns", host.ns)
        _ip("addr", "add", f"{host.host_ip}/{net.prefixlen}", "dev", host.veth_host)
        _ip("link", "set", host.veth_host, "up")
        inside = ["netns", "exec", host.ns, "ip"]
        _ip(*inside, "addr", "add", f"{host.peer_ip}/{net.prefixlen}", "dev", host.veth_peer)
        _ip(*inside, "link", "set", host.veth_peer, "up")
        _ip(*inside, "link", "set", "lo", "up")
        yield host
    finally:
        host._stop_procs()
        _ip("netns", "del", host.ns, check=False)
        # Deleting the namespace destroys the pair; this covers a failure before the move.
        _ip("link", "del", host.veth_host, check=False)


test_host.__test__ = False  # type: ignore[attr-defined]  # a helper, not a test, when imported into a test module
