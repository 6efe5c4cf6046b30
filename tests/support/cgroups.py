"""A control group of the test's own, with a CPU quota and a memory limit (root only).

Why real cgroups: the host readings must show what a container VPS's limits do
to a process (a slower CPU figure, throttling, less memory), and only the
kernel's scheduler and accounting can say that. cgroup v1 (the ``cpu`` and
``memory`` hierarchies under /sys/fs/cgroup) and v2 (``cpu.max``,
``memory.max`` in the unified tree) are both handled. The group is removed on
exit after its processes have ended.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from tests.support.wait import wait_until

V1 = Path("/sys/fs/cgroup")
PERIOD_US = 100_000


def cgroup_version() -> int | None:
    if (V1 / "cpu" / "cpu.cfs_quota_us").exists() and (V1 / "memory" / "memory.limit_in_bytes").exists():
        return 1
    if (V1 / "cgroup.controllers").exists():
        return 2
    return None


@dataclass
class LimitedCgroup:
    version: int
    dirs: list[Path]  # v1: [cpu dir, memory dir]; v2: [the one dir]

    def set_cpu(self, cores: float | None) -> None:
        """A quota of ``cores`` (None: none) over a 100 ms period."""
        if self.version == 1:
            (self.dirs[0] / "cpu.cfs_period_us").write_text(str(PERIOD_US))
            (self.dirs[0] / "cpu.cfs_quota_us").write_text(str(-1 if cores is None else int(cores * PERIOD_US)))
        else:
            (self.dirs[0] / "cpu.max").write_text(f"{'max' if cores is None else int(cores * PERIOD_US)} {PERIOD_US}")

    def set_top_weight(self) -> None:
        """The largest CPU weight, so other load on the machine hardly delays the group (only its quota does)."""
        if self.version == 1:
            (self.dirs[0] / "cpu.shares").write_text("262144")
        else:
            (self.dirs[0] / "cpu.weight").write_text("10000")

    def set_memory(self, limit: int) -> None:
        name = "memory.limit_in_bytes" if self.version == 1 else "memory.max"
        (self.dirs[-1] / name).write_text(str(limit))

    def shell_prefix(self) -> str:
        """A shell line that moves the shell (and so what it execs) into the group."""
        return "; ".join(f"echo $$ > {d / 'cgroup.procs'}" for d in self.dirs)

    def nr_throttled(self) -> int:
        for line in (self.dirs[0] / "cpu.stat").read_text().splitlines():
            k, _, v = line.partition(" ")
            if k == "nr_throttled":
                return int(v)
        raise AssertionError("cpu.stat has no nr_throttled")


@contextmanager
def limited_cgroup() -> Iterator[LimitedCgroup]:
    version = cgroup_version()
    if version is None:
        raise RuntimeError("no cgroup v1 cpu/memory hierarchy and no cgroup v2 tree mounted")
    name = f"slaproof-test-{uuid.uuid4().hex[:8]}"
    if version == 1:
        dirs = [V1 / "cpu" / name, V1 / "memory" / name]
    else:
        (V1 / "cgroup.subtree_control").write_text("+cpu +memory")
        dirs = [V1 / name]
    for d in dirs:
        d.mkdir()
    try:
        yield LimitedCgroup(version, dirs)
    finally:
        for d in dirs:
            # The test ends its processes first; an exiting process leaves the group a moment later.
            wait_until(lambda d=d: not (d / "cgroup.procs").read_text().strip(), f"{d} empty", timeout_s=10)
            os.rmdir(d)
