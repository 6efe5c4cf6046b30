"""What the process's control groups allow it: CPU quota, throttling, memory limit.

A container VPS (OpenVZ, LXC, a cgroup-limited slice) shows the host's
/proc/stat and /proc/meminfo, not what the tenant may use; the limits are in
the cgroup files. Both cgroup v1 (``cpu.cfs_quota_us`` / ``cpu.cfs_period_us``,
``memory.limit_in_bytes``) and v2 (``cpu.max``, ``memory.max``) are read. A
limit set on a parent applies to its children, so the tightest one on the way
up to the mount point is the one in force. Nothing here writes.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

V1_UNLIMITED = 1 << 62  # memory.limit_in_bytes above this means "no limit" (the kernel prints 2^63 − page)


@dataclass(frozen=True, slots=True)
class CgroupDirs:
    """The directories of the process's own cgroups: cpu and memory, v1 or v2 (None: not found)."""

    cpu: Path | None = None
    memory: Path | None = None
    cpu_root: Path | None = None  # the mount point: limits are looked up from the dir to here
    memory_root: Path | None = None
    version: int | None = None  # 1, 2, or None when neither controller was found


@dataclass(frozen=True, slots=True)
class CpuLimit:
    quota_cores: float | None  # None: no quota anywhere up the tree
    nr_periods: int | None  # counters of the process's own cgroup (they only grow)
    nr_throttled: int | None
    throttled_us: int | None


@dataclass(frozen=True, slots=True)
class MemoryLimit:
    limit_bytes: int | None  # None: no limit anywhere up the tree
    available_bytes: int | None  # the least headroom under any limit up the tree (limit − working set there)
    working_set_bytes: int | None  # usage less reclaimable page cache, at the level whose headroom is least


def _read(path: Path) -> str | None:
    try:
        return path.read_text().strip()
    except (OSError, UnicodeDecodeError):
        return None


def _int(text: str | None) -> int | None:
    try:
        return int(text) if text is not None else None
    except ValueError:
        return None


def _mounts(mountinfo: str) -> list[tuple[str, str, str, set[str]]]:
    """(root, mount point, fs type, super options) of every cgroup mount."""
    out = []
    for line in mountinfo.splitlines():
        left, sep, right = line.partition(" - ")
        if not sep:
            continue
        fields, rfields = left.split(), right.split()
        if len(fields) < 5 or len(rfields) < 3 or rfields[0] not in ("cgroup", "cgroup2"):
            continue
        out.append((fields[3], fields[4].replace("\\040", " "), rfields[0], set(rfields[2].split(","))))
    return out


def _join(mount_point: str, root: str, path: str) -> Path:
    """The cgroup ``path`` (as /proc/self/cgroup names it) under a mount of cgroup ``root``."""
    rel = path
    if root != "/" and (path == root or path.startswith(root.rstrip("/") + "/")):
        rel = path[len(root):]
    return Path(mount_point) / rel.lstrip("/")


def find_dirs(proc_cgroup: str, mountinfo: str) -> CgroupDirs:
    """The cpu and memory cgroup directories from /proc/self/cgroup and /proc/self/mountinfo text."""
    mounts = _mounts(mountinfo)
    v1: dict[str, tuple[Path, Path]] = {}
    v2: tuple[Path, Path] | None = None
    for line in proc_cgroup.splitlines():
        parts = line.split(":", 2)
        if len(parts) != 3:
            continue
        _, controllers, path = parts
        if controllers == "":
            for root, point, fstype, _ in mounts:
                if fstype == "cgroup2":
                    v2 = (_join(point, root, path), Path(point))
            continue
        for name in controllers.split(","):
            if name in ("cpu", "memory"):
                for root, point, fstype, opts in mounts:
                    if fstype == "cgroup" and name in opts:
                        v1[name] = (_join(point, root, path), Path(point))
    if v1:
        cpu, mem = v1.get("cpu"), v1.get("memory")
        return CgroupDirs(cpu[0] if cpu else None, mem[0] if mem else None,
                          cpu[1] if cpu else None, mem[1] if mem else None, 1)
    if v2 is not None:
        d, top = v2
        return CgroupDirs(d if (d / "cpu.max").exists() or (d / "cpu.stat").exists() else None,
                          d if (d / "memory.max").exists() or (d / "memory.current").exists() else None,
                          top, top, 2)
    return CgroupDirs()


def own_dirs() -> CgroupDirs:
    """This process's cgroup directories (empty where /proc is not Linux's)."""
    return find_dirs(_read(Path("/proc/self/cgroup")) or "", _read(Path("/proc/self/mountinfo")) or "")


def _up(d: Path, root: Path | None) -> list[Path]:
    """``d`` and its parents up to and including ``root``."""
    out = [d]
    if root is None:
        return out
    while d != root and root in d.parents:
        d = d.parent
        out.append(d)
    return out


def _quota_cores(d: Path, version: int) -> float | None:
    if version == 1:
        quota, period = _int(_read(d / "cpu.cfs_quota_us")), _int(_read(d / "cpu.cfs_period_us"))
        if quota is None or period is None or quota <= 0 or period <= 0:
            return None
        return quota / period
    text = _read(d / "cpu.max")
    if not text:
        return None
    q, _, p = text.partition(" ")
    quota, period = _int(q), _int(p)
    return quota / period if quota is not None and period else None


def _stat(path: Path) -> dict[str, int]:
    out: dict[str, int] = {}
    for line in (_read(path) or "").splitlines():
        k, _, v = line.partition(" ")
        n = _int(v.strip())
        if n is not None:
            out[k] = n
    return out


def cpu_limit(dirs: CgroupDirs) -> CpuLimit:
    """The tightest CPU quota up the tree, and the own cgroup's throttling counters."""
    if dirs.cpu is None or dirs.version is None:
        return CpuLimit(None, None, None, None)
    quotas = [q for q in (_quota_cores(d, dirs.version) for d in _up(dirs.cpu, dirs.cpu_root)) if q is not None]
    st = _stat(dirs.cpu / "cpu.stat")
    throttled_us = st.get("throttled_usec")
    if throttled_us is None and "throttled_time" in st:
        throttled_us = st["throttled_time"] // 1000  # v1 counts ns
    return CpuLimit(min(quotas) if quotas else None, st.get("nr_periods"), st.get("nr_throttled"), throttled_us)


def _memory_limit_of(d: Path, version: int) -> int | None:
    text = _read(d / ("memory.limit_in_bytes" if version == 1 else "memory.max"))
    n = _int(text)
    if n is None or n >= V1_UNLIMITED:
        return None  # "max", unreadable, or the v1 sentinel
    return n


def _working_set(d: Path, version: int) -> int | None:
    """Usage less the inactive page cache the kernel can take back (what `docker stats` shows)."""
    usage = _int(_read(d / ("memory.usage_in_bytes" if version == 1 else "memory.current")))
    if usage is None:
        return None
    st = _stat(d / "memory.stat")
    inactive = st.get("total_inactive_file", st.get("inactive_file", 0))
    return max(0, usage - inactive)


def memory_limit(dirs: CgroupDirs) -> MemoryLimit:
    """The tightest memory limit up the tree, and the least headroom under any of the limits.

    A limit on a parent is shared with the parent's other children: its headroom is the parent's
    limit less the parent's own working set, not the process's."""
    if dirs.memory is None or dirs.version is None:
        return MemoryLimit(None, None, None)
    limit: int | None = None
    best: tuple[int, int] | None = None  # (headroom, working set) at the tightest level
    for d in _up(dirs.memory, dirs.memory_root):
        lim = _memory_limit_of(d, dirs.version)
        if lim is None:
            continue
        limit = lim if limit is None else min(limit, lim)
        ws = _working_set(d, dirs.version)
        if ws is not None and (best is None or lim - ws < best[0]):
            best = (max(0, lim - ws), ws)
    return MemoryLimit(limit, best[0] if best else None, best[1] if best else None)
