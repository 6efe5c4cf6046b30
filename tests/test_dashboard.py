"""The dashboard's pages over HTTP (Starlette's test client): escaping, bounds, read-only, the token."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from agent.config import load_config
from agent.serve.dashboard.app import Dashboard, make_app
from agent.store import Store
from agent.store.live import open_read_only
from reports.render.smokeping import bucket_rows, layout, quantiles, to_svg
from tests.support.history import write_history
from tests.support.wait import wait_until


@contextmanager
def served(app: Any) -> Iterator[httpx.Client]:
    """The app under a real uvicorn on a free loopback port; a client bound to it."""
    import socket
    import threading

    import uvicorn

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", access_log=False))
    t = threading.Thread(target=server.run, daemon=True)
    t.start()
    try:
        wait_until(lambda: server.started, "uvicorn to start", timeout_s=30)
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=60) as client:
            yield client
    finally:
        server.should_exit = True
        t.join(30)

EVIL = "<script>alert(1)</script>"
EVIL2 = "\"'><img src=x onerror=alert(2)>"
NOW = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)


@pytest.fixture
def dash(config_file: Any) -> Any:
    checks = [{"kind": "icmp"}, {"kind": "http", "url": "http://127.0.0.1/"}]
    cfg = config_file([{"name": EVIL, "address": "127.0.0.1", "checks": checks},
                       {"name": EVIL2, "address": "127.0.0.1", "provider": "<b>x</b>", "checks": checks}], interval_s=60)
    settings, _ = load_config(cfg)
    store = Store.open(settings.database_url())
    start = NOW - timedelta(hours=3)
    write_history(store, settings.state_dir(), {EVIL: ("u" * 60 + "D" * 10 + "u" * 110, 60.0), EVIL2: ("u" * 180, 60.0)}, start)
    store.close()
    ro = open_read_only(settings.database_url())
    d = Dashboard(settings, ro, settings.database_url(), clock=lambda: NOW)
    yield d
    ro.close()


def test_names_and_texts_are_escaped_everywhere(dash: Dashboard) -> None:
    with served(make_app(dash, None)) as c:
        dash.overview.refresh_figures()
        home = c.get("/")
        page = c.get("/target", params={"name": EVIL, "range": "24h"})
        other = c.get("/target", params={"name": EVIL2, "range": "7d"})
    for r in (home, page, other):
        assert r.status_code == 200
        assert "<script>" not in r.text and "<img" not in r.text and "<b>x</b>" not in r.text
        assert "default-src 'none'" in r.headers["content-security-policy"]
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in home.text and "&#34;&#39;&gt;&lt;img src=x onerror=alert(2)&gt;" in home.text
    assert "&lt;b&gt;x&lt;/b&gt;" in home.text
    assert "outage" in page.text and "HTTP 503" in page.text  # the incident and its failing response (evidence)
    assert "&lt;h1&gt;503 Service Unavailable&lt;/h1&gt;" in page.text  # the response body, escaped
    assert "94.444 %" in home.text  # 10 of 180 minutes down: today's availability by the report's method


def test_bounds_read_only_and_errors(dash: Dashboard) -> None:
    with served(make_app(dash, None)) as c:
        assert c.post("/").status_code == 405 and c.delete("/target").status_code == 405
        assert c.get("/target", params={"name": EVIL, "range": "3650d"}).status_code == 400
        assert c.get("/target", params={"name": "nope"}).status_code == 404
        big = c.get("/report.zip", params={"from": "2020-01-01", "to": "2026-11-28"})
        assert big.status_code == 400 and "at most 400" in big.text
        assert "is before from" in c.get("/report.zip", params={"from": "2026-11-20", "to": "2026-11-01"}).text
        assert "must be dates" in c.get("/report.zip", params={"from": "<x>", "to": "y"}).text


def test_token_needed_when_set(dash: Dashboard) -> None:
    with served(make_app(dash, "s3cret-token")) as c:
        assert c.get("/").status_code == 401
        assert c.get("/", headers={"Authorization": "Bearer wrong"}).status_code == 401
        basic = base64.b64encode(b"any:s3cret-token").decode()
        assert c.get("/", headers={"Authorization": f"Basic {basic}"}).status_code == 200
        assert c.get("/", headers={"Authorization": "Bearer s3cret-token"}).status_code == 200


def test_the_database_cannot_be_written_through_the_dashboard(dash: Dashboard) -> None:
    import sqlalchemy.exc

    with pytest.raises(sqlalchemy.exc.OperationalError, match=r"readonly|read-only"), dash.store.engine.begin() as conn:
        conn.exec_driver_sql("DELETE FROM measurements")


def test_smokeping_chart_geometry(tmp_path: Path) -> None:
    assert quantiles([1.0, 2.0, 3.0], 3) == (1.0, 2.0, 3.0) and quantiles([]) == ()
    rows = [(i * 1_000_000, i % 10 != 0, 20_000_000 + i * 1000, 3, 3 if i % 10 else 0) for i in range(600)]
    buckets = bucket_rows(rows, 0, 600_000_000, 60)
    assert len(buckets) == 60 and all(b.rounds == 10 for b in buckets)
    assert buckets[0].loss_pct == pytest.approx(10.0) and buckets[0].median_ms == pytest.approx(20.005)
    svg = to_svg(layout(buckets + [bucket_rows([], 0, 1, 1)[0]]), title="<t>")
    assert svg.startswith("<svg") and "<title>&lt;t&gt;</title>" in svg and svg.count("<rect") > 60
