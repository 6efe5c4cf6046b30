"""Alerts on real receivers on loopback: a webhook (apprise json://) and an SMTP server (aiosmtpd)."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from agent.config import load_config
from agent.daemon import Daemon
from agent.live.events import Event, Kind
from agent.store import Store
from agent.store.alerts import AlertLog
from tests.support.receivers import smtp_server, webhook

T0 = datetime(2026, 11, 28, 10, 0, 0, tzinfo=UTC)
FAST = {"retry_first_s": 0.05, "retry_max_s": 0.2, "timeout_s": 10.0}


def _daemon(cfg: Path) -> Daemon:
    settings, _ = load_config(cfg)
    return Daemon(settings, Store.open(settings.database_url()))


def _events() -> list[Event]:
    since = T0 + timedelta(seconds=30)
    conf = Event(Kind.CONFIRMED, T0 + timedelta(seconds=60), "vps", "outage", since, None, 2, ("icmp timeout: no reply",), (), "vps:1")
    rec = Event(Kind.RECOVERED, T0 + timedelta(seconds=400), "vps", "outage", since, T0 + timedelta(seconds=400), 12, (), (), "vps:1")
    return [conf, conf, rec]  # the confirmation twice: de-duplicated


async def _deliver(d: Daemon, events: list[Event], wait: Any) -> None:
    assert d.live.alerts is not None
    await d.live.alerts.start()
    for e in events:
        d.live.bus.emit(e)
    await asyncio.to_thread(wait)
    await d.live.alerts.stop()


def test_failing_receiver_gets_the_alert_once_and_the_log_says_when(config_file: Any) -> None:
    with webhook(fail_first=2) as hook:
        cfg = config_file([{"name": "vps", "address": "127.0.0.1", "service_id": "inst-42", "checks": [{"kind": "icmp"}]}],
                          alerts=[{"url": hook.url(), "name": "ops hook"}], alerting=FAST)
        d = _daemon(cfg)
        asyncio.run(_deliver(d, _events(), lambda: hook.wait_for(2)))
    assert hook.refused == 2
    titles = [m["title"] for m in hook.received]
    assert titles == ["[slaproof] Outage confirmed: vps", "[slaproof] recovered after 6 min 10 s: vps"]
    assert "Service ID: inst-42." in hook.received[0]["message"]
    assert "since 2026-11-28 10:00:30 UTC" in hook.received[0]["message"]
    rows = AlertLog(d.store).between(0, 2**62)
    assert [(r.kind, r.status, r.attempts, r.destination) for r in rows] == [
        ("incident_confirmed", "sent", 3, "ops hook"), ("recovered", "sent", 1, "ops hook")]
    assert rows[0].target == "vps" and rows[0].event_us == int(conf_at_us()) and rows[0].done_us >= rows[0].queued_us
    d.store.close()


def conf_at_us() -> int:
    return int((T0 + timedelta(seconds=60)).timestamp() * 1_000_000)


def test_receiver_that_never_answers_is_given_up_and_logged(config_file: Any) -> None:
    with webhook(fail_first=100) as hook:
        cfg = config_file([{"name": "vps", "address": "127.0.0.1", "checks": [{"kind": "icmp"}]}],
                          alerts=[{"url": hook.url()}], alerting={**FAST, "retries": 2})
        d = _daemon(cfg)
        asyncio.run(_deliver(d, _events()[:1], lambda: None))
    rows = AlertLog(d.store).between(0, 2**62)
    # stop() came before the retries ended, or after: either way one row, failed, with the reason
    assert len(rows) == 1 and rows[0].status == "failed" and rows[0].error
    assert rows[0].destination == f"json://127.0.0.1:{hook.port}/hook"
    d.store.close()


def test_mail_in_chinese_holds_the_ticket_with_service_id_and_claim_rule(config_file: Any) -> None:
    with smtp_server() as box:
        cfg = config_file([{"name": "vps", "address": "127.0.0.1", "service_id": "ins-9", "provider": "OVHcloud",
                            "sla": {"preset": "ovhcloud-public-cloud"}, "checks": [{"kind": "icmp"}]}],
                          alerts=[{"url": box.url(), "language": "zh"}], alerting=FAST, timezone="Asia/Shanghai")
        d = _daemon(cfg)
        asyncio.run(_deliver(d, _events()[:1], lambda: box.wait_for(1)))
    (mail,) = box.messages
    assert mail["Subject"] == "[slaproof] 确认中断：vps"
    body = mail.get_body(("plain",)).get_content()
    assert "2026-11-28 18:00:30 CST (10:00:30 UTC)" in body and "服务 ID：ins-9。" in body
    assert "贵方 SLA 自工单提交时起计算停机时间" in body  # OVHcloud counts from the ticket
    assert "索赔渠道：OVHcloud support ticket。" in body and "2027-01-27" in body  # incident + 60 days
    d.store.close()


def test_secret_in_an_alert_url_is_masked_everywhere(config_file: Any, tmp_path: Path) -> None:
    secret_file = tmp_path / "hook.url"
    with webhook() as hook:
        secret_file.write_text(f"json://agent:S3cretPassw0rd@127.0.0.1:{hook.port}/hook\n")
        cfg = config_file([{"name": "vps", "address": "127.0.0.1", "checks": [{"kind": "icmp"}]}],
                          alerts=[{"url_file": str(secret_file)}], alerting=FAST)
        d = _daemon(cfg)
        asyncio.run(_deliver(d, _events()[:1], lambda: hook.wait_for(1)))
    (row,) = AlertLog(d.store).between(0, 2**62)
    assert "S3cretPassw0rd" not in repr(row), repr(row)
    assert row.destination == f"json://***@127.0.0.1:{hook.port}/hook"
    d.store.close()


def test_a_wrong_apprise_url_is_a_config_error_naming_the_key(config_file: Any) -> None:
    cfg = config_file([{"name": "vps", "address": "127.0.0.1", "checks": [{"kind": "icmp"}]}],
                      alerts=[{"url": "mailto://"}, {"url": "nosuch://TOPSECRET@x/y"}, {"url_env": "SLAPROOF_TEST_UNSET_VAR"}])
    r = subprocess.run([sys.executable, "-m", "agent.cli", "probe", "-c", str(cfg)], capture_output=True, text=True, timeout=60)
    assert r.returncode == 2, r.stderr
    assert "agent.alerts[0].url: apprise cannot use this mailto:// URL" in r.stderr
    assert "agent.alerts[1].url: apprise cannot use this nosuch:// URL" in r.stderr
    assert "agent.alerts[2].url_env: url_env SLAPROOF_TEST_UNSET_VAR: the environment variable is not set" in r.stderr
    assert "TOPSECRET" not in r.stderr and "Traceback" not in r.stderr


def test_agent_gap_found_at_start_is_said_once(config_file: Any, caplog: Any) -> None:
    import logging

    from agent.core.times import to_us
    from agent.live.wiring import GapCheck

    cfg = config_file([{"name": "vps", "address": "127.0.0.1", "checks": [{"kind": "icmp"}]}])
    settings, _ = load_config(cfg)
    store = Store.open(settings.database_url())
    now = T0 + timedelta(hours=5)
    d = Daemon(settings, store, clock=lambda: now)
    old = store.start_run(d.agent_id, to_us(T0), version="t", pid=1, config_hash=None)
    with store.engine.begin() as conn:
        store.heartbeat(conn, old, to_us(T0 + timedelta(hours=1)))
    d.run_id = store.start_run(d.agent_id, to_us(now), version="t", pid=2, config_hash=None)
    with caplog.at_level(logging.INFO, logger="slaproof.events"):
        asyncio.run(GapCheck(d, d.live.bus).start())
    (line,) = [r.getMessage() for r in caplog.records if "agent_gap" in r.getMessage()]
    assert "since=2026-11-28T11:00:00Z until=2026-11-28T15:00:00Z duration=\"4h 0m\"" in line
    assert "previous_stop=\"killed or crashed (no clean stop)\"" in line
    store.close()
