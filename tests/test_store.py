"""The store on SQLite and on a real PostgreSQL server: migrations, the chain, the writer."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.exc import OperationalError

from agent.core.errors import StoreError
from agent.core.result import ProbeResult
from agent.store import HEAD_REVISION, Store, chain, iter_verify
from agent.store.verify import verify_chain
from agent.writer import Writer

T0 = datetime(2026, 11, 3, 2, 0, tzinfo=UTC)


def icmp(i: int, ok: bool = True) -> ProbeResult:
    return ProbeResult("icmp", T0 + timedelta(seconds=10 * i, microseconds=123), ok, 0.0123 if ok else None,
                       {"sent": 3, "received": 3 if ok else 0, "loss_pct": 0.0 if ok else 100.0,
                        "rtt_min_ms": 0.01, "rtt_max_ms": 0.015, "rtt_stddev_ms": 0.002},
                       None if ok else "timeout", None if ok else "no reply")


def setup(url: str) -> tuple[Store, str, int, Any]:
    store = Store.open(url)
    agent = str(uuid.uuid4())
    aid = store.ensure_agent(agent, 0)
    refs = store.sync_targets(aid, [{"name": "vps", "address": "127.0.0.1", "checks": [{"kind": "icmp", "count": 3}]}], 0)
    return store, agent, aid, refs["vps"].checks[0]


def test_rows_round_trip_exactly_and_chain_verifies(db_url: str) -> None:
    store, agent, aid, ref = setup(db_url)
    w = Writer(store, agent, aid, batch_s=0.05).start()
    for i in range(50):
        w.submit(ref, icmp(i, ok=i % 7 != 3), lag_us=i)
    assert w.flush(20)
    w.close()
    rows = list(store.iter_rows([ref.id], 0, 2**62))
    assert len(rows) == 50
    r0 = rows[0]
    assert r0["ts_us"] == 1793671200000123  # 2026-11-03T02:00:00.000123Z exactly
    assert r0["rtt_ns"] == 12300 and r0["sent"] == 3 and r0["received"] == 3
    assert rows[3]["ok"] is False and rows[3]["error_class"] == "timeout"
    ok, line = verify_chain(store, agent)
    assert ok, line
    assert "50 rows, chain intact" in line
    assert store.schema_revision() == HEAD_REVISION
    store.close()


def test_tampering_is_found_and_named(db_url: str) -> None:
    store, agent, aid, ref = setup(db_url)
    w = Writer(store, agent, aid, batch_s=0.05).start()
    for i in range(20):
        w.submit(ref, icmp(i))
    w.close()
    ids = [r["id"] for r in store.iter_rows([ref.id], 0, 2**62)]
    with store.engine.begin() as c:  # someone turns an outage into "up"... or a good row into bad
        c.execute(text("UPDATE measurements SET ok = :f WHERE id = :i"), {"f": False, "i": ids[12]})
    ok, line = verify_chain(store, agent)
    assert not ok
    assert f"BROKEN at row {ids[12]}" in line and "the 13th of the chain" in line
    with store.engine.begin() as c:
        c.execute(text("UPDATE measurements SET ok = :t WHERE id = :i"), {"t": True, "i": ids[12]})
        c.execute(text("DELETE FROM measurements WHERE id = :i"), {"i": ids[5]})
    ok, line = verify_chain(store, agent)
    assert not ok and f"BROKEN at row {ids[6]}" in line
    store.close()


def test_two_writers_do_not_fork_the_chain(db_url: str) -> None:
    """The daemon's writer and an import running at the same time append to one chain."""
    store, agent, aid, ref = setup(db_url)
    w1 = Writer(store, agent, aid, batch_s=0.01).start()
    w2 = Writer(store, agent, aid, batch_s=0.01).start()
    for i in range(200):
        (w1 if i % 2 else w2).submit(ref, icmp(i))
    w1.close()
    w2.close()
    walked = [good for _n, _row, good in iter_verify(store, agent)]
    assert walked == [True] * 200
    store.close()


def test_failed_writes_are_retried_not_dropped(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    store, agent, aid, ref = setup(f"sqlite:///{tmp_path / 's.db'}")
    real = store.insert_measurements
    fails = {"n": 0}

    def flaky(conn: Any, rows: Any) -> None:
        if fails["n"] < 2:
            fails["n"] += 1
            raise OperationalError("INSERT", {}, Exception("database is locked"))
        real(conn, rows)

    monkeypatch.setattr(store, "insert_measurements", flaky)
    w = Writer(store, agent, aid, batch_s=0.01, retry_max_s=0.05).start()
    for i in range(10):
        w.submit(ref, icmp(i))
    assert w.flush(20)
    w.close()
    assert w.stats.failures == 2 and w.stats.rows_written == 10
    assert store.count_rows([ref.id], 0, 2**62) == 10
    assert verify_chain(store, agent)[0]


def test_unwritable_database_at_shutdown_keeps_the_journal_then_files_it(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    store, agent, aid, ref = setup(f"sqlite:///{tmp_path / 's.db'}")
    real = store.insert_measurements

    def down(conn: Any, rows: Any) -> None:
        raise OperationalError("INSERT", {}, Exception("disk I/O error"))

    monkeypatch.setattr(store, "insert_measurements", down)
    journal = tmp_path / "journal"
    w = Writer(store, agent, aid, batch_s=0.01, retry_max_s=0.05, journal_dirs=[journal]).start()
    for i in range(7):
        w.submit(ref, icmp(i))
    out = w.close(timeout=0.5)
    assert not out.filed_all and out.kept_rows == 7 and out.lost_rows == 0 and out.kept_in == [journal]
    assert "7 rows not yet in the database are kept in" in (out.reason() or "")
    assert len(list(journal.glob("journal-*.jsonl"))) == 1
    assert store.count_rows([ref.id], 0, 2**62) == 0
    monkeypatch.setattr(store, "insert_measurements", real)
    w2 = Writer(store, agent, aid, batch_s=0.01, journal_dirs=[journal]).start()
    assert w2.flush(20)
    assert w2.close().filed_all
    assert store.count_rows([ref.id], 0, 2**62) == 7
    assert verify_chain(store, agent)[0]
    assert not list(journal.glob("journal-*"))  # filed, then removed


def test_aggregations(db_url: str) -> None:
    store, agent, aid, ref = setup(db_url)
    w = Writer(store, agent, aid, batch_s=0.05).start()
    for i in range(30):
        w.submit(ref, icmp(i, ok=i >= 10))
    w.close()
    assert store.loss_totals([ref.id], 0, 2**62) == (90, 60)
    assert store.latency_histogram([ref.id], 0, 2**62, bucket_ns=1000) == [(12, 20)]
    series = store.latency_series([ref.id], 1793671200000000, 1793671200000000 + 300_000_000, 100_000_000)
    assert [s[3] for s in series] == [10, 10, 10]
    assert series[0][2] == 100.0 and series[2][2] == 0.0
    head_id, head_hash = store.chain_head_before(agent, 1793671200000000 + 95_000_000)
    assert head_id is not None and store.row_hash(head_id).hex() == head_hash  # type: ignore[union-attr]


def test_runs_left_open_are_marked_unclean(db_url: str) -> None:
    store, _agent, aid, _ref = setup(db_url)
    rid = store.start_run(aid, 1_000, version="t", pid=1, config_hash=None)
    with store.engine.begin() as c:
        store.heartbeat(c, rid, 5_000)
    assert store.close_stale_runs(aid) == 1
    run = store.all_runs()[0]
    assert run["stop"] == "unclean" and run["ended_us"] == 5_000


def test_unreachable_database_message() -> None:
    with pytest.raises(StoreError) as e:
        Store.open("postgresql+psycopg://nobody:secret@127.0.0.1:1/nothing")
    msg = str(e.value)
    assert "cannot open the database" in msg and "agent.database_url" in msg
    assert "secret" not in msg


def test_genesis_depends_on_agent() -> None:
    assert chain.genesis("a") != chain.genesis("b")


def test_head_revision_constant_matches_migrations() -> None:
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    from agent.store import HEAD_REVISION

    cfg = Config()
    cfg.set_main_option("script_location", str(Path(__file__).resolve().parents[1] / "agent" / "store" / "migrations"))
    assert ScriptDirectory.from_config(cfg).get_current_head() == HEAD_REVISION
