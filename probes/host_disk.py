"""Disk readings on the rented machine: fsync latency of a small write, sequential throughput.

Everything is written inside one directory that this module makes under the
scratch path it is given (``<scratch>/.slaproof-host``, mode 0700), through
files opened with O_EXCL and O_NOFOLLOW, and removed again before the reading
returns, whatever happened. Nothing else on the machine is touched.

- fsync latency: ``samples`` times, 4 KiB written over the same block of one
  file and ``fsync``'d; the time of write + fsync, p50 and p99 (nearest rank:
  with fewer than 100 samples p99 is the slowest one).
- throughput: one file written sequentially in 1 MiB blocks up to the byte
  budget, fsync'd, then read back; direct I/O (O_DIRECT, past the page cache)
  where the file system allows it, else buffered, with the written pages
  dropped from the cache before the read (``direct`` says which).

The byte budget covers both tests: the fsync samples first, the throughput
file gets what is left, in whole MiB. The throughput test is skipped (with
the reason) when the file system would keep less than ``min_free_bytes``
free, so a reading never fills a disk. A failing test (a full disk, a
read-only file system) is recorded as that part's error: it never raises.
"""

from __future__ import annotations

import errno
import math
import mmap
import os
import stat
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import psutil

SCRATCH_DIRNAME = ".slaproof-host"
FSYNC_BLOCK = 4096
CHUNK = 1 << 20
DEFAULT_FSYNC_SAMPLES = 20
DEFAULT_BUDGET_BYTES = 64 << 20
DEFAULT_MIN_FREE_BYTES = 1 << 30
_OPEN_NEW = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC


@dataclass(frozen=True, slots=True)
class FsyncLatency:
    samples: int
    p50_ms: float
    p99_ms: float
    max_ms: float


@dataclass(frozen=True, slots=True)
class Throughput:
    bytes: int
    write_mb_s: float  # MB = 10^6 bytes; the write time includes the final fsync
    read_mb_s: float
    direct: bool  # O_DIRECT: the page cache was bypassed both ways


@dataclass(frozen=True, slots=True)
class DiskReading:
    path: str  # the scratch path given
    fs_type: str | None
    free_bytes: int | None
    fsync: FsyncLatency | None
    throughput: Throughput | None
    bytes_written: int  # by this reading's tests, all together
    errors: list[str] = field(default_factory=list)  # "part: what went wrong"; a part with an error has no figures


def nearest_rank(sorted_values: list[float], q: float) -> float:
    return sorted_values[max(0, math.ceil(q / 100 * len(sorted_values)) - 1)]


def describe_os_error(part: str, e: OSError) -> str:
    """``part: message (ENAME)``, without the path (the reading names its scratch path once)."""
    name = errno.errorcode.get(e.errno or 0, "")
    text = os.strerror(e.errno) if e.errno else str(e)
    return f"{part}: {text}" + (f" ({name})" if name else "")


def fs_type_of(path: Path) -> str | None:
    """The type of the file system holding ``path`` (longest mount point that contains it)."""
    try:
        real = str(path.resolve())
        best = None
        for p in psutil.disk_partitions(all=True):
            mp = p.mountpoint.rstrip("/") or "/"
            if (real == mp or real.startswith(mp.rstrip("/") + "/")) and (best is None or len(mp) > len(best[0])):
                best = (mp, p.fstype)
        return best[1] if best else None
    except (OSError, RuntimeError):
        return None


def free_bytes(path: Path) -> int | None:
    try:
        st = os.statvfs(path)
    except OSError:
        return None
    return st.f_bavail * st.f_frsize


class Scratch:
    """The one directory the disk tests write in; made on entry, emptied and removed on exit."""

    NAMES = ("fsync.tmp", "seq.tmp")

    def __init__(self, root: Path) -> None:
        self.root = root
        self.dir = root / SCRATCH_DIRNAME

    def __enter__(self) -> Scratch:
        st = os.stat(self.root)  # the scratch path itself must exist: it is never created here
        if not stat.S_ISDIR(st.st_mode):
            raise NotADirectoryError(errno.ENOTDIR, "scratch path is not a directory")
        try:
            os.mkdir(self.dir, 0o700)
        except FileExistsError:
            own = os.lstat(self.dir)
            if not stat.S_ISDIR(own.st_mode) or own.st_uid != os.geteuid():
                raise FileExistsError(errno.EEXIST, f"{SCRATCH_DIRNAME} exists and is not this user's directory") from None
        self._clean()  # left by a process killed mid-test
        return self

    def path(self, name: str) -> Path:
        if name not in self.NAMES:
            raise ValueError(f"not a scratch file name: {name}")
        return self.dir / name

    def _clean(self) -> None:
        for name in self.NAMES:
            try:
                os.unlink(self.dir / name)
            except FileNotFoundError:
                pass

    def __exit__(self, *exc: object) -> None:
        self._clean()
        try:
            os.rmdir(self.dir)
        except OSError:
            pass  # not empty (someone else's file): left as it is, never deleted


def fsync_latency(scratch: Scratch, samples: int, *, clock: Callable[[], float] = time.perf_counter) -> FsyncLatency:
    """``samples`` × (4 KiB over the same block, then fsync)."""
    block = os.urandom(FSYNC_BLOCK)
    times: list[float] = []
    fd = os.open(scratch.path("fsync.tmp"), _OPEN_NEW, 0o600)
    try:
        for _ in range(samples):
            t0 = clock()
            if os.pwrite(fd, block, 0) != FSYNC_BLOCK:
                raise OSError(errno.EIO, "short write")
            os.fsync(fd)
            times.append((clock() - t0) * 1000)
    finally:
        os.close(fd)
        os.unlink(scratch.path("fsync.tmp"))
    times.sort()
    return FsyncLatency(samples, round(nearest_rank(times, 50), 4), round(nearest_rank(times, 99), 4), round(times[-1], 4))


def _open_direct(path: Path, flags: int, direct: bool) -> tuple[int, bool]:
    """Open with O_DIRECT when asked and allowed; (fd, whether O_DIRECT is on)."""
    o_direct = getattr(os, "O_DIRECT", 0)
    if direct and o_direct:
        try:
            return os.open(path, flags | o_direct, 0o600), True
        except OSError as e:
            if e.errno != errno.EINVAL:  # EINVAL: the file system has no direct I/O (tmpfs)
                raise
            if flags & os.O_CREAT:
                try:
                    os.unlink(path)  # some file systems create the file before refusing the flag
                except FileNotFoundError:
                    pass
    return os.open(path, flags, 0o600), False


def throughput(scratch: Scratch, nbytes: int, *, direct: bool = True, clock: Callable[[], float] = time.perf_counter) -> Throughput:
    """Write ``nbytes`` (a whole number of MiB) sequentially, fsync, read them back."""
    if nbytes <= 0 or nbytes % CHUNK:
        raise ValueError("throughput bytes must be a positive whole number of MiB")
    path = scratch.path("seq.tmp")
    buf = mmap.mmap(-1, CHUNK)  # page-aligned, as O_DIRECT needs
    try:
        buf.write(os.urandom(CHUNK))  # incompressible: a compressing file system cannot inflate the figure
        fd, is_direct = _open_direct(path, _OPEN_NEW, direct)
        try:
            t0 = clock()
            left = nbytes
            while left:
                n = os.write(fd, buf)
                if n <= 0:
                    raise OSError(errno.EIO, "short write")
                left -= n
            os.fsync(fd)
            write_s = clock() - t0
            if not is_direct:
                os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
        finally:
            os.close(fd)
        fd, read_direct = _open_direct(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC, is_direct)
        try:
            t0 = clock()
            got = 0
            while got < nbytes:
                n = os.readv(fd, [buf])
                if n <= 0:
                    break
                got += n
            read_s = clock() - t0
        finally:
            os.close(fd)
        if got != nbytes:
            raise OSError(errno.EIO, f"read back {got} of {nbytes} bytes")
    finally:
        buf.close()
        try:
            os.unlink(path)
        except FileNotFoundError:
            pass
    return Throughput(nbytes, round(nbytes / 1e6 / max(write_s, 1e-9), 3), round(nbytes / 1e6 / max(read_s, 1e-9), 3),
                      is_direct and read_direct)


def disk_reading(root: Path, *, budget_bytes: int = DEFAULT_BUDGET_BYTES, fsync_samples: int = DEFAULT_FSYNC_SAMPLES,
                 with_throughput: bool = True, min_free_bytes: int = DEFAULT_MIN_FREE_BYTES,
                 direct: bool = True) -> DiskReading:
    """The fsync and (when asked) throughput tests under ``root``; errors become the reading's errors."""
    errors: list[str] = []
    written = 0
    fs, free = fs_type_of(root), free_bytes(root)
    lat: FsyncLatency | None = None
    seq: Throughput | None = None
    samples = min(fsync_samples, budget_bytes // FSYNC_BLOCK)
    try:
        with Scratch(root) as scratch:
            if samples > 0:
                try:
                    lat = fsync_latency(scratch, samples)
                except OSError as e:
                    errors.append(describe_os_error("fsync", e))
                written += samples * FSYNC_BLOCK
            if with_throughput:
                seq_bytes = (budget_bytes - written) // CHUNK * CHUNK
                room = free_bytes(root)
                if seq_bytes <= 0:
                    errors.append("throughput: skipped, the byte budget leaves less than 1 MiB")
                elif room is not None and room - seq_bytes < min_free_bytes:
                    errors.append(f"throughput: skipped, {room / 1e6:.0f} MB free is less than the test's {seq_bytes / 1e6:.0f} MB "
                                  f"and the {min_free_bytes / 1e6:.0f} MB kept free")
                else:
                    try:
                        seq = throughput(scratch, seq_bytes, direct=direct)
                    except OSError as e:
                        errors.append(describe_os_error("throughput", e))
                    written += seq_bytes
    except OSError as e:
        errors.append(describe_os_error("scratch", e))
    return DiskReading(str(root), fs, free, lat, seq, written, errors)
