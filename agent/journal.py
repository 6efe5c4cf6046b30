"""The journal: a round is on disk before it counts as taken.

Each round becomes one line, written with one ``write()`` to an append-only
segment file, before the probe path returns. Once ``write()`` has returned the
line is in the kernel's page cache: a ``kill -9`` a microsecond later does not
lose it (a power cut may lose the last seconds, as SQLite's WAL with
``synchronous=NORMAL`` may). The writer thread seals the open segment once per
batch, commits each sealed segment in one transaction and then deletes it, so
replay after a crash is the same path as normal work. docs/reliability.md has
the measurements behind this choice (a commit per round costs ~25x the CPU and
~10x the bytes written).

A line is ``<crc32 hex> <json>``: a torn or overwritten line fails its checksum
and is quarantined (copied to ``quarantine/`` with its line number, logged),
never filed and never fatal. Directories are tried in order: the state
directory's ``journal/`` first, then each configured spool directory (ideally
on another file system), so a full or read-only disk moves the journal
elsewhere instead of stopping it.
"""

from __future__ import annotations

import errno
import fcntl
import json
import logging
import os
import zlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from agent.core.errors import ConfigError

log = logging.getLogger(__name__)

SEGMENT_PREFIX = "journal-"
SEGMENT_SUFFIX = ".jsonl"
QUARANTINE_DIR = "quarantine"
LOCK_FILE = ".lock"
MAX_SEGMENT_BYTES = 4 << 20  # a segment is loaded whole when committed: this bounds that memory
FORMAT_VERSION = 1

# A row travels as a list in this order (half the bytes of a dict with its keys).
ROW_FIELDS: tuple[str, ...] = (
    "check_id", "ts_us", "target", "kind", "settings_hash", "ok", "lag_us", "rtt_ns", "rtt_min_ns", "rtt_max_ns",
    "jitter_ns", "sent", "received", "status", "error_class", "error", "detail", "imported",
)
_INT_OR_NONE = {"lag_us", "rtt_ns", "rtt_min_ns", "rtt_max_ns", "jitter_ns", "sent", "received", "status"}
_STR_OR_NONE = {"error_class", "error", "detail"}
EVIDENCE_FIELDS: tuple[str, ...] = ("ts_us", "target_id", "about_target_id", "kind", "measurement_id", "content", "sha256")


class DamagedLineError(ValueError):
    """A journal line that cannot be trusted: torn, overwritten or not ours."""


@dataclass
class Record:
    """What one ``write()`` carries: a round's rows, an evidence item, or a sign of life."""

    run_id: int | None
    at_us: int
    rows: list[dict[str, Any]] = field(default_factory=list)
    evidence: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class Segment:
    path: Path
    rows: int = 0  # rows it holds (counted when written or loaded)
    records: int = 0  # records this process wrote to it
    found: bool = False  # left by an earlier run
    durable: bool = True  # False: its fdatasync failed (a disk error): its bytes may not survive
    damaged_copy_failed: bool = False


def encode(rec: Record) -> bytes:
    body = json.dumps({"v": FORMAT_VERSION, "run": rec.run_id, "at": rec.at_us,
                       "rows": [[r.get(f) for f in ROW_FIELDS] for r in rec.rows],
                       "ev": [[e.get(f) for f in EVIDENCE_FIELDS] for e in rec.evidence]},
                      ensure_ascii=False, separators=(",", ":"), allow_nan=False).encode("utf-8")
    return b"%08x %s\n" % (zlib.crc32(body), body)


def _check_row(values: Any) -> dict[str, Any]:
    if not isinstance(values, list) or len(values) != len(ROW_FIELDS):
        raise DamagedLineError("a row has the wrong shape")
    row = dict(zip(ROW_FIELDS, values))
    for name, v in row.items():
        bad = ((name in ("check_id", "ts_us") and (type(v) is not int))
               or (name in ("target", "kind", "settings_hash") and not isinstance(v, str))
               or (name in ("ok", "imported") and not isinstance(v, bool))
               or (name in _INT_OR_NONE and v is not None and type(v) is not int)
               or (name in _STR_OR_NONE and v is not None and not isinstance(v, str)))
        if bad:
            raise DamagedLineError(f"row field {name} holds {type(v).__name__}")
    return row


def decode(line: bytes) -> Record:
    """One line back into a Record; DamagedLineError if anything about it is off."""
    if not line.endswith(b"\n"):
        raise DamagedLineError("the line is cut short (no end of line: a write torn by a crash or a full disk)")
    head, _, body = line[:-1].partition(b" ")
    try:
        crc = int(head, 16)
    except ValueError:
        raise DamagedLineError("no checksum at the start of the line") from None
    if len(head) != 8 or zlib.crc32(body) != crc:
        raise DamagedLineError("checksum mismatch (the line was altered or torn)")
    try:
        obj = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as e:
        raise DamagedLineError(f"not JSON ({e})") from None
    if not isinstance(obj, dict) or obj.get("v") != FORMAT_VERSION or type(obj.get("at")) is not int:
        raise DamagedLineError("not a journal record of this version")
    run = obj.get("run")
    if run is not None and type(run) is not int:
        raise DamagedLineError("run is not a number")
    rows, ev = obj.get("rows", []), obj.get("ev", [])
    if not isinstance(rows, list) or not isinstance(ev, list):
        raise DamagedLineError("rows or evidence is not a list")
    evidence = []
    for item in ev:
        if not isinstance(item, list) or len(item) != len(EVIDENCE_FIELDS):
            raise DamagedLineError("an evidence item has the wrong shape")
        evidence.append(dict(zip(EVIDENCE_FIELDS, item)))
    return Record(run, obj["at"], [_check_row(r) for r in rows], evidence)


class Journal:
    """Segment files in one or more directories. Not thread-safe: the Writer holds a lock around it."""

    def __init__(self, dirs: Sequence[Path], *, now_us: Callable[[], int], max_segment_bytes: int = MAX_SEGMENT_BYTES) -> None:
        if not dirs:
            raise ValueError("a journal needs at least one directory")
        self.dirs = [Path(d) for d in dirs]
        self.now_us = now_us
        self.max_segment_bytes = max_segment_bytes
        self._fd: int | None = None
        self._open: Segment | None = None
        self._size = 0
        self._seq = 0
        self._lock_fd: int | None = None
        self._sealed: list[Segment] = []
        self.write_failures = 0
        self.last_error: str | None = None

    # -- one agent per journal -------------------------------------------------
    def lock(self) -> None:
        """Take the journal's lock: two agents filing one journal would file rows twice."""
        home = self.dirs[0]
        try:
            home.mkdir(parents=True, exist_ok=True)
            fd = os.open(home / LOCK_FILE, os.O_RDWR | os.O_CREAT, 0o600)
        except OSError as e:
            log.warning("cannot lock the journal %s (%s); continuing without the lock", home, e.strerror)
            return
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(fd)
            raise ConfigError(f"{home}: another slaproof agent is running with this state directory; "
                              "stop it first, or give this one its own agent.state_dir") from None
        self._lock_fd = fd

    def unlock(self) -> None:
        if self._lock_fd is not None:
            os.close(self._lock_fd)  # closing releases the flock
            self._lock_fd = None

    # -- writing ---------------------------------------------------------------
    def _new_segment(self, d: Path) -> None:
        self._seq += 1
        path = d / f"{SEGMENT_PREFIX}{self.now_us():020d}-{os.getpid()}-{self._seq:06d}{SEGMENT_SUFFIX}"
        d.mkdir(parents=True, exist_ok=True)
        self._fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND | os.O_EXCL | os.O_CLOEXEC, 0o600)
        self._open = Segment(path)
        self._size = 0

    def append(self, data: bytes, rows: int) -> Segment | None:
        """Write one record with one write(); the segment it went to, or None if no directory took it.

        A failed or short write is cut back off the file, so no torn line stays behind
        another record; the next directory is tried.
        """
        start = 0
        if self._open is not None and self._open.path.parent in self.dirs:
            start = self.dirs.index(self._open.path.parent)
        for d in self.dirs[start:]:
            try:
                if self._fd is None:
                    self._new_segment(d)
                assert self._fd is not None and self._open is not None
                n = os.write(self._fd, data)
                if n != len(data):
                    raise OSError(errno.ENOSPC, "short write (no space left)")
                self._size += n
                seg = self._open
                seg.rows += rows
                seg.records += 1
                if self._size >= self.max_segment_bytes:
                    self._close_open()
                return seg
            except OSError as e:
                self.write_failures += 1
                self.last_error = f"{d}: {e.strerror or e}"
                self._abandon_open()
        return None

    def _abandon_open(self) -> None:
        """After a failed write: cut the file back to its last whole line and close it.
        (If the cut fails too, the torn line is quarantined when the segment is filed.)"""
        if self._fd is None:
            return
        try:
            os.ftruncate(self._fd, self._size)
        except OSError:
            pass
        self._close_open()

    def _close_open(self) -> None:
        """fdatasync, close: a segment is sealed durable, or known not to be (a disk error)."""
        fd, seg, size = self._fd, self._open, self._size
        self._fd, self._open, self._size = None, None, 0
        if fd is None or seg is None:
            return
        if size:
            try:
                os.fdatasync(fd)  # once a batch: the journal also survives a power cut, up to the open segment
            except OSError as e:
                seg.durable = False
                self.last_error = f"{seg.path.parent}: {e.strerror or e}"
        try:
            os.close(fd)
        except OSError:
            pass
        if size == 0:
            try:
                seg.path.unlink()
            except OSError:
                pass
        else:
            if seg.durable and not _fsync_dir(seg.path.parent):
                seg.durable = False  # the file's name may not survive: treat it as its bytes
            self._sealed.append(seg)

    def seal(self) -> list[Segment]:
        """Close the open segment; return every sealed segment, oldest first (and forget them).

        A segment whose fdatasync failed is copied whole to another directory (same name,
        so filing either copy first makes the other a no-op); if none takes it, it is
        returned with ``durable`` False and the caller keeps its records in memory."""
        self._close_open()
        out, self._sealed = self._sealed, []
        return [seg if seg.durable else self._copy_elsewhere(seg) for seg in out]

    def _copy_elsewhere(self, seg: Segment) -> Segment:
        try:
            data = seg.path.read_bytes()  # still in the page cache
        except OSError:
            return seg
        for d in self.dirs:
            if d == seg.path.parent:
                continue
            path = d / seg.path.name
            try:
                d.mkdir(parents=True, exist_ok=True)
                fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o600)
            except OSError:
                continue
            try:
                ok = os.write(fd, data) == len(data)
                if ok:
                    os.fdatasync(fd)
            except OSError:
                ok = False
            finally:
                os.close(fd)
            ok = ok and _fsync_dir(d)
            if ok:
                log.warning("journal %s could not be made durable (%s); copied to %s", seg.path, self.last_error, path)
                return Segment(path, rows=seg.rows, records=seg.records)
            try:
                path.unlink()
            except OSError:
                pass
        return seg

    def close(self) -> list[Segment]:
        out = self.seal()
        self.unlock()
        return out

    # -- reading ---------------------------------------------------------------
    def discover(self) -> list[Segment]:
        """Segments left by earlier runs (a crash, a kill, an unwritable database), oldest first."""
        found: list[Path] = []
        for d in self.dirs:
            try:
                found += [p for p in d.glob(f"{SEGMENT_PREFIX}*{SEGMENT_SUFFIX}") if p.is_file()]
            except OSError:
                continue
        return [Segment(p, rows=-1, found=True) for p in sorted(found, key=lambda p: p.name)]

    def load(self, seg: Segment) -> list[Record]:
        """The segment's good records. Damaged lines are copied to quarantine/ and named in the log."""
        try:
            data = seg.path.read_bytes()
        except FileNotFoundError:
            return []
        records: list[Record] = []
        bad: list[tuple[int, str, bytes]] = []
        for n, line in enumerate(data.splitlines(keepends=True), 1):
            if not line.strip():
                continue
            try:
                records.append(decode(line))
            except DamagedLineError as e:
                bad.append((n, str(e), line))
        if bad:
            self._quarantine(seg, bad)
        seg.rows = sum(len(r.rows) for r in records)
        return records

    def _quarantine(self, seg: Segment, bad: list[tuple[int, str, bytes]]) -> None:
        qdir = seg.path.parent / QUARANTINE_DIR
        qpath = qdir / (seg.path.name + ".bad")
        for n, why, _ in bad:
            log.error("journal %s line %d is damaged (%s): not filed; kept in %s; the file's other lines are filed",
                      seg.path, n, why, qpath)
        try:
            qdir.mkdir(parents=True, exist_ok=True)
            tmp = qpath.with_suffix(".tmp")
            tmp.write_bytes(b"".join(b"# line %d: %s\n" % (n, why.encode()) + line + (b"" if line.endswith(b"\n") else b"\n")
                                     for n, why, line in bad))
            os.replace(tmp, qpath)
        except OSError as e:
            seg.damaged_copy_failed = True
            log.error("could not copy the damaged lines of %s to %s (%s); the whole file is kept as %s.damaged",
                      seg.path, qpath, e.strerror, seg.path.name)

    def remove(self, seg: Segment) -> None:
        """Forget a filed segment (its rows are in the database)."""
        try:
            if seg.damaged_copy_failed:
                seg.path.rename(seg.path.with_name(seg.path.name + ".damaged"))
            else:
                seg.path.unlink()
        except FileNotFoundError:
            pass
        except OSError as e:
            log.warning("could not remove the filed journal %s (%s); it is skipped as filed at the next start", seg.path, e.strerror)



def _fsync_dir(path: Path) -> bool:
    """Make new names in a folder durable; False if the file system refused (EIO, EROFS)."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    except OSError:
        return False
    try:
        os.fsync(fd)
        return True
    except OSError as e:
        return e.errno == errno.EINVAL  # a file system that cannot sync folders: nothing more to do
    finally:
        os.close(fd)
