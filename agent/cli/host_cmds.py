"""The options and start of `slaproof serve --host` (agent/serve/host.py; costs in docs/host.md)."""

from __future__ import annotations

import os
import stat
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from agent.core.errors import UsageError

if TYPE_CHECKING:
    from agent.serve.host import HostSampler

MB = 1_000_000


def host_options(f: Callable[..., Any]) -> Callable[..., Any]:
    opts = [
        click.option("--host", "host", is_flag=True, help="take readings of this machine (CPU steal and speed, disk, memory) "
                                                          "and serve them at /host, behind the same token"),
        click.option("--host-every", type=float, default=300.0, show_default=True, metavar="SECONDS",
                     help="a reading every this many seconds"),
        click.option("--host-scratch", type=click.Path(path_type=Path), default=Path("/var/tmp"), show_default=True,
                     help="an existing directory on the disk to test; the tests write only in a folder of their own in it"),
        click.option("--host-no-disk", is_flag=True, help="no disk tests"),
        click.option("--host-disk-budget-mb", type=float, default=64.0, show_default=True,
                     help="bytes one reading's disk tests may write, all together"),
        click.option("--host-throughput-every", type=int, default=12, show_default=True, metavar="N",
                     help="the sequential throughput test in every Nth reading (the fsync test is in every one)"),
        click.option("--host-min-free-mb", type=float, default=1024.0, show_default=True,
                     help="skip the throughput test when it would leave less than this free"),
        click.option("--host-cpu-window-s", type=float, default=0.5, show_default=True,
                     help="seconds the CPU speed workload is timed over (after a 0.1 s warm-up)"),
    ]
    for o in reversed(opts):
        f = o(f)
    return f


def _scratch(path: Path) -> Path:
    try:
        st = os.stat(path)
    except OSError as e:
        raise UsageError(f"--host-scratch {path}: {e.strerror}; give an existing directory on the disk to test "
                         "(or --host-no-disk)") from None
    if not stat.S_ISDIR(st.st_mode):
        raise UsageError(f"--host-scratch {path}: not a directory")
    if not os.access(path, os.W_OK | os.X_OK):
        raise UsageError(f"--host-scratch {path}: not writable by this user; give a directory it may write in")
    return path


def make_sampler(*, host: bool, host_every: float, host_scratch: Path, host_no_disk: bool, host_disk_budget_mb: float,
                 host_throughput_every: int, host_min_free_mb: float, host_cpu_window_s: float) -> HostSampler | None:
    """The started sampler for `--host`, or None without it; a bad value is a UsageError naming its option."""
    if not host:
        return None
    from agent.serve.host import MIN_EVERY_S, HostOptions, HostSampler

    checks = (("--host-every", host_every >= MIN_EVERY_S, f"at least {MIN_EVERY_S}"),
              ("--host-disk-budget-mb", 0 <= host_disk_budget_mb <= 100_000, "between 0 and 100000"),
              ("--host-throughput-every", host_throughput_every >= 1, "at least 1"),
              ("--host-min-free-mb", host_min_free_mb >= 0, "not negative"),
              ("--host-cpu-window-s", 0.05 <= host_cpu_window_s <= 10, "between 0.05 and 10"))
    for name, ok, want in checks:
        if not ok:
            raise UsageError(f"{name}: must be {want}")
    options = HostOptions(every_s=host_every, scratch=None if host_no_disk else _scratch(host_scratch),
                          disk_budget_bytes=int(host_disk_budget_mb * MB), throughput_every=host_throughput_every,
                          min_free_bytes=int(host_min_free_mb * MB), speed_window_s=host_cpu_window_s)
    return HostSampler(options).start()
