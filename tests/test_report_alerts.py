"""The report lists when the user was told: the alert log's rows about the period, in words, en and zh."""

from __future__ import annotations

import json
import re
from datetime import timedelta
from html import unescape
from pathlib import Path

from agent.core.times import to_us
from agent.store.alerts import AlertLog, AlertRow
from reports.build.bundle import write_bundle
from tests.support.proofs import T0, make_agent

END = T0 + timedelta(hours=1)


def _row(minute: int, kind: str, target: str | None, status: str, attempts: int = 1, error: str | None = None) -> AlertRow:
    at = to_us(T0 + timedelta(minutes=minute))
    return AlertRow(at, at + 1_000_000, at + 2_500_000, kind, target, f"{kind}:{target}:{minute}", "ntfy://…/slaproof", "en",
                    status, attempts, error, "title", "body")


def _page(folder: Path) -> str:
    return unescape(re.sub(r"<[^>]+>", " ", (folder / "report.html").read_text(encoding="utf-8")))


def test_alerts_about_the_period_are_listed_with_their_delivery(tmp_path: Path) -> None:
    a = make_agent(tmp_path)
    a.rows(30)  # five minutes of rows for both targets
    log = AlertLog(a.store, a.daemon.agent_id)
    for row in (_row(2, "incident_confirmed", "vps", "sent"), _row(3, "incident_confirmed", "other", "sent"),
                _row(4, "recovered", "vps", "failed", 4, "connection refused"), _row(5, "local_outage", None, "dropped"),
                _row(90, "recovered", "vps", "sent")):  # after the period: not this report's
        log.add(row)
    out = tmp_path / "en"
    write_bundle(a.settings, a.store, T0, END, ["vps"], ["json", "html"], "en", out, now=END)
    alerts = json.loads((out / "summary.json").read_text())["alerts"]
    assert [(x["kind"], x["target"], x["status"], x["attempts"]) for x in alerts] == [
        ("incident_confirmed", "vps", "sent", 1), ("recovered", "vps", "failed", 4), ("local_outage", None, "dropped", 1)]
    assert alerts[0]["event_at"] == "2026-11-03T02:02:00.000000Z" and alerts[0]["done_at"] == "2026-11-03T02:02:02.500000Z"
    page = _page(out)
    for words in ("When you were told: alerts sent", "outage confirmed", "not delivered after 4 attempts",
                  "the agent's own network down", "dropped: too many waiting"):
        assert words in page, words
    assert "connection refused" not in page  # the error's own text stays in summary.json (English, untrusted)
    zh = tmp_path / "zh"
    write_bundle(a.settings, a.store, T0, END, ["vps"], ["html"], "zh", zh, now=END)
    page = _page(zh)
    for words in ("何时得到通知：已发出的告警", "确认中断", "尝试 4 次后未能送达", "代理自身网络中断", "代理本身"):
        assert words in page, words
    a.close()


def test_no_alert_log_rows_no_section(tmp_path: Path) -> None:
    a = make_agent(tmp_path)
    a.rows(6)
    out = tmp_path / "b"
    write_bundle(a.settings, a.store, T0, END, None, ["json", "html"], "en", out, now=END)
    assert "alerts" not in json.loads((out / "summary.json").read_text())
    assert "When you were told" not in _page(out)
    a.close()


def test_a_new_daemon_resumes_the_incident_its_alert_log_left_open(tmp_path: Path) -> None:
    """The wiring reads the alert log when a daemon is made: an alerted, unrecovered incident is open in its tracker."""
    from agent.daemon import Daemon

    a = make_agent(tmp_path)
    since = to_us(T0 + timedelta(minutes=1))
    AlertLog(a.store, a.daemon.agent_id).add(AlertRow(since + 60_000_000, since + 60_000_000, since + 61_000_000,
                                                      "incident_confirmed", "vps", f"incident_confirmed:vps:{since}", "ntfy", "en",
                                                      "sent", 1, None, "t", "b"))
    a.close()
    again = Daemon(a.settings, a.store, clock=a.wall)
    st = again.live.tracker.state("vps")
    assert st.confirmed and st.since == T0 + timedelta(minutes=1) and not again.live.tracker.state("other").confirmed
