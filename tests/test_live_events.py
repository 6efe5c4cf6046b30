"""The live incident tracker and its log lines: pure, on made-up rounds."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from agent.config import Target
from agent.core import result as R
from agent.core.result import ProbeResult
from agent.live import text
from agent.live.events import Bus, Event, Evidence, Kind
from agent.live.loglines import line, log_event
from agent.live.tracker import IncidentTracker

T0 = datetime(2026, 11, 28, 10, 0, 0, tzinfo=UTC)
WEB = Target(name="web", address="203.0.113.5", checks=[{"kind": "icmp"}, {"kind": "tcp", "port": 443}])  # type: ignore[list-item]
CTL = Target(name="ctl", address="192.0.2.1", control=True, checks=[{"kind": "icmp"}])  # type: ignore[list-item]


def rnd(i: int, *oks: bool, err: str = R.TIMEOUT) -> list[ProbeResult]:
    at = T0 + timedelta(seconds=30 * i)
    kinds = ["icmp", "tcp", "http"]
    return [ProbeResult(kinds[j], at, ok, 1.0 if ok else None, {}, None if ok else err, None if ok else "no reply")
            for j, ok in enumerate(oks)]


class Recorder:
    def __init__(self) -> None:
        self.events: list[Event] = []

    def __call__(self, e: Event) -> None:
        self.events.append(e)

    def kinds(self) -> list[Kind]:
        return [e.kind for e in self.events]


def tracker(**kw: object) -> tuple[IncidentTracker, Recorder, list[str]]:
    bus, rec, confirmed = Bus(), Recorder(), []
    bus.sinks.append(rec)
    t = IncidentTracker(bus, open_after=2, still_down_every_min=5, on_confirm=lambda tg, rs: confirmed.append(tg.name), **kw)  # type: ignore[arg-type]
    return t, rec, confirmed


def feed(t: IncidentTracker, target: Target, i: int, *oks: bool, err: str = R.TIMEOUT) -> None:
    rs = rnd(i, *oks, err=err)
    t.observe(target, rs[0].started_at, rs)


def test_outage_opened_confirmed_reminded_recovered_with_times() -> None:
    t, rec, confirmed = tracker()
    feed(t, WEB, 0, True, True)
    for i in range(1, 13):  # 12 failed rounds: 10:00:30 .. 10:06:00
        feed(t, WEB, i, False, False)
    feed(t, WEB, 13, True, True)
    assert rec.kinds() == [Kind.OPENED, Kind.CONFIRMED, Kind.STILL_DOWN, Kind.RECOVERED]
    opened, conf, still, rec_ = rec.events
    assert opened.since == conf.since == T0 + timedelta(seconds=30)
    assert conf.at == T0 + timedelta(seconds=60) and conf.failed_rounds == 2 and conf.incident_kind == "outage"
    assert still.at == T0 + timedelta(seconds=330) and still.duration_s == 300.0  # 5 min after the first failure
    assert rec_.until == T0 + timedelta(seconds=390) and rec_.duration_s == 360.0
    assert confirmed == ["web"]  # the evidence hook, once
    assert len({conf.key, rec_.key}) == 1  # one incident, one key


def test_partial_blip_and_agent_side_failures() -> None:
    t, rec, _ = tracker()
    feed(t, WEB, 0, True, False)
    feed(t, WEB, 1, True, True)  # one failed round: a blip, never confirmed
    feed(t, WEB, 2, False, False, err=R.PERMISSION)  # the agent's own failure: no information
    feed(t, WEB, 3, True, False)
    feed(t, WEB, 4, True, False)
    assert rec.kinds() == [Kind.OPENED, Kind.BLIP, Kind.OPENED, Kind.CONFIRMED]
    assert rec.events[-1].incident_kind == "partial"
    assert t.state("web").confirmed


def test_failures_while_control_is_down_are_local_not_the_providers() -> None:
    t, rec, confirmed = tracker()
    feed(t, CTL, 0, True)
    feed(t, CTL, 1, False)
    feed(t, WEB, 1, False, False)
    feed(t, CTL, 2, False)  # control confirmed down: local outage
    feed(t, WEB, 2, False, False)  # would confirm, but the agent's network is down
    assert Kind.CONFIRMED not in rec.kinds() and Kind.LOCAL_OUTAGE in rec.kinds()
    feed(t, CTL, 3, True)
    assert rec.kinds()[-1] == Kind.LOCAL_RECOVERED
    feed(t, WEB, 3, False, False)  # the network is back, the target still fails: counted from here
    feed(t, WEB, 4, False, False)
    conf = rec.events[-1]
    assert conf.kind == Kind.CONFIRMED and conf.since == T0 + timedelta(seconds=90)
    assert confirmed == ["web"]


def test_certificate_and_budget_said_once_a_day() -> None:
    t, rec, _ = tracker(cert_days=14)
    site = Target(name="site", address="example.net", checks=[{"kind": "http", "url": "https://example.net/"}])  # type: ignore[list-item]
    for i in range(3):
        r = ProbeResult("http", T0 + timedelta(minutes=i), True, 5.0, {"cert_days": 9.5})
        t.observe(site, r.started_at, [r])
        b = ProbeResult("bandwidth", T0 + timedelta(minutes=i), False, None, {}, R.SKIPPED, "traffic budget: day 3,000.0 MB used")
        t.observe(site, b.started_at, [b])
    assert rec.kinds() == [Kind.CERT_EXPIRY, Kind.BUDGET_REACHED]
    assert rec.events[0].figures["days"] == "9.5"


def test_log_line_is_one_line_with_keys_and_no_secret(caplog: pytest.LogCaptureFixture) -> None:
    text.register(["hunter2-secret"])
    ev = Event(Kind.STILL_DOWN, T0 + timedelta(minutes=5), "web", "outage", T0, None, 10,
               ("http timeout: GET https://user:pw@example.net/?token=abc fail\nnext line", "icmp hunter2-secret"),
               (Evidence("traceroute", T0, "web", "stopped at hop 7"),), "web:1")
    msg = line(ev)
    assert "\n" not in msg and msg.startswith("still down: event=still_down target=web kind=outage since=2026-11-28T10:00:00Z")
    assert "duration=\"5m 0s\"" in msg and "failed_rounds=10" in msg and "traceroute web: stopped at hop 7" in msg
    assert "pw@" not in msg and "abc" not in msg and "hunter2-secret" not in msg
    with caplog.at_level(logging.INFO, logger="slaproof.events"):
        log_event(ev)
    assert caplog.records[-1].levelno == logging.INFO and caplog.records[-1].getMessage() == msg


def test_a_restarted_agent_carries_an_alerted_incident_on_and_tells_its_recovery(tmp_path: Path) -> None:
    """Confirmed (and alerted) before a restart, never recovered: the new tracker resumes it from the alert log, does
    not confirm it again, and tells RECOVERED under the same key, so the user's channel hears the end of it."""
    from agent.live.alerts.dispatcher import dedup_key
    from agent.store import Store
    from agent.store.alerts import AlertLog, AlertRow

    store = Store.open(f"sqlite:///{tmp_path / 'db.sqlite'}")
    agent_id = store.ensure_agent("a-1", 0)
    store.sync_targets(agent_id, [{"name": "web", "address": WEB.address, "checks": []}], 0)
    log = AlertLog(store, agent_id)
    first, rec, _ = tracker()
    for i in range(1, 4):
        feed(first, WEB, i, False, False)
    confirmed = next(e for e in rec.events if e.kind is Kind.CONFIRMED)
    at = int(confirmed.at.timestamp() * 1e6)
    log.add(AlertRow(at, at, at, Kind.CONFIRMED.value, "web", dedup_key(confirmed), "ntfy", "en", "sent", 1, None, "t", "b"))
    assert log.open_incidents() == [("web", confirmed.key, at)]

    second, rec2, confirmed2 = tracker()
    since = datetime.fromtimestamp(int(confirmed.key.rpartition(":")[2]) / 1e6, UTC)
    second.resume("web", since, T0 + timedelta(minutes=20))
    feed(second, WEB, 40, False, False)  # still failing after the restart: no second confirmation, no stale reminders
    feed(second, WEB, 41, True, True)
    assert rec2.kinds() == [Kind.RECOVERED] and confirmed2 == []
    assert rec2.events[0].key == confirmed.key and rec2.events[0].since == since
    recovered = rec2.events[0]
    log.add(AlertRow(at + 1, at + 1, at + 1, Kind.RECOVERED.value, "web", dedup_key(recovered), "ntfy", "en", "sent", 1, None,
                     "t", "b"))
    assert log.open_incidents() == []
    store.close()
