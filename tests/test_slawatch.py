"""The SLA watch: counted downtime near the next tier this month, a claim deadline near for last month."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from agent.config import load_config
from agent.live.events import Bus, Event, Kind
from agent.live.slawatch import SlaWatch, limits, next_limit
from agent.store import Store
from tests.support.history import write_history

OCT1 = datetime(2026, 10, 1, tzinfo=UTC)
NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)


def test_limits_in_order_and_the_next_one() -> None:
    lims = limits(Decimal("99.9"), [(Decimal("99.9"), Decimal(10)), (Decimal("99.0"), Decimal(25))], 30 * 86400)
    assert [round(lim.down_s) for lim in lims] == [2592, 2592, 25920]
    assert next_limit(2000, lims) == lims[0] and next_limit(3000, lims) == lims[2] and next_limit(30000, lims) is None


def test_tier_close_this_month_and_claim_deadline_of_last(config_file: Any, tmp_path: Any) -> None:
    cfg = config_file([{"name": "vps", "address": "127.0.0.1", "sla": {"preset": "generic-99.9"},
                        "checks": [{"kind": "icmp"}, {"kind": "http", "url": "http://127.0.0.1/"}]}], interval_s=300)
    settings, _ = load_config(cfg)
    store = Store.open(settings.database_url())
    october = "u" * 100 + "D" * 30 + "u" * (31 * 288 - 130)  # 2.5 h down: breached
    november = "u" * (24 * 288) + "u" * 100 + "D" * 8 + "u" * (288 - 108)  # 40 min down on the 25th: 3.2 min from 99.9 %
    write_history(store, settings.state_dir(), {"vps": (october + november, 300.0)}, OCT1)
    bus, got = Bus(), []
    bus.sinks.append(got.append)
    watch = SlaWatch(settings, store, bus, lambda: NOW)

    async def go() -> None:
        await watch._tier_check("vps")
        ev = await asyncio.to_thread(watch._claim_event, settings.target("vps"))
        assert ev is not None
        got.append(ev)
        await watch.stop()

    asyncio.run(go())
    store.close()
    tier, claim = got
    assert isinstance(tier, Event) and tier.kind == Kind.SLA_TIER and tier.figures["tier"] == "SLA target 99.9 %"
    assert tier.figures["counted"] == "40m 0s" and tier.figures["period_start"] == "2026-11-01 00:00"
    assert claim.kind == Kind.CLAIM_DEADLINE and claim.figures["deadline"] == "2026-11-30"
    assert claim.figures["period_start"] == "2026-10-01" and claim.figures["period_end"] == "2026-10-31"


def test_no_tier_warning_when_the_period_cannot_reach_its_minimum_coverage(config_file: Any) -> None:
    """Nothing measured for most of the month: the verdict will be "not enough data", whatever happens."""
    cfg = config_file([{"name": "vps", "address": "127.0.0.1", "sla": {"preset": "ovhcloud-public-cloud"},
                        "checks": [{"kind": "icmp"}, {"kind": "http", "url": "http://127.0.0.1/"}]}], interval_s=300)
    settings, _ = load_config(cfg)
    store = Store.open(settings.database_url())
    write_history(store, settings.state_dir(), {"vps": ("u" * 288, 300.0)}, NOW - timedelta(days=1))
    bus, got = Bus(), []
    bus.sinks.append(got.append)
    asyncio.run(SlaWatch(settings, store, bus, lambda: NOW)._tier_check("vps"))
    store.close()
    assert got == []
