"""Store-and-forward into a real PostgreSQL: every row arrives once, linked, or is refused and recorded.

Each agent writes its own SQLite store through the real writer (tests/support/history.py); the
forwarder ships the rows to a central PostgreSQL started by the test setup. The faults are the
ones a fleet meets: the central database stopped and restarted, the forwarder killed with
SIGKILL in the middle of a batch, an altered row, two machines sharing one identity.
"""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, func, select, text
from sqlalchemy.pool import NullPool

from agent import forward_state
from agent.core.errors import StoreError
from agent.core.times import to_us
from agent.forwarder import Forwarder
from agent.store import Store, iter_verify
from agent.store import upstream as up
from agent.store.schema import measurements, upstream_refusals
from agent.upstream_settings import UpstreamSettings
from tests.conftest import make_config
from tests.support.history import write_history
from tests.support.pg import why_no_postgres
from tests.support.wait import wait_until

START = datetime(2026, 5, 1, tzinfo=UTC)
OUTAGE_S = 5.0 if os.environ.get("CI") == "true" else 60.0  # the 60 s; shorter in CI


def _agent(tmp: Path, name: str, n: int = 300) -> tuple[Store, str, int]:
    store = Store.open(f"sqlite:///{tmp / name / 'local.db'}")
    uuid = write_history(store, tmp / name, {"vps": ("u" * (n // 3) + "D" * 20 + "u" * (n - n // 3 - 20), 10),
                                             "ctl": ("u" * n, 10)}, START)
    info = store.agent_info(uuid)
    assert info is not None
    return store, uuid, int(info["id"])


def _forwarder(store: Store, uuid: str, aid: int, name: str, url: str, tmp: Path, batch: int = 100) -> Forwarder:
    cfg = UpstreamSettings(database_url=url, batch_rows=batch, interval_s=0.05, retry_max_s=1.0)
    return Forwarder(cfg, store, uuid, aid, name, tmp)


def _local_rows(store: Store) -> int:
    with store.engine.connect() as c:
        return int(c.execute(select(func.count()).select_from(measurements)).scalar_one())


def _central_counts(url: str) -> tuple[int, int]:
    """(rows, distinct (check, time, hash)): equal when nothing landed twice."""
    eng = create_engine(url, poolclass=NullPool)
    try:
        with eng.connect() as c:
            n = c.execute(text("SELECT count(*) FROM measurements")).scalar_one()
            d = c.execute(text("SELECT count(*) FROM (SELECT DISTINCT hash FROM measurements) x")).scalar_one()
            return int(n), int(d)
    finally:
        eng.dispose()


def test_two_agents_forward_once_and_the_chains_verify_centrally(tmp_path: Path, pg_url: str) -> None:
    a = _agent(tmp_path, "a")
    b = _agent(tmp_path, "b")
    try:
        fa = _forwarder(*a, "alpha", pg_url, tmp_path / "a")
        fb = _forwarder(*b, "beta", pg_url, tmp_path / "b")
        assert fa.drain() == _local_rows(a[0]) and fb.drain() == _local_rows(b[0])
        assert fa.drain() == 0 and fb.drain() == 0  # caught up: nothing sent twice
        central = fa.central
        assert central is not None
        # a batch sent again (the forwarder died before it learnt the answer) lands once
        rows = up.pending(a[0], up.agent_check_ids(a[0], a[2]), 0, 50)
        again = up.Batch(a[1], "alpha", 0, rows[-1]["seq"], to_us(START), None,
                         tuple(up.check_defs(a[0], sorted({r["check"] for r in rows}))), (), tuple(rows))
        res = up.ingest(central, again, to_us(START))
        assert (res.taken, res.duplicates) == (0, 50)
        assert _central_counts(pg_url) == (_local_rows(a[0]) + _local_rows(b[0]),) * 2
        for uuid in (a[1], b[1]):
            assert all(ok for _, _, ok in iter_verify(central, uuid))
        agents = {x.name: x for x in up.fleet_agents(central)}
        assert set(agents) == {"alpha", "beta"} and agents["alpha"].backlog == 0
        fa.close()
        fb.close()
    finally:
        a[0].close()
        b[0].close()


def test_an_altered_row_is_refused_and_recorded(tmp_path: Path, pg_url: str) -> None:
    store, uuid, aid = _agent(tmp_path, "a")
    try:
        with sqlite3.connect(tmp_path / "a" / "local.db") as db:  # someone turns an outage row into "up"
            bad = db.execute("SELECT id FROM measurements WHERE ok = 0 ORDER BY id LIMIT 1").fetchone()[0]
            db.execute("UPDATE measurements SET ok = 1 WHERE id = ?", (bad,))
        db.close()
        fwd = _forwarder(store, uuid, aid, "alpha", pg_url, tmp_path / "a", batch=1000)
        fwd.run_once()
        central = fwd.central
        assert central is not None
        assert up.cursor(central, uuid) == bad - 1  # every row before it, none after
        with central.engine.connect() as c:
            (seq, reason), = c.execute(select(upstream_refusals.c.seq, upstream_refusals.c.reason)).all()
        assert seq == bad and "does not link" in reason
        assert _central_counts(pg_url)[0] == bad - 1
        fwd.close()
    finally:
        store.close()


def test_two_agents_with_one_identity_are_refused_naming_both(tmp_path: Path, pg_url: str) -> None:
    store, uuid, aid = _agent(tmp_path, "a", 30)
    try:
        first = _forwarder(store, uuid, aid, "alpha", pg_url, tmp_path / "a")
        first.drain()
        copy = _forwarder(store, uuid, aid, "gamma", pg_url, tmp_path / "a")
        with pytest.raises(StoreError, match=r"'alpha'.*'gamma'") as e:
            copy.run_once()
        assert uuid in str(e.value) and e.value.exit_code == 3
        other = _forwarder(store, "0" * 8 + uuid[8:], aid, "alpha", pg_url, tmp_path / "a")
        with pytest.raises(StoreError, match=rf"'alpha' is already used by agent {uuid}"):
            other.run_once()
        assert first.central is not None and len(up.refusals(first.central)) == 2
        for f in (first, copy, other):
            f.close()
    finally:
        store.close()


def test_secrets_in_the_central_url_never_show(tmp_path: Path) -> None:
    store, uuid, aid = _agent(tmp_path, "a", 10)
    try:
        fwd = _forwarder(store, uuid, aid, "alpha", "postgresql+psycopg://fleet:hunter2secret@127.0.0.1:1/x", tmp_path)
        with pytest.raises(StoreError) as e:
            fwd.run_once()
        assert "hunter2secret" not in str(e.value) and "agent.upstream.database_url" in str(e.value)
    finally:
        store.close()


@pytest.mark.skipif(why_no_postgres() is not None, reason=str(why_no_postgres()))
def test_central_stopped_and_restarted_loses_nothing(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    from tests.support.pg_ctl import stoppable_postgres

    store, uuid, aid = _agent(tmp_path, "a", 600)
    with stoppable_postgres() as pg:
        fwd = _forwarder(store, uuid, aid, "alpha", pg.url, tmp_path, batch=100)
        thread = threading.Thread(target=fwd.run)
        thread.start()
        try:
            wait_until(lambda: fwd.central is not None and up.cursor(fwd.central, uuid) > 0, "first rows forwarded", 60)
            pg.stop()
            # the agent keeps writing while the central database is away
            more = write_history(store, tmp_path / "a", {"late": ("u" * 100, 10)}, START + timedelta(hours=3))
            assert more == uuid
            t_stop = time.monotonic()
            wait_until(lambda: (st := forward_state.read(tmp_path)) is not None and st.error is not None,
                       "the forwarder notices the central database is gone", 30)
            time.sleep(max(0.0, OUTAGE_S - (time.monotonic() - t_stop)))  # the outage itself: the central side is down
            pg.start()
            total = _local_rows(store)
            wait_until(lambda: _central_counts(pg.url)[0] == total, "every row forwarded after the restart", 120, 0.1)
        finally:
            fwd.request_stop()
            thread.join(30)
            fwd.close()
        assert _central_counts(pg.url) == (total, total)
        central = Store.open(pg.url, migrate=False)
        try:
            assert all(ok for _, _, ok in iter_verify(central, uuid))
        finally:
            central.close()
    store.close()
    assert sum("cannot forward" in r.getMessage() for r in caplog.records) == 1  # said once per outage


def _in_batch(eng: Engine) -> bool:
    """The forwarder's COPY into measurements is running: the middle of a batch's transaction."""
    with eng.connect() as c:
        return bool(c.execute(text("SELECT count(*) FROM pg_stat_activity WHERE query LIKE 'COPY measurements%' "
                                   "AND state = 'active'")).scalar_one())


@pytest.mark.skipif(why_no_postgres() is not None, reason=str(why_no_postgres()))
def test_forwarder_killed_mid_batch_loses_nothing(tmp_path: Path, pg_url: str) -> None:
    store, _, _ = _agent(tmp_path, "a", 15000)  # 30,000 rows: 15 batches, more than the kills can catch
    total = _local_rows(store)
    store.close()
    cfg = make_config(tmp_path / "c.toml", [{"name": "vps", "address": "127.0.0.1", "checks": [{"kind": "icmp"}]}],
                      state_dir=str(tmp_path / "a"), database_url=f"sqlite:///{tmp_path / 'a' / 'local.db'}", vantage="alpha",
                      upstream={"database_url": pg_url, "batch_rows": 2000})
    eng = create_engine(pg_url, poolclass=NullPool)
    cmd = [sys.executable, "-m", "agent.cli", "forward", "--config", str(cfg)]
    kills = 0
    try:
        for _ in range(3):
            proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
            try:
                wait_until(lambda p=proc: _in_batch(eng) or p.poll() is not None, "a batch in flight", 60, 0.002)
                if proc.poll() is None:
                    proc.send_signal(signal.SIGKILL)
                    kills += 1
            finally:
                if proc.poll() is None:  # the wait above failed: leave nothing running
                    proc.kill()
                proc.wait(30)
                assert proc.stderr is not None
                proc.stderr.close()
        done = subprocess.run([*cmd, "--once"], capture_output=True, text=True, timeout=300)
        assert done.returncode == 0, done.stderr
    finally:
        eng.dispose()
    assert kills >= 1
    assert _central_counts(pg_url) == (total, total)


def test_a_run_that_ends_after_its_last_row_reaches_the_central_side(tmp_path: Path, pg_url: str) -> None:
    """The daemon stops its forwarder before it records the clean stop: the next contact carries it."""
    store, uuid, aid = _agent(tmp_path, "a", 30)
    try:
        ahead_us = 3600 * 1_000_000  # this agent's clock runs an hour ahead
        fwd = Forwarder(UpstreamSettings(database_url=pg_url), store, uuid, aid, "alpha", tmp_path / "a",
                        now_us=lambda: to_us(datetime.now(UTC)) + ahead_us)
        run = store.start_run(aid, to_us(START + timedelta(hours=1)), version="t", pid=1, config_hash=None)
        fwd.drain()
        store.end_run(run, to_us(START + timedelta(hours=2)), clean=True)
        assert fwd.run_once() == 0  # nothing new to send, but the contact brings the run's end
        central = fwd.central
        assert central is not None
        stops = {r["started_us"]: r["stop"] for r in central.all_runs()}
        assert stops[to_us(START + timedelta(hours=1))] == "clean"
        (agent,) = up.fleet_agents(central)
        assert agent.clock_offset_us is not None and abs(agent.clock_offset_us + ahead_us) < 60_000_000  # against the server's clock
        fwd.close()
    finally:
        store.close()
