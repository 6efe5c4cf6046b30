"""Fault harness: the real agent as a subprocess, killed or stopped at chosen moments, and a
TCP listener whose own accept log is the ground truth for what the agent measured.

Used by tests/test_faults.py (a few iterations) and bench/faults.py (100, printing figures).
Everything listens on 127.0.0.1; every wait is bounded.
"""

from __future__ import annotations

import os
import random
import selectors
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tests.conftest import make_config
from tests.support.wait import wait_until  # noqa: F401  (re-exported for the fault tests and bench)

EXE = [sys.executable, "-m", "agent.cli"]
ROOT = Path(__file__).resolve().parents[2]
READY_TIMEOUT_S = 60.0
FINISH_MARGIN_US = 50_000  # the requirement: rounds finished more than 50 ms before the kill are kept


class AcceptLog:
    """Listening sockets on 127.0.0.1 (one per target); one thread accepts, notes (port, time) and closes."""

    def __init__(self, n: int) -> None:
        self.socks = []
        for _ in range(n):
            s = socket.socket()
            s.bind(("127.0.0.1", 0))
            s.listen(256)
            s.setblocking(False)
            self.socks.append(s)
        self.ports = [s.getsockname()[1] for s in self.socks]
        self.accepts: list[tuple[int, int]] = []  # (port, time µs)
        self._stop = threading.Event()
        self._sel = selectors.DefaultSelector()
        for s in self.socks:
            self._sel.register(s, selectors.EVENT_READ)
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            for key, _ in self._sel.select(0.1):
                lsock: Any = key.fileobj
                while True:
                    try:
                        c, _ = lsock.accept()
                    except BlockingIOError:
                        break
                    self.accepts.append((lsock.getsockname()[1], time.time_ns() // 1000))
                    c.close()

    def close(self) -> None:
        self._stop.set()
        self._thread.join(5)
        self._sel.close()
        for s in self.socks:
            s.close()


class Notify:
    """A NOTIFY_SOCKET for the agent: READY=1 tells us it is measuring, without polling."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(str(path))
        self.messages: list[str] = []

    def wait_for(self, word: str, timeout: float = READY_TIMEOUT_S) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self.sock.settimeout(max(0.01, deadline - time.monotonic()))
            try:
                msg = self.sock.recv(4096).decode()
            except TimeoutError:
                break
            self.messages.append(msg)
            if word in msg.split("\n"):
                return True
        return False

    def close(self) -> None:
        self.sock.close()
        self.path.unlink(missing_ok=True)


def fault_config(work: Path, ports: list[int], *, interval_s: float = 1.0, icmp: bool = False, **agent: Any) -> Path:
    targets = []
    for i, port in enumerate(ports):
        checks: list[dict[str, Any]] = [{"kind": "tcp", "port": port, "timeout_s": 2.0}]
        if icmp:
            checks.insert(0, {"kind": "icmp", "count": 1, "timeout_s": 1.0})
        targets.append({"name": f"t{i:03d}", "address": "127.0.0.1", "interval_s": interval_s, "checks": checks})
    agent.setdefault("batch_s", 1.0)
    agent.setdefault("heartbeat_s", 10)
    agent.setdefault("evidence_on_incident", False)
    agent.setdefault("log_level", "WARNING")
    return make_config(work / "config.toml", targets, **agent)


@dataclass
class Agent:
    proc: subprocess.Popen[bytes]
    notify: Notify
    log: Path

    def stderr(self) -> str:
        return self.log.read_text(errors="replace")


@contextmanager
def agent_process(cfg: Path, work: Path, *args: str, env: dict[str, str] | None = None, code: Path = ROOT) -> Iterator[Agent]:
    """`slaproof run` (of the checkout at ``code``) with a notify socket and its output in a file;
    killed if still running at the end."""
    stamp = time.monotonic_ns()
    note = Notify(work / f"notify-{stamp}.sock")
    log = work / f"agent-{stamp}.log"
    full_env = {**os.environ, "NOTIFY_SOCKET": str(note.path), "PYTHONPATH": str(code), **(env or {})}
    with log.open("wb") as out:
        proc = subprocess.Popen([*EXE, "run", "-c", str(cfg), *args], stdout=out, stderr=subprocess.STDOUT, env=full_env, cwd=code)
    try:
        yield Agent(proc, note, log)
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait(30)
        note.close()


@dataclass
class KillLoopResult:
    iterations: int
    accepts: int = 0
    checked: int = 0  # accepts more than 50 ms before their run's kill
    lost: int = 0  # of those, without a row
    in_window: int = 0  # accepts within 50 ms of a kill (not required)
    rows: int = 0
    duplicates: int = 0
    false_down: int = 0
    integrity: str = ""
    chain_ok: bool = False
    runs_recorded: bool = False
    ready_failures: int = 0
    run_lines: list[str] = field(default_factory=list)
    replay_stderr: str = ""
    final_exit: int | None = None
    runs_short: int = 0  # killed runs whose recorded end is before their last row
    kills: list[tuple[int, int]] = field(default_factory=list)
    lost_by_run: dict[int, int] = field(default_factory=dict)  # run index (-1: the final clean run) → rows lost


def kill_loop(work: Path, *, iterations: int, targets: int = 50, interval_s: float = 2.0, icmp: bool = False,
              seed: int = 1, kill_after: tuple[float, float] = (0.05, 3.0), code: Path = ROOT,
              margin_us: int = FINISH_MARGIN_US) -> KillLoopResult:
    """Start the agent, kill -9 it at a random moment after READY; repeat; then a clean run files the journal.

    Returns the figures; the caller asserts on them."""
    rng = random.Random(seed)
    res = KillLoopResult(iterations)
    log = AcceptLog(targets)
    kills: list[tuple[int, int]] = []  # (start µs, kill µs) per run
    try:
        cfg = fault_config(work, log.ports, interval_s=interval_s, icmp=icmp)
        for i in range(iterations):
            with agent_process(cfg, work, code=code) as agent:
                start_us = time.time_ns() // 1000
                if i % 5 == 4:  # now and then from the spawn: during start-up and the journal's replay too
                    threading.Event().wait(rng.uniform(0.0, 1.5))
                elif not agent.notify.wait_for("READY=1"):
                    res.ready_failures += 1
                    continue
                else:
                    threading.Event().wait(rng.uniform(*kill_after))  # the random moment (the experiment's input)
                kill_us = time.time_ns() // 1000
                agent.proc.send_signal(signal.SIGKILL)
                agent.proc.wait(30)
                kills.append((start_us, kill_us))
        with agent_process(cfg, work, "--duration", "1", code=code) as agent:
            agent.proc.wait(120)
            res.replay_stderr = agent.stderr()
            res.final_exit = agent.proc.returncode
    finally:
        log.close()
    accepts = list(log.accepts)
    _check(cfg.parent / "state" / "slaproof.db", log.ports, accepts, kills, res, margin_us)
    res.kills = kills
    return res


def _check(db: Path, ports: list[int], accepts: list[tuple[int, int]], kills: list[tuple[int, int]], res: KillLoopResult,
           margin_us: int) -> None:
    """An accept stands for a round that ended a moment later (the TCP check closes and returns):
    every accept more than ``margin_us`` before its run's kill must have its row."""
    name_of = {p: f"t{i:03d}" for i, p in enumerate(ports)}
    with closing(sqlite3.connect(db)) as c:
        res.integrity = c.execute("PRAGMA integrity_check").fetchone()[0]
        rows = c.execute("SELECT t.name, m.ts_us, m.ok FROM measurements m JOIN checks k ON k.id = m.check_id "
                         "JOIN targets t ON t.id = k.target_id WHERE k.kind = 'tcp'").fetchall()
        res.duplicates = c.execute("SELECT count(*) - count(DISTINCT check_id || ':' || ts_us) FROM measurements").fetchone()[0]
        runs = c.execute("SELECT started_us, ended_us, stop FROM runs ORDER BY id").fetchall()
    res.rows = len(rows)
    res.false_down = sum(1 for _, _, ok in rows if not ok)
    by_target: dict[str, list[int]] = {}
    for name, ts, _ in rows:
        by_target.setdefault(name, []).append(ts)
    for v in by_target.values():
        v.sort()
    all_ts = sorted(ts for v in by_target.values() for ts in v)  # before matching removes them
    res.accepts = len(accepts)
    for port, t in accepts:
        kill = next((k for s, k in kills if s <= t <= k), None)
        if kill is not None and t > kill - margin_us:
            res.in_window += 1
            continue
        res.checked += 1
        # The row's time is the check's start, a little before the accept.
        if not _take(by_target.get(name_of[port], []), t - 2_000_000, t):
            res.lost += 1
            run = next((i for i, (s, k) in enumerate(kills) if s <= t <= k), -1)
            res.lost_by_run[run] = res.lost_by_run.get(run, 0) + 1
    p = subprocess.run([*EXE, "verify", "-c", str(db.parent.parent / "config.toml")], capture_output=True, text=True, timeout=300, cwd=ROOT)
    res.chain_ok = p.returncode == 0 and "chain intact" in p.stdout
    res.run_lines = [f"{s} {e} {stop}" for s, e, stop in runs]
    # Every killed run: unclean, started when it started, ended no earlier than its last row.
    # (A kill before the run row was written leaves no run: so at most one per kill.)
    ok = len(runs) <= len(kills) + 1 and runs[-1][2] == "clean"
    starts = [r[0] for r in runs] + [2**62]
    res.runs_short = 0
    for i, (s, e, stop) in enumerate(runs[:-1]):
        mine = [ts for ts in all_ts if s <= ts < starts[i + 1]]
        good = stop == "unclean" and e is not None and (not mine or e >= max(mine))
        res.runs_short += not good
        ok = ok and good
    res.runs_recorded = ok


def _take(times: list[int], lo: int, hi: int) -> bool:
    """Remove and confirm one row time in [lo, hi] (each row answers for one accept)."""
    import bisect

    i = bisect.bisect_left(times, lo)
    if i < len(times) and times[i] <= hi:
        del times[i]
        return True
    return False


@contextmanager
def small_tmpfs(path: Path, size: str = "8m") -> Iterator[Path]:
    """A tmpfs of ``size`` at ``path`` (root): a disk that fills, or turns read-only, on demand."""
    path.mkdir(parents=True, exist_ok=True)
    subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(path)], check=True, timeout=30)
    try:
        yield path
    finally:
        subprocess.run(["umount", "-l", str(path)], check=False, timeout=30)


def fill(path: Path) -> Path:
    """Write a file until the file system is full; returns it (delete it to free the space)."""
    filler = path / "filler"
    block = b"\0" * (64 << 10)
    with filler.open("wb", buffering=0) as f:
        try:
            while True:
                f.write(block)
        except OSError:
            pass
    small = path / "filler-small"  # the last partial block too
    with small.open("wb", buffering=0) as f:
        try:
            while True:
                f.write(b"\0" * 512)
        except OSError:
            pass
    return filler


class Ext4Disk:
    """A small ext4 file system on a loop device (root), mounted with errors=remount-ro.

    ``make_read_only`` makes the kernel turn it read-only at once, open files and all, as it does
    after an I/O error (a plain ``mount -o remount,ro`` is refused while files are open for
    writing). ``repair`` unmounts, checks and mounts it writable again."""

    def __init__(self, image: Path, mount: Path) -> None:
        self.image, self.mount = image, mount

    def _mount(self) -> None:
        subprocess.run(["mount", "-o", "loop,errors=remount-ro", str(self.image), str(self.mount)], check=True, timeout=60)

    def make_read_only(self) -> None:
        dev = subprocess.run(["findmnt", "-n", "-o", "SOURCE", str(self.mount)], capture_output=True, text=True,
                             check=True, timeout=30).stdout.strip()
        Path(f"/sys/fs/ext4/{Path(dev).name}/trigger_fs_error").write_text("1\n")

    def repair(self) -> None:
        subprocess.run(["umount", str(self.mount)], check=True, timeout=60)
        subprocess.run(["e2fsck", "-fy", str(self.image)], capture_output=True, timeout=120)
        self._mount()


@contextmanager
def ext4_disk(work: Path, size_mb: int = 32) -> Iterator[Ext4Disk]:
    image, mount = work / "disk.img", work / "disk"
    mount.mkdir(parents=True, exist_ok=True)
    with image.open("wb") as f:
        f.truncate(size_mb << 20)
    subprocess.run(["mkfs.ext4", "-q", "-F", str(image)], check=True, timeout=60)
    disk = Ext4Disk(image, mount)
    disk._mount()
    try:
        yield disk
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False, timeout=60)


def ext4_read_only_works() -> str | None:
    """Why the read-only tests cannot run here, or None."""
    if os.geteuid() != 0:
        return "needs root (loop devices, mounts)"
    for tool in ("mkfs.ext4", "e2fsck", "losetup", "findmnt"):
        if shutil.which(tool) is None:
            return f"{tool} not installed (apt install e2fsprogs util-linux)"
    if not Path("/dev/loop-control").exists():
        return "no loop devices in this machine"
    return None


def db_rows(db: Path, kind: str = "tcp") -> list[tuple[str, int]]:
    with closing(sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=30)) as c:
        return c.execute("SELECT t.name, m.ts_us FROM measurements m JOIN checks k ON k.id = m.check_id "
                         "JOIN targets t ON t.id = k.target_id WHERE k.kind = ?", (kind,)).fetchall()
