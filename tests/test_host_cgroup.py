"""The host responder inside a control group: a CPU quota and a memory limit show in its readings.

The responder runs as `slaproof serve --host` in a cgroup of the test's own
(v1 cpu + memory here; v2's cpu.max / memory.max where that is mounted). It
first runs without a quota, then with 0.3 of a core: its CPU speed figure
must fall to about 0.3 of what it was (within 15 %), the throttling must be
reported, and the memory limit must be what it reports as total memory.
"""

from __future__ import annotations

import asyncio
import statistics
import time
from pathlib import Path
from typing import Any

import pytest

from probes.host import HostProbeSettings, poll_host
from tests.support.cgroups import cgroup_version, limited_cgroup
from tests.support.host_responder import TOKEN, host_responder

QUOTA = 0.3
MEMORY_LIMIT = 256 << 20
READINGS_EACH = 4
DEADLINE_S = 60.0


def _collect(url: str, since: str | None, n: int, after_seq: int = 0) -> tuple[list[dict[str, Any]], str | None]:
    """Poll until ``n`` readings newer than ``after_seq`` arrived (bounded)."""
    settings = HostProbeSettings(url, TOKEN, timeout_s=5.0)
    got: list[dict[str, Any]] = []

    async def run() -> str | None:
        cursor = since
        deadline = time.monotonic() + DEADLINE_S
        while len(got) < n:
            if time.monotonic() > deadline:
                raise AssertionError(f"only {len(got)} of {n} readings in {DEADLINE_S} s")
            poll = await poll_host(settings, cursor)
            assert all(r.ok for r in poll.results), [r.error for r in poll.results]
            got.extend(r.figures["reading"] for r in poll.results if r.figures["reading"]["seq"] > after_seq)
            cursor = poll.since
            await asyncio.sleep(0.2)
        return cursor

    return got, asyncio.run(run())


@pytest.mark.root
@pytest.mark.slow
@pytest.mark.skipif(cgroup_version() is None, reason="no cgroup v1 cpu/memory hierarchy and no cgroup v2 tree mounted")
def test_quota_slows_the_speed_figure_and_is_reported(tmp_path: Path) -> None:
    with limited_cgroup() as cg:
        cg.set_cpu(None)
        cg.set_top_weight()  # the machine is shared: other tests' load must not stand in for the quota
        cg.set_memory(MEMORY_LIMIT)
        with host_responder(tmp_path, ["--host-every", "1", "--host-no-disk"], prefix=cg.shell_prefix()) as resp:
            free, cursor = _collect(resp.url, None, READINGS_EACH)
            switched_after = free[-1]["seq"]
            throttled0 = cg.nr_throttled()
            cg.set_cpu(QUOTA)
            # The reading under way at the switch is mixed: only those after it count.
            limited, _ = _collect(resp.url, cursor, READINGS_EACH, after_seq=switched_after + 1)
            assert cg.nr_throttled() > throttled0

    for r in free:
        assert r["cpu"]["quota_cores"] is None and r["errors"] == []
    unlimited = max(r["speed"]["units_per_s"] for r in free)  # the least disturbed by the machine's other load
    for r in limited:
        assert r["cpu"]["quota_cores"] == pytest.approx(QUOTA)
        assert r["speed"]["throttled_periods"] > 0, r["speed"]
        assert r["cpu"]["throttled_periods"] > 0 and r["cpu"]["throttled_s"] > 0, r["cpu"]
    ratio = statistics.median(r["speed"]["units_per_s"] for r in limited) / unlimited
    assert abs(ratio - QUOTA) <= 0.15 * QUOTA, f"speed under a {QUOTA} core quota is {ratio:.3f} of unlimited"
    # The core itself is as fast as before: the quota takes time away, it does not slow the unit.
    peak_ratio = max(r["speed"]["peak_units_per_s"] for r in limited) / max(r["speed"]["peak_units_per_s"] for r in free)
    assert peak_ratio > 0.6

    for r in free + limited:
        mem = r["memory"]
        assert mem["limit_bytes"] == MEMORY_LIMIT and mem["total_bytes"] == MEMORY_LIMIT
        assert 0 < mem["available_bytes"] < MEMORY_LIMIT < mem["host_total_bytes"]
