"""Benchmark: the agent's CPU at 1,000 loopback targets with /metrics off, then on and scraped every 15 s.

Runs the real agent (`slaproof run`) on generated configs (ICMP every 10 s, as bench/probe_scale.py),
alternating off and on runs so drift of a shared machine falls on both, and a scraper that GETs
/metrics every 15 s (as Prometheus would) during the "on" runs. Prints each run's steady-state
CPU % of one core, the mean of each mode, the size of one scrape and the time to serve it.
Goal: "on" no more than 0.5 point of one core above "off".

Usage (root, or CAP_NET_RAW): .venv/bin/python bench/metrics_cpu.py [--targets 1000] [--seconds 120] [--pairs 2]
"""

from __future__ import annotations

import argparse
import json
import socket
import statistics
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from probe_scale import addresses, agent_cpu  # bench/ is not a package: imported by path

SCRAPE_EVERY_S = 15.0


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def scraper(port: int, stop: threading.Event, sizes: list[int], times: list[float]) -> None:
    while not stop.wait(SCRAPE_EVERY_S if sizes else 5.0):
        t0 = time.perf_counter()
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10) as r:
                sizes.append(len(r.read()))
        except OSError as e:
            print(f"scrape failed: {e}", file=sys.stderr)
            continue
        times.append(time.perf_counter() - t0)


def run(args: argparse.Namespace, addrs: list[str], work: Path, metrics: bool) -> tuple[float, list[int], list[float]]:
    """One agent run (probe_scale.agent_cpu), with a scraper beside it when /metrics is on."""
    port = free_port()
    extra = ["[agent.checkpoints]", "enabled = false"]
    if metrics:
        extra += ["[agent.metrics]", "enabled = true", f'listen = "127.0.0.1:{port}"']
    stop = threading.Event()
    sizes: list[int] = []
    times: list[float] = []
    th = threading.Thread(target=scraper, args=(port, stop, sizes, times), daemon=True) if metrics else None
    if th:
        th.start()
    try:
        cpu, _ = agent_cpu(args, addrs, work, extra)
    finally:
        stop.set()
    return cpu, sizes, times


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--targets", type=int, default=1000)
    ap.add_argument("--interval", type=float, default=10.0)
    ap.add_argument("--seconds", type=float, default=120.0)
    ap.add_argument("--pairs", type=int, default=2)
    args = ap.parse_args()
    addrs = addresses(args.targets)
    off: list[float] = []
    on: list[float] = []
    sizes: list[int] = []
    times: list[float] = []
    with tempfile.TemporaryDirectory(prefix="slaproof-bench-metrics-") as tmp:
        for i in range(args.pairs):
            off.append(run(args, addrs, Path(tmp) / f"off{i}", False)[0])
            cpu, s, t = run(args, addrs, Path(tmp) / f"on{i}", True)
            on.append(cpu)
            sizes += s
            times += t
            print(f"pair {i + 1}: off {off[-1]:.2f} %, on {on[-1]:.2f} % ({len(s)} scrapes)", flush=True)
    diff = statistics.mean(on) - statistics.mean(off)
    print(json.dumps({"targets": args.targets, "interval_s": args.interval, "seconds_per_run": args.seconds,
                      "cpu_pct_of_one_core": {"off": [round(x, 2) for x in off], "on": [round(x, 2) for x in on]},
                      "scrapes": len(sizes), "scrape_bytes": max(sizes, default=0),
                      "scrape_ms_p50": round(1000 * statistics.median(times), 1) if times else None}, indent=2))
    print(f"{'PASS' if diff <= 0.5 else 'MISS'}  /metrics on and scraped every 15 s costs {diff:+.2f} points of one core (floor: ≤ 0.5)")
    return 0 if diff <= 0.5 else 1


if __name__ == "__main__":
    sys.exit(main())
