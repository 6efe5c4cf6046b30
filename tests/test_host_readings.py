"""Host readings' measuring code: cgroup files, CPU shares, the speed workload, memory."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from probes import host_readings as hr
from probes.host_cgroup import CgroupDirs, cpu_limit, find_dirs, memory_limit, own_dirs

MOUNTINFO_V1 = """\
31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755
32 31 0:29 / /sys/fs/cgroup/cpu,cpuacct rw,relatime - cgroup cgroup rw,cpu,cpuacct
35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory
41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw
"""
CGROUP_V1 = "9:name=systemd:/\n4:memory:/vps/web\n2:cpu,cpuacct:/vps\n0::/\n"
MOUNTINFO_V2 = "29 23 0:26 / /sys/fs/cgroup rw,nosuid - cgroup2 cgroup2 rw,nsdelegate\n"
MOUNTINFO_NS = "29 23 0:26 /lxc/vps1 /sys/fs/cgroup rw - cgroup cgroup rw,memory\n"


def test_find_dirs_v1_joins_each_controller_mount() -> None:
    d = find_dirs(CGROUP_V1, MOUNTINFO_V1)
    assert d.version == 1
    assert d.cpu == Path("/sys/fs/cgroup/cpu,cpuacct/vps") and d.cpu_root == Path("/sys/fs/cgroup/cpu,cpuacct")
    assert d.memory == Path("/sys/fs/cgroup/memory/vps/web") and d.memory_root == Path("/sys/fs/cgroup/memory")


def test_find_dirs_mount_of_a_subtree_and_nothing_found() -> None:
    # A container sees its own cgroup mounted at the top: the path under the mount's root.
    assert find_dirs("4:memory:/lxc/vps1/app\n", MOUNTINFO_NS).memory == Path("/sys/fs/cgroup/app")
    assert find_dirs("", "") == CgroupDirs()
    assert find_dirs("0::/x\n", "") == CgroupDirs()  # v2 named but not mounted


def _write(d: Path, files: dict[str, str]) -> None:
    d.mkdir(parents=True, exist_ok=True)
    for k, v in files.items():
        (d / k).write_text(v + "\n")


def test_v1_files_tightest_quota_up_the_tree_and_headroom_of_the_parent(tmp_path: Path) -> None:
    cpu_root, mem_root = tmp_path / "cpu", tmp_path / "memory"
    _write(cpu_root, {"cpu.cfs_quota_us": "-1", "cpu.cfs_period_us": "100000"})
    _write(cpu_root / "vps", {"cpu.cfs_quota_us": "150000", "cpu.cfs_period_us": "100000"})
    _write(cpu_root / "vps" / "web", {"cpu.cfs_quota_us": "-1", "cpu.cfs_period_us": "100000",
                                      "cpu.stat": "nr_periods 40\nnr_throttled 7\nthrottled_time 2500000000"})
    _write(mem_root, {"memory.limit_in_bytes": "9223372036854771712", "memory.usage_in_bytes": "1"})
    # The parent's limit is shared with a sibling: its own working set decides the headroom.
    _write(mem_root / "vps", {"memory.limit_in_bytes": str(1 << 30), "memory.usage_in_bytes": str(900 << 20),
                              "memory.stat": f"total_inactive_file {100 << 20}"})
    _write(mem_root / "vps" / "web", {"memory.limit_in_bytes": str(2 << 30), "memory.usage_in_bytes": str(50 << 20),
                                      "memory.stat": "total_inactive_file 0"})
    dirs = CgroupDirs(cpu_root / "vps" / "web", mem_root / "vps" / "web", cpu_root, mem_root, 1)
    cpu = cpu_limit(dirs)
    assert cpu.quota_cores == 1.5 and (cpu.nr_periods, cpu.nr_throttled, cpu.throttled_us) == (40, 7, 2_500_000)
    mem = memory_limit(dirs)
    assert mem.limit_bytes == 1 << 30
    assert mem.available_bytes == (1 << 30) - (800 << 20) and mem.working_set_bytes == 800 << 20


def test_v2_files(tmp_path: Path) -> None:
    d = tmp_path / "vps"
    _write(tmp_path, {"cpu.max": "max 100000", "memory.max": "max"})
    _write(d, {"cpu.max": "50000 100000", "cpu.stat": "usage_usec 1\nnr_periods 9\nnr_throttled 3\nthrottled_usec 1234",
               "memory.max": str(512 << 20), "memory.current": str(100 << 20), "memory.stat": f"inactive_file {20 << 20}"})
    dirs = CgroupDirs(d, d, tmp_path, tmp_path, 2)
    assert cpu_limit(dirs) == type(cpu_limit(dirs))(0.5, 9, 3, 1234)
    mem = memory_limit(dirs)
    assert mem.limit_bytes == 512 << 20 and mem.available_bytes == (512 - 80) << 20


def test_unreadable_or_absent_files_are_unknown_not_errors(tmp_path: Path) -> None:
    d = tmp_path / "gone"
    dirs = CgroupDirs(d, d, tmp_path, tmp_path, 1)
    assert cpu_limit(dirs).quota_cores is None and cpu_limit(dirs).nr_throttled is None
    assert memory_limit(dirs).limit_bytes is None
    assert own_dirs().version in (1, 2, None)


def _times(**kw: float) -> hr.CpuTimes:
    base = {"user": 0.0, "nice": 0.0, "system": 0.0, "idle": 0.0, "iowait": 0.0, "irq": 0.0, "softirq": 0.0, "steal": 0.0}
    return hr.CpuTimes(**(base | kw))


def test_cpu_shares_of_an_interval() -> None:
    a = _times(user=100, idle=100, steal=10)
    b = _times(user=130, system=10, idle=140, iowait=5, steal=25)  # 100 s of CPU time passed
    s = hr.cpu_shares(a, b, 50.0)
    assert s is not None
    assert (s.busy_pct, s.steal_pct, s.iowait_pct, s.idle_pct) == (40.0, 15.0, 5.0, 40.0)
    assert hr.cpu_shares(b, a, 50.0) is None  # counters went back: a reboot, no interval
    assert hr.cpu_shares(a, a, 50.0) is None


@given(st.lists(st.floats(0, 1e6), min_size=8, max_size=8), st.lists(st.floats(0, 1e4), min_size=8, max_size=8))
def test_cpu_shares_add_up_to_100(start: list[float], more: list[float]) -> None:
    a = hr.CpuTimes(*start)
    b = hr.CpuTimes(*(x + d for x, d in zip(start, more)))
    s = hr.cpu_shares(a, b, 1.0)
    if s is None:
        assert sum(max(0.0, d) for d in (b.steal - a.steal, b.iowait - a.iowait, b.busy - a.busy, b.idle - a.idle)) <= 0
        return
    assert all(0 <= v <= 100 for v in (s.busy_pct, s.steal_pct, s.iowait_pct, s.idle_pct))
    assert abs(s.busy_pct + s.steal_pct + s.iowait_pct + s.idle_pct - 100) < 0.01


def test_vcpus_online_list(tmp_path: Path) -> None:
    f = tmp_path / "online"
    f.write_text("0-3,6,8-9\n")
    assert hr.vcpus_online(str(f)) == 7
    assert hr.vcpus_online(str(tmp_path / "missing")) >= 1
    assert 1 <= hr.vcpus_usable() <= hr.vcpus_online()


def test_speed_figure_is_units_per_second_after_the_warm_up() -> None:
    """Units of 20 ms during the warm-up (an idle quota's free start is not counted), then of 5 ms."""
    seq, t = [0.0], 0.0
    for k in range(2000):
        d = 0.02 if k < 4 else 0.005
        seq += [t, t + d]  # the clock read before and after each unit
        t += d
    ticks = iter(seq)
    s = hr.cpu_speed(0.5, 0.07, clock=lambda: next(ticks), unit=lambda: None)
    assert s.units_per_s == pytest.approx(200, rel=1e-6) and s.units == 100
    assert s.peak_units_per_s == pytest.approx(200, rel=1e-6) and s.unit_ms_p50 == pytest.approx(5.0)
    assert s.window_s == pytest.approx(0.5)
    assert s.workload == hr.workload_id()


def test_workload_is_the_same_bytes_every_time() -> None:
    assert len(hr.workload_input()) == hr.WORKLOAD_INPUT_BYTES
    assert hr.workload_id() == "zlib6-256k-720383a885a53e68"  # a changed workload must change the id baselines compare by
    hr.workload_unit()


def test_real_speed_and_memory_readings() -> None:
    s = hr.cpu_speed(0.1, 0.02)
    assert s.units >= 1 and s.units_per_s > 0 and s.peak_units_per_s >= s.units_per_s * 0.5
    assert s.thread_cpu_s > 0
    m = hr.memory()
    assert 0 < m.available_bytes <= m.total_bytes <= m.host_total_bytes
