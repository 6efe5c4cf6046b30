"""Disk readings on real file systems: a tmpfs and a loop-mounted ext4 of the test's own.

Checked: the figures come, the byte budget holds (the process's own write
count, and the loop device's sectors with the journal), nothing is left or
written outside the scratch folder, and a full or unusable disk is a failed
reading, never an exception.
"""

from __future__ import annotations

import errno
import os
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from probes import host_disk as hd

MiB = 1 << 20
JOURNAL_SLACK = 1 * MiB  # ext4 journal commits and metadata of 20 fsyncs and one file


def _run(*cmd: str) -> str:
    return subprocess.run(cmd, check=True, capture_output=True, text=True).stdout.strip()


@contextmanager
def tmpfs(at: Path, size: str = "32m") -> Iterator[Path]:
    at.mkdir()
    _run("mount", "-t", "tmpfs", "-o", f"size={size},mode=0755", "tmpfs", str(at))
    try:
        yield at
    finally:
        _run("umount", str(at))


@contextmanager
def loop_ext4(tmp: Path, size_mb: int = 96) -> Iterator[tuple[Path, str]]:
    """A file system image of ``size_mb``, formatted ext4, on a loop device, mounted; (mount point, device name)."""
    img, mnt = tmp / "disk.img", tmp / "mnt"
    with img.open("wb") as f:
        f.truncate(size_mb * MiB)
    _run("mkfs.ext4", "-q", "-F", "-b", "4096", str(img))
    dev = _run("losetup", "-f", "--show", str(img))
    try:
        mnt.mkdir()
        _run("mount", dev, str(mnt))
        try:
            yield mnt, Path(dev).name
        finally:
            _run("umount", str(mnt))
    finally:
        _run("losetup", "-d", dev)
        img.unlink()


def _tree(root: Path) -> dict[str, int]:
    out = {}
    for dirpath, dirnames, filenames in os.walk(root):
        for n in dirnames + filenames:
            p = Path(dirpath) / n
            out[str(p.relative_to(root))] = p.lstat().st_size if p.is_file() else -1
    return out


def _process_write_bytes() -> int:
    for line in Path("/proc/self/io").read_text().splitlines():
        k, _, v = line.partition(": ")
        if k == "write_bytes":
            return int(v)
    raise AssertionError("no write_bytes in /proc/self/io")


def _device_bytes_written(dev: str) -> int:
    return int(Path(f"/sys/block/{dev}/stat").read_text().split()[6]) * 512


def _fill(path: Path) -> None:
    """Write until the file system is full (ENOSPC), in MiB and then in single blocks."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        for size in (MiB, 4096):
            try:
                for _ in range(1 << 20):  # bounded: a 4 GiB file system at most
                    os.write(fd, b"\0" * size)
            except OSError as e:
                assert e.errno == errno.ENOSPC
        os.fsync(fd)
    finally:
        os.close(fd)


@pytest.mark.root
def test_tmpfs_reading_and_full_tmpfs(tmp_path: Path) -> None:
    with tmpfs(tmp_path / "t") as root:
        scratch = root / "scratch"
        scratch.mkdir()
        before = _tree(root)
        r = hd.disk_reading(scratch, budget_bytes=8 * MiB, fsync_samples=10, min_free_bytes=0)
        assert r.errors == [] and r.fs_type == "tmpfs"
        assert r.fsync is not None and r.fsync.samples == 10 and 0 <= r.fsync.p50_ms <= r.fsync.p99_ms <= r.fsync.max_ms
        assert r.throughput is not None and r.throughput.bytes == 7 * MiB  # 8 MiB less the fsync blocks, in whole MiB
        assert r.throughput.write_mb_s > 0 and r.throughput.read_mb_s > 0
        assert r.bytes_written == 10 * hd.FSYNC_BLOCK + 7 * MiB <= 8 * MiB
        assert _tree(root) == before  # nothing left behind, nothing written elsewhere

        _fill(root / "filler")
        full = hd.disk_reading(scratch, budget_bytes=8 * MiB, min_free_bytes=0)
        assert full.fsync is None and full.throughput is None
        assert any(e.startswith("fsync: No space left on device (ENOSPC)") for e in full.errors), full.errors
        assert any(e.startswith("throughput: skipped") for e in full.errors), full.errors
        (root / "filler").unlink()
        assert _tree(root) == before


@pytest.mark.root
def test_loop_ext4_reading_keeps_its_byte_budget(tmp_path: Path) -> None:
    with loop_ext4(tmp_path) as (mnt, dev):
        scratch = mnt / "scratch"
        scratch.mkdir()
        (mnt / "keep.txt").write_text("the user's file\n")
        before = _tree(mnt)
        os.sync()
        proc0, dev0 = _process_write_bytes(), _device_bytes_written(dev)
        r = hd.disk_reading(scratch, budget_bytes=16 * MiB, min_free_bytes=0)
        os.sync()
        proc1, dev1 = _process_write_bytes(), _device_bytes_written(dev)
        assert r.errors == [] and r.fs_type == "ext4"
        assert r.throughput is not None and r.throughput.direct  # ext4 allows O_DIRECT
        assert r.fsync is not None and r.fsync.samples == hd.DEFAULT_FSYNC_SAMPLES
        assert proc1 - proc0 == r.bytes_written <= 16 * MiB
        assert dev1 - dev0 <= 16 * MiB + JOURNAL_SLACK, f"the device took {dev1 - dev0} bytes"
        assert _tree(mnt) == before and (mnt / "keep.txt").read_text() == "the user's file\n"

        # Not enough room to keep min_free_bytes: the throughput test is skipped, the fsync one still runs.
        free = hd.free_bytes(scratch)
        assert free is not None
        skipped = hd.disk_reading(scratch, budget_bytes=16 * MiB, min_free_bytes=free)
        assert skipped.fsync is not None and skipped.throughput is None
        assert skipped.errors and skipped.errors[0].startswith("throughput: skipped, ")


@pytest.mark.root
def test_full_loop_fs_is_a_failed_reading(tmp_path: Path) -> None:
    with loop_ext4(tmp_path, size_mb=32) as (mnt, _):
        scratch = mnt / "scratch"
        scratch.mkdir()
        _fill(mnt / "filler")
        r = hd.disk_reading(scratch, budget_bytes=8 * MiB, min_free_bytes=0)
        assert r.fsync is None and r.throughput is None and r.errors
        assert all(("ENOSPC" in e) or ("skipped" in e) for e in r.errors), r.errors
        assert not (scratch / hd.SCRATCH_DIRNAME).exists()


def test_scratch_refuses_what_it_did_not_make(tmp_path: Path) -> None:
    """A file as scratch path, or a planted symlink where the scratch folder goes: refused, nothing written."""
    f = tmp_path / "file"
    f.write_text("x")
    r = hd.disk_reading(f, budget_bytes=4 * MiB, min_free_bytes=0)
    assert r.errors == ["scratch: Not a directory (ENOTDIR)"] and r.fsync is None and r.bytes_written == 0

    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    root = tmp_path / "root"
    root.mkdir()
    (root / hd.SCRATCH_DIRNAME).symlink_to(elsewhere)
    r = hd.disk_reading(root, budget_bytes=4 * MiB, min_free_bytes=0)
    assert r.fsync is None and r.throughput is None and r.errors[0].startswith("scratch:")
    assert list(elsewhere.iterdir()) == [] and (root / hd.SCRATCH_DIRNAME).is_symlink()

    missing = hd.disk_reading(tmp_path / "missing", budget_bytes=4 * MiB, min_free_bytes=0)
    assert missing.errors == ["scratch: No such file or directory (ENOENT)"]
    assert not (tmp_path / "missing").exists()


def test_leftovers_of_a_killed_reading_are_cleaned_and_budget_zero_writes_nothing(tmp_path: Path) -> None:
    left = tmp_path / hd.SCRATCH_DIRNAME
    left.mkdir(mode=0o700)
    (left / "seq.tmp").write_bytes(b"x" * 1000)
    r = hd.disk_reading(tmp_path, budget_bytes=hd.FSYNC_BLOCK * 5 + MiB, fsync_samples=5, min_free_bytes=0)
    assert r.errors == [] and r.throughput is not None and r.throughput.bytes == MiB
    assert list(tmp_path.iterdir()) == []
    none = hd.disk_reading(tmp_path, budget_bytes=0, min_free_bytes=0)
    assert none.fsync is None and none.bytes_written == 0
    assert none.errors == ["throughput: skipped, the byte budget leaves less than 1 MiB"]
    assert list(tmp_path.iterdir()) == []


def test_nearest_rank() -> None:
    v = sorted(float(x) for x in range(1, 21))
    assert hd.nearest_rank(v, 50) == 10.0 and hd.nearest_rank(v, 99) == 20.0 and hd.nearest_rank([3.0], 99) == 3.0
