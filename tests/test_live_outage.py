"""A real outage (a veth link taken down) reaches a webhook and a mailbox on loopback as exactly
one 'confirmed' and one 'recovered' alert, with the times the link really went down and up."""

from __future__ import annotations

import asyncio
import re
import threading
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from agent.config import Target, load_config
from agent.core.result import ProbeResult
from agent.daemon import Daemon
from agent.store import Store
from agent.store.alerts import AlertLog
from tests.support.netns import requires_netns, test_host
from tests.support.receivers import smtp_server, webhook

SINCE = re.compile(r"has been down since (\d{4}-\d\d-\d\d \d\d:\d\d:\d\d) UTC")
UNTIL = re.compile(r"was down from \S+ \S+ UTC to (\d{4}-\d\d-\d\d \d\d:\d\d:\d\d) UTC")


class OkRounds:
    """A round observer: set when the target has had ``n`` good rounds (no sleeping to guess)."""

    def __init__(self, n: int) -> None:
        self.n = n
        self.seen = 0
        self.event = threading.Event()

    def observe(self, target: Target, scheduled: datetime, results: Sequence[ProbeResult]) -> None:
        self.seen += all(r.ok for r in results)
        if self.seen >= self.n:
            self.event.set()


def _utc(text: str) -> datetime:
    return datetime.strptime(text, "%Y-%m-%d %H:%M:%S").replace(tzinfo=UTC)


@requires_netns
@pytest.mark.root
def test_netns_outage_alerts_once_confirmed_once_recovered(config_file: Any) -> None:
    with test_host(41) as host, webhook() as hook, smtp_server() as box:
        cfg = config_file([{"name": "ns-vps", "address": host.peer_ip, "interval_s": 1, "service_id": "vm-7",
                            "checks": [{"kind": "icmp", "count": 1, "timeout_s": 0.5}]}],
                          batch_s=0.2, evidence_on_incident=False, alerts=[{"url": hook.url()}, {"url": box.url()}],
                          alerting={"retry_first_s": 0.2, "timeout_s": 10.0})
        settings, _ = load_config(cfg)
        store = Store.open(settings.database_url())
        d = Daemon(settings, store)
        warm = OkRounds(3)
        d.observers.append(warm)
        marks: dict[str, datetime] = {}
        failed: list[BaseException] = []

        def drive(loop: asyncio.AbstractEventLoop) -> None:
            try:
                assert warm.event.wait(30), "no good rounds before the outage"
                marks["down"] = datetime.now(UTC)
                host.link_down()
                hook.wait_for(1)  # the confirmation arrived while the link is down
                box.wait_for(1)
                host.link_up()
                marks["up"] = datetime.now(UTC)
                hook.wait_for(2)
                box.wait_for(2)
            except BaseException as e:  # reported by the test below
                failed.append(e)
            finally:
                host.link_up()
                loop.call_soon_threadsafe(d.stop_event.set)

        async def main() -> None:
            t = threading.Thread(target=drive, args=(asyncio.get_running_loop(),))
            t.start()
            try:
                await d.serve(duration_s=90)
            finally:
                await asyncio.to_thread(t.join, 60)

        asyncio.run(main())
    assert not failed, failed
    assert hook.received[0]["title"] == "[slaproof] Outage confirmed: ns-vps"
    assert len(hook.received) == 2 and hook.received[1]["title"].startswith("[slaproof] recovered after ")
    assert [m["Subject"] for m in box.messages] == [m["title"] for m in hook.received]
    since = _utc(SINCE.search(hook.received[0]["message"])[1])  # type: ignore[index]
    until = _utc(UNTIL.search(hook.received[1]["message"])[1])  # type: ignore[index]
    # Shown to the second: the first failed round starts within one interval (+ timeout) of the cut.
    assert marks["down"] - timedelta(seconds=1) <= since <= marks["down"] + timedelta(seconds=2), (since, marks)
    assert marks["up"] - timedelta(seconds=1) <= until <= marks["up"] + timedelta(seconds=2.5), (until, marks)
    assert "Service ID: vm-7." in hook.received[0]["message"]
    rows = AlertLog(store).between(0, 2**62)
    assert sorted((r.kind, r.status) for r in rows) == [("incident_confirmed", "sent")] * 2 + [("recovered", "sent")] * 2
    store.close()
