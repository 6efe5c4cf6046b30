"""TCP connect probe against real loopback listeners (and an empty namespace for "unreachable")."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest

from agent.core.result import DNS, REFUSED, TIMEOUT, UNREACHABLE
from probes.tcp import tcp_check
from tests.support.servers import blackhole_port, closed_port, ipv6_loopback_available, tcp_listener

ROOT = Path(__file__).resolve().parents[1]
PYTHON = str(ROOT / ".venv" / "bin" / "python") if (ROOT / ".venv").exists() else sys.executable
LONG_NAME = ".".join(["a" * 60] * 5) + ".invalid"  # > 255 octets: glibc fails it without a query
SLACK_S = 3.0  # scheduling slack on a busy 2-core machine: bounds, not performance


@pytest.mark.parametrize(
    "host",
    ["127.0.0.1", pytest.param("::1", marks=pytest.mark.skipif(not ipv6_loopback_available(), reason="no ::1"))],
)
def test_connect_ok(host: str) -> None:
    with tcp_listener(host) as lst:
        res = asyncio.run(tcp_check(host, lst.port))
        assert lst.wait_accepted(1), "the listener never saw the connection"
        assert lst.accepted == 1
    assert res.ok and res.kind == "tcp" and res.error_class is None
    f = res.figures
    assert f["address"] == host and f["port"] == lst.port
    assert f["family"] == ("ipv6" if ":" in host else "ipv4")
    assert f["connect_ms"] >= 0 and f["dns_ms"] >= 0
    assert res.rtt_ms == f["connect_ms"]
    assert res.started_at.tzinfo is not None


def test_injected_clocks_date_the_result_and_time_dns_and_handshake() -> None:
    """With a fake monotonic clock the figures are exact: each reading 1.5 ms after the last."""
    ticks = iter(range(0, 10**12, 1_500_000))
    when = datetime(2024, 2, 29, 12, 0, 0, 123456, tzinfo=UTC)
    with tcp_listener() as lst:
        res = asyncio.run(tcp_check("127.0.0.1", lst.port, wall=lambda: when, clock_ns=lambda: next(ticks)))
    assert res.ok and res.started_at == when
    assert res.figures["dns_ms"] == 1.5 and res.figures["connect_ms"] == 1.5 == res.rtt_ms


def test_bracketed_ipv6_literal_is_accepted() -> None:
    if not ipv6_loopback_available():
        pytest.skip("no ::1")
    with tcp_listener("::1") as lst:
        res = asyncio.run(tcp_check("[::1]", lst.port))
    assert res.ok and res.figures["address"] == "::1"


def test_refused_names_host_and_port() -> None:
    port = closed_port()
    res = asyncio.run(tcp_check("127.0.0.1", port))
    assert not res.ok and res.error_class == REFUSED
    assert f"127.0.0.1:{port}" in (res.error or "")
    assert res.rtt_ms is None and "connect_ms" not in res.figures


def test_refused_ipv6_message_brackets_address() -> None:
    if not ipv6_loopback_available():
        pytest.skip("no ::1")
    port = closed_port("::1")
    res = asyncio.run(tcp_check("::1", port))
    assert res.error_class == REFUSED and f"[::1]:{port}" in (res.error or "")


def test_timeout_when_syn_is_dropped() -> None:
    with blackhole_port() as port:
        t0 = time.monotonic()
        res = asyncio.run(tcp_check("127.0.0.1", port, timeout_s=0.5))
        elapsed = time.monotonic() - t0
    assert not res.ok and res.error_class == TIMEOUT
    assert f"127.0.0.1:{port}" in (res.error or "") and "connect" in (res.error or "")
    assert 0.5 <= elapsed < 0.5 + SLACK_S


def test_dns_failure() -> None:
    res = asyncio.run(tcp_check(LONG_NAME, 80))
    assert not res.ok and res.error_class == DNS and "address" not in res.figures


@pytest.mark.root
@pytest.mark.skipif(os.geteuid() != 0 or shutil.which("ip") is None, reason="needs root for a network namespace")
def test_unreachable_without_route() -> None:
    """In a namespace with only loopback, 10.200.2.x has no route: ENETUNREACH."""
    ns = f"sptu{os.getpid()}"
    subprocess.run(["ip", "netns", "add", ns], check=True, capture_output=True, timeout=15)
    try:
        subprocess.run(["ip", "netns", "exec", ns, "ip", "link", "set", "lo", "up"], check=True, timeout=15)
        code = (
            "import asyncio, json\nfrom probes.tcp import tcp_check\n"
            "r = asyncio.run(tcp_check('10.200.2.9', 80, timeout_s=2))\n"
            "print(json.dumps([r.ok, r.error_class, r.error]))\n"
        )
        proc = subprocess.run(
            ["ip", "netns", "exec", ns, PYTHON, "-c", code], capture_output=True, text=True, timeout=30, cwd=ROOT
        )
        assert proc.returncode == 0, proc.stderr
        ok, error_class, error = json.loads(proc.stdout)
    finally:
        subprocess.run(["ip", "netns", "del", ns], capture_output=True, timeout=15)
    assert not ok and error_class == UNREACHABLE and "10.200.2.9:80" in error
