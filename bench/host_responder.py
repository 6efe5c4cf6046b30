"""What `slaproof serve --host` costs the rented machine: CPU while idle between readings, and per reading.

Run: .venv/bin/python bench/host_responder.py [--every 20] [--readings 4] [--scratch /var/tmp]
Starts the real command (loopback, a token), lets it take readings (the first one with the
throughput test), and measures from /proc/<pid>/stat: the CPU it used in the quiet stretches
between readings (floor: 0.5 % of one core), and what each reading cost as it reports itself
(CPU seconds, wall time, bytes written). The machine is shared: figures are noisy.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from probes.host import HostProbeSettings, poll_host
from tests.support.host_responder import TOKEN, host_responder

IDLE_FLOOR_PCT = 0.5
TICK = os.sysconf("SC_CLK_TCK")


def cpu_s(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK  # utime, stime


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def readings(url: str) -> list[dict[str, Any]]:
    poll = asyncio.run(poll_host(HostProbeSettings(url, TOKEN, timeout_s=10), None))
    return [r.figures["reading"] for r in poll.results if r.ok]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--every", type=float, default=20.0, help="seconds between readings")
    ap.add_argument("--readings", type=int, default=4)
    ap.add_argument("--scratch", default="/var/tmp")
    a = ap.parse_args()
    tmp = Path(os.environ.get("TMPDIR", "/tmp")) / f"slaproof-bench-host-{os.getpid()}"
    tmp.mkdir()
    args = ["--host-every", str(a.every), "--host-scratch", a.scratch, "--host-min-free-mb", "0"]
    with host_responder(tmp, args) as resp:
        pid = resp.proc.pid
        first_after = min(a.every, 30.0)
        time.sleep(first_after + 3)  # the first reading is done
        idle: list[float] = []
        for _ in range(a.readings - 1):
            # A quiet stretch: from 2 s after a reading to 2 s before the next one.
            c0, t0 = cpu_s(pid), time.monotonic()
            time.sleep(a.every - 5)
            idle.append(100 * (cpu_s(pid) - c0) / (time.monotonic() - t0))
            time.sleep(5)
        got = readings(resp.url)
        rss = rss_mb(pid)
    for f in tmp.iterdir():
        f.unlink()
    tmp.rmdir()
    print(f"responder idle between readings: {max(idle):.3f} % of one core at most ({len(idle)} stretches of "
          f"{a.every - 5:.0f} s; floor {IDLE_FLOOR_PCT} %) -> {'ok' if max(idle) <= IDLE_FLOOR_PCT else 'OVER'}")
    print(f"responder RSS: {rss:.1f} MB")
    for r in got:
        disk = r.get("disk") or {}
        seq = disk.get("throughput")
        print(f"reading {r['seq']}: {r['cpu_s']:.3f} CPU s, {r['took_s']:.3f} s wall, {disk.get('bytes_written', 0) / 1e6:.1f} MB "
              f"written{' (with the throughput test)' if seq else ''}; speed {r['speed']['units_per_s']:.1f} units/s")
    per = [r["cpu_s"] for r in got if not (r.get("disk") or {}).get("throughput")]
    if per:
        mean = sum(per) / len(per)
        print(f"per reading without the throughput test: {mean:.3f} CPU s; at one reading per 300 s that is "
              f"{100 * mean / 300:.3f} % of one core on average")


if __name__ == "__main__":
    main()
