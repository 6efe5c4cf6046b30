"""The central PostgreSQL's measurements, partitioned by month: rows land in their month, reports and
the chain read them as before, a month detaches to archive, and a database with rows migrates whole."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from alembic import command
from alembic.config import Config as AlembicConfig
from sqlalchemy import create_engine, text
from sqlalchemy.pool import NullPool

from agent.core.errors import UsageError
from agent.forwarder import Forwarder
from agent.store import Store, iter_verify
from agent.store import partitions as parts
from agent.store import upstream as up
from agent.upstream_settings import UpstreamSettings
from tests.support.history import write_history

START = datetime(2026, 5, 31, 23, 0, tzinfo=UTC)  # rows cross from May into June


def _where(url: str) -> dict[str, int]:
    eng = create_engine(url, poolclass=NullPool)
    try:
        with eng.connect() as c:
            return {r[0]: int(r[1]) for r in c.execute(text("SELECT tableoid::regclass::text, count(*) FROM measurements GROUP BY 1"))}
    finally:
        eng.dispose()


def test_forwarded_rows_land_in_their_month_and_a_month_detaches(tmp_path: Path, pg_url: str) -> None:
    local = Store.open(f"sqlite:///{tmp_path / 'local.db'}")
    try:
        uuid = write_history(local, tmp_path / "a", {"vps": ("u" * 240, 30)}, START)  # 2 hours across midnight
        info = local.agent_info(uuid)
        assert info is not None
        fwd = Forwarder(UpstreamSettings(database_url=pg_url), local, uuid, int(info["id"]), "alpha", tmp_path)
        total = fwd.drain()
        central = fwd.central
        assert central is not None
        with central.engine.connect() as c:
            assert parts.is_partitioned(c)
            names = parts.months(c)
            # the covering index is on every partition
            indexed = {r[0] for r in c.execute(text("SELECT tablename FROM pg_indexes WHERE indexdef LIKE '%(check_id, ts_us, lag_us%'"))}
        assert {"measurements_2026_05", "measurements_2026_06"} <= set(names) <= indexed
        where = _where(pg_url)
        assert set(where) == {"measurements_2026_05", "measurements_2026_06"} and sum(where.values()) == total
        assert all(ok for _, _, ok in iter_verify(central, uuid))
        assert parts.detach_month(central, "2026-05") == "measurements_2026_05"
        assert set(_where(pg_url)) == {"measurements_2026_06"}  # May left the table, kept apart to archive
        with pytest.raises(UsageError, match="no attached partition"):
            parts.detach_month(central, "2026-05")
        with pytest.raises(UsageError, match="YYYY-MM"):
            parts.detach_month(central, "May")
        fwd.close()
    finally:
        local.close()


def test_rows_far_ahead_get_their_month_before_they_arrive(tmp_path: Path, pg_url: str) -> None:
    central = Store.open(pg_url)
    try:
        ahead = datetime.now(UTC) + timedelta(days=200)
        us = int(ahead.timestamp() * 1e6)
        made = parts.ensure_months(central, us, us)
        assert parts.partition_name(parts.month_start(ahead)) in made
        assert parts.ensure_months(central, us, us) == []  # once
    finally:
        central.close()


def test_a_database_with_rows_is_partitioned_whole(tmp_path: Path, pg_url: str) -> None:
    cfg = AlembicConfig()
    cfg.set_main_option("script_location", str(Path(up.__file__).parent / "migrations"))
    eng = create_engine(pg_url, poolclass=NullPool)
    with eng.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "0004")
    eng.dispose()
    store = Store.open(pg_url, migrate=False)
    try:
        uuid = write_history(store, tmp_path / "a", {"vps": ("u" * 100 + "D" * 5 + "u" * 100, 30)}, START)
        before = _where(pg_url)
        store.upgrade()
        assert store.schema_revision() == "0005"
        after = _where(pg_url)
        assert list(before) == ["measurements"] and sum(after.values()) == before["measurements"]
        assert all(ok for _, _, ok in iter_verify(store, uuid))
        store.engine.dispose()
        write_history(store, tmp_path / "a", {"vps": ("u" * 10, 30)}, START + timedelta(days=3))  # ids go on from the old table's
    finally:
        store.close()


def test_detach_month_from_the_command_line(tmp_path: Path, pg_url: str) -> None:
    import subprocess
    import sys

    from tests.conftest import make_config

    store = Store.open(pg_url)
    try:
        may_us = int((START - timedelta(days=3)).timestamp() * 1e6)
        parts.ensure_months(store, may_us, may_us)  # as the central ingest does before rows arrive
        write_history(store, tmp_path / "a", {"vps": ("u" * 10, 30)}, START - timedelta(days=3))
    finally:
        store.close()
    cfg = make_config(tmp_path / "c.toml", [{"name": "vps", "address": "127.0.0.1", "checks": [{"kind": "icmp"}]}], database_url=pg_url)
    exe = [sys.executable, "-m", "agent.cli", "db", "detach-month", "-c", str(cfg)]
    ok = subprocess.run([*exe, "2026-05"], capture_output=True, text=True, timeout=60)
    assert ok.returncode == 0 and "measurements_2026_05" in ok.stdout, ok.stderr
    bad = subprocess.run([*exe, "2026-05"], capture_output=True, text=True, timeout=60)
    assert bad.returncode == 2 and "no attached partition for 2026-05" in bad.stderr and "Traceback" not in bad.stderr
