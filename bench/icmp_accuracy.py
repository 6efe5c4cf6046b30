"""How far are our ICMP RTTs from fping's and ping's, at scale?  (needs root)

Pings N loopback addresses (127.0.x.y) with one :class:`probes.icmp.Pinger`
(count 3, all targets at once) and with ``fping -C 3 -q``, plus ``ping -c 3``
for a few addresses, then the same against test hosts behind a veth pair in
network namespaces this script creates (10.200.1.128/25; removed at exit).
Prints, per address, the difference of the 3-ping average (ours − reference):
median and p99 of |difference|, replies lost by each tool, and the CPU time
the Pinger used.  Figures go to docs/accuracy.md.

    .venv/bin/python bench/icmp_accuracy.py [--hosts 1000] [--ns-hosts 100] [--repeat 1]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import resource
import statistics
import subprocess
import sys
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass

from probes.icmp import Pinger, SocketFactory
from probes.icmp_netns import netns_socket_factory


@dataclass
class Run:
    """Per-address 3-ping average RTT (None: no reply), lost replies, timing."""

    avg_ms: dict[str, float | None]
    lost: int
    cpu_s: float = 0.0
    wall_s: float = 0.0


def _cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


async def _hog(block_s: float) -> None:
    """Block the event loop for ``block_s`` every millisecond (a stand-in for a busy daemon)."""
    while True:
        time.sleep(block_s)
        await asyncio.sleep(0.001)


def run_pinger(
    addrs: Sequence[str],
    factory: SocketFactory | None,
    gap_s: float,
    hog_s: float = 0.0,
    rcvbuf: int = 4 << 20,
) -> Run:
    async def go() -> Run:
        hog = asyncio.ensure_future(_hog(hog_s)) if hog_s > 0 else None
        async with Pinger(socket_factory=factory, send_gap_s=gap_s, rcvbuf_bytes=rcvbuf) as p:
            await p.ping(addrs[0], count=1)  # open the socket outside the timing
            c0, t0 = _cpu(), time.monotonic()
            res = await asyncio.gather(*(p.ping(a, count=3, spacing_s=0.2, timeout_s=1.0) for a in addrs))
            cpu, wall = _cpu() - c0, time.monotonic() - t0
        if hog:
            hog.cancel()
        lost = sum(r.figures["sent"] - r.figures["received"] for r in res)
        return Run({a: r.rtt_ms for a, r in zip(addrs, res)}, lost, cpu, wall)

    return asyncio.run(go())


def run_pinger_one_by_one(addrs: Sequence[str], factory: SocketFactory | None) -> Run:
    """Like ``ping -c 3 -i 0.2`` run per address in turn: same idle-CPU conditions."""

    async def go() -> Run:
        async with Pinger(socket_factory=factory) as p:
            res = [await p.ping(a, count=3, spacing_s=0.2, timeout_s=1.0) for a in addrs]
        lost = sum(r.figures["sent"] - r.figures["received"] for r in res)
        return Run({a: r.rtt_ms for a, r in zip(addrs, res)}, lost)

    return asyncio.run(go())


def _ns_prefix(netns: str | None) -> list[str]:
    return ["ip", "netns", "exec", netns] if netns else []


def run_fping(addrs: Sequence[str], netns: str | None) -> Run:
    # -i 1: 1 ms between packets (fping's floor), -p 1000: each target once a second.
    cmd = [*_ns_prefix(netns), "fping", "-C", "3", "-q", "-i", "1", "-p", "1000", "-t", "1000", "-f", "-"]
    t0 = time.monotonic()
    out = subprocess.run(cmd, input="\n".join(addrs) + "\n", capture_output=True, text=True, timeout=600)
    wall = time.monotonic() - t0
    avg: dict[str, float | None] = {}
    lost = 0
    for line in out.stderr.splitlines():
        host, _, rest = line.partition(" : ")
        vals = rest.split()
        if not vals:
            continue
        got = [float(v) for v in vals if v != "-"]
        lost += len(vals) - len(got)
        avg[host.strip()] = sum(got) / len(got) if got else None
    for a in addrs:
        if a not in avg:
            avg[a], lost = None, lost + 3
    return Run(avg, lost, wall_s=wall)


def run_ping(addrs: Sequence[str], netns: str | None) -> Run:
    avg: dict[str, float | None] = {}
    lost = 0
    for a in addrs:
        cmd = [*_ns_prefix(netns), "ping", "-n", "-q", "-c", "3", "-i", "0.2", "-W", "1", a]
        out = subprocess.run(cmd, capture_output=True, text=True, timeout=30).stdout
        m = re.search(r"= [\d.]+/([\d.]+)/", out)
        avg[a] = float(m.group(1)) if m else None
        r = re.search(r"(\d+) packets transmitted, (\d+) received", out)
        lost += int(r.group(1)) - int(r.group(2)) if r else 3
    return Run(avg, lost)


def _pct(xs: Sequence[float], q: float) -> float:
    s = sorted(xs)
    return s[min(len(s) - 1, max(0, round(q * (len(s) - 1))))]


def compare(label: str, ours: Run, ref: Run, ref_name: str) -> None:
    diffs = [
        ours.avg_ms[a] - ref.avg_ms[a]  # type: ignore[operator]
        for a in ref.avg_ms
        if ours.avg_ms.get(a) is not None and ref.avg_ms[a] is not None
    ]
    if not diffs:
        print(f"  {label} vs {ref_name}: no common answers")
        return
    absd = [abs(d) for d in diffs]
    ours_med = statistics.median(v for v in ours.avg_ms.values() if v is not None)
    ref_med = statistics.median(v for v in ref.avg_ms.values() if v is not None)
    print(
        f"  {label} vs {ref_name:5s} n={len(diffs):4d}  median RTT ours {ours_med:.4f} ms, "
        f"{ref_name} {ref_med:.4f} ms | per-address diff (ours-{ref_name}): median {statistics.median(diffs):+.4f} ms, "
        f"median|d| {statistics.median(absd):.4f} ms, p99|d| {_pct(absd, 0.99):.4f} ms, max|d| {max(absd):.4f} ms"
    )


def section(
    label: str,
    addrs: list[str],
    netns: str | None,
    factory: SocketFactory | None,
    gap: float,
    n_ping: int,
    hog_s: float,
) -> None:
    hogged = f", event loop blocked {hog_s * 1e3:g} ms of every ~{hog_s * 1e3 + 1:g} ms" if hog_s else ""
    print(f"== {label}: {len(addrs)} addresses, count 3{hogged} ==")
    ours = run_pinger(addrs, factory, gap, hog_s)
    fp = run_fping(addrs, netns)
    few = addrs[: n_ping]
    pg = run_ping(few, netns)
    print(
        f"  lost replies: pinger {ours.lost}/{3 * len(addrs)}, fping {fp.lost}/{3 * len(addrs)}, "
        f"ping {pg.lost}/{3 * len(few)}"
    )
    print(
        f"  pinger CPU {ours.cpu_s:.3f} s for {3 * len(addrs)} echoes (wall {ours.wall_s:.2f} s) = "
        f"{100 * ours.cpu_s / 10:.1f} % of one core if repeated every 10 s; fping wall {fp.wall_s:.2f} s"
    )
    compare(label, ours, fp, "fping")
    compare(label + " (one at a time)", run_pinger_one_by_one(few, factory), pg, "ping")


def pacing_matrix(addrs: list[str]) -> None:
    """Replies lost with and without send pacing / a large receive buffer."""
    print(f"== pacing: {len(addrs)} loopback addresses x 3, all at once ==")
    for gap_ms, rcvbuf in ((0, 8 << 10), (0, 64 << 10), (0.1, 64 << 10), (0.2, 8 << 10),
                           (0.2, 208 << 10), (0, 4 << 20), (0.2, 4 << 20)):
        r = run_pinger(addrs, None, gap_ms / 1e3, rcvbuf=rcvbuf)
        print(f"  gap {gap_ms:>4} ms  rcvbuf {rcvbuf >> 10:>5} KiB  lost {r.lost:>5}/{3 * len(addrs)}  "
              f"wall {r.wall_s:.2f} s")


def _ip(*args: str) -> None:
    subprocess.run(["ip", *args], check=True, capture_output=True, timeout=10)


def make_ns(n_hosts: int) -> tuple[str, str, list[str]]:
    """client ns 10.200.1.129/25 --veth-- hosts ns with n_hosts addresses from 10.200.1.130."""
    tag = uuid.uuid4().hex[:6]
    client, hosts = f"spicmpb-c{tag}", f"spicmpb-h{tag}"
    vc, vh = f"spbc{tag}", f"spbh{tag}"
    _ip("netns", "add", client)
    _ip("netns", "add", hosts)
    _ip("link", "add", vc, "type", "veth", "peer", "name", vh)
    _ip("link", "set", vc, "netns", client)
    _ip("link", "set", vh, "netns", hosts)
    _ip("-n", client, "addr", "add", "10.200.1.129/25", "dev", vc)
    addrs = [f"10.200.1.{130 + i}" for i in range(min(n_hosts, 125))]
    for a in addrs:
        _ip("-n", hosts, "addr", "add", f"{a}/25", "dev", vh)
    for ns, dev in ((client, vc), (hosts, vh)):
        _ip("-n", ns, "link", "set", "lo", "up")
        _ip("-n", ns, "link", "set", dev, "up")
    return client, hosts, addrs


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--hosts", type=int, default=1000, help="loopback addresses (max 64000)")
    ap.add_argument("--ns-hosts", type=int, default=100, help="namespace test hosts (max 125)")
    ap.add_argument("--ping-hosts", type=int, default=5, help="addresses also checked with ping -c 3")
    ap.add_argument("--gap-ms", type=float, default=0.2, help="Pinger send gap")
    ap.add_argument("--repeat", type=int, default=1)
    ap.add_argument("--pacing", action="store_true", help="only the send-gap / rcvbuf loss matrix")
    ap.add_argument(
        "--hog-ms", type=float, default=0.0, help="block the Pinger's event loop this long every ms"
    )
    a = ap.parse_args(argv)
    if os.geteuid() != 0:
        print("needs root (raw sockets, namespaces)", file=sys.stderr)
        return 2
    loop_addrs = [f"127.0.{i // 250}.{i % 250 + 1}" for i in range(a.hosts)]
    if a.pacing:
        pacing_matrix(loop_addrs)
        return 0
    client = hosts = None
    try:
        client, hosts, ns_addrs = make_ns(a.ns_hosts)
        for r in range(a.repeat):
            print(f"--- run {r + 1}/{a.repeat}, send gap {a.gap_ms} ms ---")
            section("loopback", loop_addrs, None, None, a.gap_ms / 1e3, a.ping_hosts, a.hog_ms / 1e3)
            factory = netns_socket_factory(client)
            section("veth-ns", ns_addrs, client, factory, a.gap_ms / 1e3, a.ping_hosts, a.hog_ms / 1e3)
    finally:
        for ns in (client, hosts):
            if ns:
                subprocess.run(["ip", "netns", "del", ns], capture_output=True, timeout=10)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
