"""The journal and the writer's filing of it: on disk before it counts, filed once, damage quarantined."""

from __future__ import annotations

import errno
import os
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.exc import OperationalError

from agent import journal as J
from agent.core.errors import ConfigError
from agent.core.result import ProbeResult
from agent.journal import DamagedLineError, Record, decode, encode
from agent.store import Store
from agent.store.verify import verify_chain
from agent.writer import Writer

T0 = datetime(2026, 11, 3, 2, 0, tzinfo=UTC)


def row(i: int, check_id: int = 1) -> dict[str, Any]:
    return {"check_id": check_id, "ts_us": 1_793_671_200_000_000 + i, "target": "vps", "kind": "tcp", "settings_hash": "h",
            "ok": i % 2 == 0, "lag_us": -3, "rtt_ns": 12_345, "error": None if i % 2 == 0 else "refused, \"quoted\"\nline",
            "detail": '{"a":1}', "imported": False}


def test_a_record_round_trips_and_damage_is_caught() -> None:
    rec = Record(7, 123, [row(0), row(1)], [{"ts_us": 1, "target_id": 2, "about_target_id": None, "kind": "traceroute",
                                              "measurement_id": None, "content": "{}", "sha256": "ab"}])
    line = encode(rec)
    back = decode(line)
    assert back.run_id == 7 and back.at_us == 123 and back.evidence == rec.evidence
    assert back.rows[1] == {**dict.fromkeys(J.ROW_FIELDS), **row(1)}
    for bad, why in ((line[:-1], "cut short"), (line[:20] + b"X" + line[21:], "checksum"), (b"zz " + line[3:], "checksum"),
                     (b"%08x {}\n" % 0, "checksum")):
        with pytest.raises(DamagedLineError, match=why):
            decode(bad)


def setup(tmp_path: Path) -> tuple[Store, str, int, Any]:
    store = Store.open(f"sqlite:///{tmp_path / 's.db'}")
    agent = str(uuid.uuid4())
    aid = store.ensure_agent(agent, 0)
    refs = store.sync_targets(aid, [{"name": "vps", "address": "127.0.0.1", "checks": [{"kind": "tcp", "port": 1}]}], 0)
    return store, agent, aid, refs["vps"].checks[0]


def result(i: int) -> ProbeResult:
    return ProbeResult("tcp", T0 + timedelta(seconds=i), True, 0.1, {})


def test_a_segment_filed_before_a_crash_is_not_filed_again(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The kill lands between the commit and the file's removal: the next start finds it, sees its first
    row stored, and files nothing twice."""
    store, agent, aid, ref = setup(tmp_path)
    jdir = tmp_path / "journal"
    monkeypatch.setattr(J.Journal, "remove", lambda self, seg: None)  # "killed" before removing
    w = Writer(store, agent, aid, journal_dirs=[jdir]).start()
    for i in range(5):
        w.submit(ref, result(i))
    assert w.flush(20)
    w.close()
    assert len(list(jdir.glob("journal-*"))) == 1 and store.count_rows([ref.id], 0, 2**62) == 5
    monkeypatch.undo()
    w2 = Writer(store, agent, aid, journal_dirs=[jdir]).start()
    w2.submit(ref, result(5))
    assert w2.flush(20)
    assert w2.close().filed_all
    assert store.count_rows([ref.id], 0, 2**62) == 6
    assert verify_chain(store, agent)[0] and not list(jdir.glob("journal-*"))


def test_a_failed_write_is_cut_back_and_the_next_folder_takes_the_round(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    store, agent, aid, ref = setup(tmp_path)
    first, second = tmp_path / "j1", tmp_path / "j2"
    real_write = os.write
    calls = {"n": 0}

    def flaky(fd: int, data: bytes) -> int:
        calls["n"] += 1
        if calls["n"] == 3:  # the third round: half written, then the disk is full
            real_write(fd, data[: len(data) // 2])
            raise OSError(errno.ENOSPC, "No space left on device")
        return real_write(fd, data)

    monkeypatch.setattr(J.os, "write", flaky)
    w = Writer(store, agent, aid, journal_dirs=[first, second], batch_s=60).start()
    for i in range(5):
        w.submit(ref, result(i))
    segs = sorted(p.name for p in (*first.glob("journal-*"), *second.glob("journal-*")))
    assert len(list(first.glob("journal-*"))) == 1 and len(list(second.glob("journal-*"))) == 1, segs
    (seg1,) = first.glob("journal-*")
    assert seg1.read_bytes().count(b"\n") == 2 and seg1.read_bytes().endswith(b"\n")  # no torn line left
    assert w.flush(20) and w.close().filed_all
    assert [r["ts_us"] for r in store.iter_rows([ref.id], 0, 2**62)] == [int(result(i).started_at.timestamp()) * 10**6 for i in range(5)]


def test_nothing_writable_bounded_queue_and_an_exact_lost_count(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    store, agent, aid, ref = setup(tmp_path)
    blocked = tmp_path / "a-file"
    blocked.write_text("not a folder")

    def down(conn: Any, rows: Any) -> None:
        raise OperationalError("INSERT", {}, Exception("database or disk is full"))

    monkeypatch.setattr(store, "insert_measurements", down)
    w = Writer(store, agent, aid, journal_dirs=[blocked / "journal"], max_queued_rows=100, batch_s=0.01, retry_max_s=0.02).start()
    for i in range(30):
        w.submit_round([{**row(5 * i + k, ref.id)} for k in range(5)])  # 150 rows: 100 fit in memory
    assert w.stats.lost == 50
    out = w.close(timeout=0.3)
    assert not out.filed_all and out.kept_rows == 0 and out.lost_rows == 150
    assert "150 rows could not be kept" in (out.reason() or "")


def test_a_segment_that_cannot_be_made_durable_is_copied_elsewhere(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    store, agent, aid, ref = setup(tmp_path)
    first, second = tmp_path / "j1", tmp_path / "j2"
    real = os.fdatasync

    def failing(fd: int) -> None:
        if str(first) in os.readlink(f"/proc/self/fd/{fd}"):
            raise OSError(errno.EIO, "Input/output error")
        real(fd)

    monkeypatch.setattr(J.os, "fdatasync", failing)
    w = Writer(store, agent, aid, journal_dirs=[first, second], batch_s=60).start()
    for i in range(3):
        w.submit(ref, result(i))
    assert w.flush(20) and w.close().filed_all
    assert store.count_rows([ref.id], 0, 2**62) == 3
    assert not list(second.glob("journal-*"))  # the copy was filed, then removed


def test_a_second_writer_on_the_same_journal_is_refused(tmp_path: Path) -> None:
    store, agent, aid, _ = setup(tmp_path)
    w = Writer(store, agent, aid, journal_dirs=[tmp_path / "j"]).start()
    try:
        with pytest.raises(ConfigError, match="another slaproof agent is running"):
            Writer(store, agent, aid, journal_dirs=[tmp_path / "j"]).start()
    finally:
        w.close()
    Writer(store, agent, aid, journal_dirs=[tmp_path / "j"]).start().close()  # released at close


def test_flush_deadline_uses_the_injected_clock(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    store, agent, aid, ref = setup(tmp_path)

    def down(conn: Any, rows: Any) -> None:
        raise OperationalError("INSERT", {}, Exception("database is locked"))

    monkeypatch.setattr(store, "insert_measurements", down)
    now = [0.0]

    def clock() -> float:
        now[0] += 1.0  # every look at the clock: a second passes
        return now[0]

    w = Writer(store, agent, aid, journal_dirs=[tmp_path / "j"], clock=clock).start()
    w.submit(ref, result(0))
    assert w.flush(timeout=5.0) is False  # gave up by the injected clock, not by waiting
    assert w.close(timeout=0.0).kept_rows == 1
