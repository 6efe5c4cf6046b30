"""Timing of the incident pass: 30 days at 10 s (259,200 rounds) for one target.

Run: .venv/bin/python bench/bench_incidents.py
Prints seconds per scenario (best of 3; the machine is shared, so figures are noisy).
The rounds are built beforehand; only analyse_target is timed.
"""

from __future__ import annotations

import random
import sys
import time
import tracemalloc
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from reports.analysis.incidents import IncidentPolicy, analyse_target, control_down_intervals
from tests.support.timelines import T0, iter_rounds, make_rounds, run

N = 30 * 24 * 360  # 259,200 rounds
PERIOD_END = T0 + timedelta(days=30)


def scenario(name: str) -> str:
    rng = random.Random(1)
    if name == "all up":
        return "u" * N
    if name == "1% bad rounds (blips, outages, slow, gaps)":
        chars = []
        i = 0
        while i < N:
            x = rng.random()
            if x < 0.002:
                chars.append("D" * rng.randint(1, 40))
            elif x < 0.004:
                chars.append("P" * rng.randint(1, 10))
            elif x < 0.006:
                chars.append("S" * rng.randint(1, 60))
            elif x < 0.0065:
                chars.append("_" * rng.randint(1, 20))
            else:
                chars.append("u")
            i += len(chars[-1])
        return "".join(chars)[:N]
    if name == "all down":
        return "D" * N
    raise KeyError(name)


def main() -> None:
    policy = IncidentPolicy(interval_s=10, rtt_ms_max=150, loss_pct_max=20)
    for name in ("all up", "1% bad rounds (blips, outages, slow, gaps)", "all down"):
        pattern = scenario(name)
        pattern = pattern[:86400] + "_" * 30 + pattern[86430:]  # the agent stopped for 5 minutes on day 10
        rounds = make_rounds("t", T0, 10, pattern)
        controls = make_rounds("c", T0, 10, "u" * (N // 2) + "DDD" + "u" * (N // 2 - 3))
        windows = control_down_intervals(controls, policy)
        runs = [run(T0, T0 + timedelta(days=10)), run(T0 + timedelta(days=10, minutes=5))]
        best = float("inf")
        for _ in range(3):
            t = time.perf_counter()
            a = analyse_target(rounds, period_start=T0, period_end=PERIOD_END, policy=policy, runs=runs, control_down=windows)
            best = min(best, time.perf_counter() - t)
        print(f"{name:45s} {len(rounds):7d} rounds  {best:.3f} s  incidents={len(a.incidents)} spans={len(a.spans)} blips={a.blips} avail={a.availability_pct:.4f}")
    # Streaming: rounds generated on the fly, peak memory of the whole pass.
    tracemalloc.start()
    t = time.perf_counter()
    a = analyse_target(
        iter_rounds("t", T0, 10, scenario("1% bad rounds (blips, outages, slow, gaps)")),
        period_start=T0, period_end=PERIOD_END, policy=policy,
    )
    elapsed = time.perf_counter() - t
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    print(f"generator input (rounds built on the fly, tracemalloc on): {elapsed:.3f} s, peak {peak / 1e6:.1f} MB "
          f"(pattern string 0.26 MB included), incidents={len(a.incidents)}")
    t = time.perf_counter()
    control_down_intervals(controls, policy)
    print(f"control_down_intervals {len(controls)} rounds: {time.perf_counter() - t:.3f} s")


if __name__ == "__main__":
    main()
