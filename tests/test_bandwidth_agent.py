"""Bandwidth checks inside the agent: config → probe → stored rows, and the traffic budget.

Real parts: the agent's own responder on loopback, a real SQLite store, the
daemon's round called directly with an injected clock.
"""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from agent.bandwidth_glue import settings_of, worst_case_bytes
from agent.config import BandwidthCheck, ConfigError, load_config
from agent.daemon import Daemon
from agent.serve.responder import make_server
from agent.store import Store
from agent.store.verify import verify_chain

MB = 1_000_000


class Clock:
    def __init__(self, t: datetime) -> None:
        self.t = t

    def __call__(self) -> datetime:
        return self.t


def _rows(d: Daemon, name: str) -> list[dict[str, Any]]:
    return list(d.store.iter_rows([c.id for c in d.refs[name].checks], 0, 2**62))


def test_config_keys_reach_the_probe_settings() -> None:
    c = BandwidthCheck(mode="http_download", url="http://127.0.0.1:1/download", streams=2, warmup_bytes=1000,
                       timeout_s=2.5, verify_tls=False, max_bytes=3 * MB, token="s3cret")
    s = settings_of(c)
    assert (s.streams, s.warmup_bytes, s.timeout_s, s.verify_tls, s.max_bytes, s.token) == (2, 1000, 2.5, False, 3 * MB, "s3cret")


def test_bad_bandwidth_check_is_refused_with_its_key(config_file: Any) -> None:
    cfg = config_file([{"name": "bw", "address": "127.0.0.1",
                        "checks": [{"kind": "bandwidth", "mode": "iperf3", "timeout_s": -1, "host": "127.0.0.1"}]}])
    with pytest.raises(ConfigError) as e:
        load_config(cfg)
    assert "timeout_s" in str(e.value) and str(cfg) in str(e.value)


def test_rounds_store_measurements_then_skip_over_budget_and_a_restart_remembers(config_file: Any, tmp_path: Path) -> None:
    with make_server("127.0.0.1:0", max_bytes=50 * MB) as srv:
        host, port = srv.server_address[:2]
        check = {"kind": "bandwidth", "url": f"http://{host}:{port}/download?bytes={3 * MB}",
                 "streams": 2, "warmup_s": 0.0, "max_bytes": 3 * MB, "max_seconds": 10.0}
        # The budget reserves the worst case W (cap + a receive window per stream) before each
        # check and counts what moved after it: W + 4 MB lets two 3 MB checks through, not a third.
        worst = worst_case_bytes(settings_of(BandwidthCheck(**check)))
        assert worst > 3 * MB
        limit_mb = worst / MB + 4
        cfg = config_file([{"name": "bw", "address": "127.0.0.1", "budget": {"month_mb": limit_mb},
                            "checks": [{"kind": "icmp"}, check]}], timezone="Asia/Shanghai")
        settings, _ = load_config(cfg)
        # 2026-11-30 20:00 UTC is already December 1st in Shanghai: the month the budget counts in.
        t0 = datetime(2026, 11, 30, 20, 0, tzinfo=UTC)
        clock = Clock(t0)

        def round_at(d: Daemon, t: datetime) -> list[Any]:
            clock.t = t

            async def go() -> list[Any]:
                return await d.run_round("bw", t, bandwidth=True)

            return asyncio.run(go())

        d = Daemon(settings, Store.open(settings.database_url()), clock=clock)
        d.writer.start()
        first = round_at(d, t0)
        second = round_at(d, t0 + timedelta(hours=1))
        third = round_at(d, t0 + timedelta(hours=2))
        d.writer.close()
        assert [r.kind for r in first] == ["bandwidth"]  # the icmp check is not part of a bandwidth round
        moved = first[0].figures["bytes_total"]
        assert first[0].ok and 3 * MB <= moved < 3 * MB + 2 * 256 * 1024, first[0]
        assert second[0].ok
        assert not third[0].ok and third[0].error_class == "skipped"
        assert "target 'bw' monthly traffic budget" in (third[0].error or "")
        assert f"of {limit_mb:,.1f} MB used" in (third[0].error or "")

        # A restart is seeded from the stored rows: still over budget in the same (Shanghai) month.
        d2 = Daemon(settings, Store.open(settings.database_url()), clock=clock)
        d2.writer.start()
        fourth = round_at(d2, t0 + timedelta(hours=3))
        # The next month in Shanghai (January 1st, 00:30 local) starts afresh.
        fifth = round_at(d2, datetime(2026, 12, 31, 16, 30, tzinfo=UTC))
        d2.writer.close()
        assert fourth[0].error_class == "skipped"
        assert fifth[0].ok

    rows = _rows(d2, "bw")
    assert [r["kind"] for r in rows] == ["bandwidth"] * 5
    assert [r["error_class"] for r in rows] == [None, None, "skipped", "skipped", None]
    detail = json.loads(rows[0]["detail"])
    assert detail["bytes_total"] == moved and detail["mbps_mean"] > 0
    assert verify_chain(d2.store, d2.agent_uuid)[0]


def test_agent_wide_budget_and_a_failed_transfer_is_a_row(config_file: Any) -> None:
    with make_server("127.0.0.1:0", max_bytes=10 * MB) as srv:
        host, port = srv.server_address[:2]
        cfg = config_file([
            {"name": "a", "address": "127.0.0.1", "checks": [
                {"kind": "bandwidth", "url": f"http://{host}:{port}/download?bytes={2 * MB}", "warmup_s": 0.0, "max_bytes": 2 * MB}]},
            {"name": "b", "address": "127.0.0.1", "checks": [
                {"kind": "bandwidth", "url": f"http://{host}:{port}/nowhere", "warmup_s": 0.0, "max_bytes": 1 * MB}]},
        ], budget={"day_mb": round((worst_case_bytes(settings_of(BandwidthCheck(mode="http_download", url="http://x/", max_bytes=2 * MB))) + 1.5 * MB) / MB, 3)})
        settings, _ = load_config(cfg)
        t0 = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)
        d = Daemon(settings, Store.open(settings.database_url()), clock=Clock(t0))

        async def go() -> tuple[list[Any], list[Any], list[Any]]:
            d.writer.start()
            a = await d.run_round("a", t0, bandwidth=True)  # moves 2 MB of the agent's W_a + 1.5 MB
            b = await d.run_round("b", t0, bandwidth=True)  # its worst case fits; it fails (404)
            a2 = await d.run_round("a", t0, bandwidth=True)  # 2 MB + W_a: over the day
            return a, b, a2

        a, b, a2 = asyncio.run(go())
        d.writer.close()
    assert a[0].ok
    assert not b[0].ok and b[0].error_class not in ("skipped", "internal"), b[0]
    assert a2[0].error_class == "skipped" and "agent-wide daily traffic budget" in (a2[0].error or "")
    assert len(_rows(d, "b")) == 1 and _rows(d, "b")[0]["ok"] is False
