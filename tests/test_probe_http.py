"""HTTP(S) probe against real loopback servers: every error class produced for real."""

from __future__ import annotations

import asyncio
import ssl
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from agent.core.result import DNS, HTTP_STATUS, KEYWORD, PROTOCOL, REFUSED, TIMEOUT, TLS
from probes.http import cert_not_after, days_until, der_not_after, http_check
from tests.support.servers import (
    HttpServer,
    Reply,
    blackhole_port,
    closed_port,
    http_server,
    https_server,
    ipv6_loopback_available,
    self_signed_cert,
)

LONG_NAME = ".".join(["a" * 60] * 5) + ".invalid"  # > 255 octets: glibc fails it without a query
SLACK_S = 3.0  # scheduling slack on a busy 2-core machine: a bound, not a performance figure


def check(url: str, **kw: Any):  # type: ignore[no-untyped-def]
    return asyncio.run(http_check(url, **kw))


@pytest.fixture(scope="module")
def srv() -> Iterator[HttpServer]:
    with http_server() as s:
        s.routes["/503"] = Reply(
            status=503,
            headers={"Retry-After": "120", "X-Provider-Trace": "abc123", "Content-Type": "text/plain"},
            body=b"upstream down\n" + b"z" * 10_000,
        )
        s.routes["/redirect"] = Reply(status=302, headers={"Location": "/elsewhere"}, body=b"")
        s.routes["/stall"] = Reply(mode="stall")
        s.routes["/close"] = Reply(mode="close")
        s.routes["/truncate"] = Reply(mode="truncate", body=b"partial body")
        s.routes["/late-keyword"] = Reply(body=b"a" * 5000 + b"NEEDLE")
        s.routes["/latin1"] = Reply(headers={"Content-Type": "text/html; charset=iso-8859-1"}, body="Größe".encode("latin-1"))
        yield s


@pytest.fixture(scope="module")
def tls_srv(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[HttpServer, Any]]:
    with https_server(days=30, directory=tmp_path_factory.mktemp("cert")) as pair:
        yield pair


def assert_timings(f: dict[str, Any], *, tls: bool) -> None:
    for key in ("dns_ms", "connect_ms", "wait_ms", "ttfb_ms", "total_ms"):
        assert f[key] is not None and f[key] >= 0, key
    assert (f["tls_ms"] is not None and f["tls_ms"] >= 0) if tls else f["tls_ms"] is None
    assert f["total_ms"] >= f["ttfb_ms"] >= f["connect_ms"]
    assert f["ttfb_ms"] >= f["dns_ms"] + f["connect_ms"] + (f["tls_ms"] or 0) - 0.01


# -- success ----------------------------------------------------------------


def test_ok_with_keyword_and_timings(srv: HttpServer) -> None:
    res = check(srv.url("/"), keyword="slaproof")
    assert res.ok and res.kind == "http" and res.error_class is None, res.error
    f = res.figures
    assert f["status"] == 200 and f["http_version"] == "HTTP/1.1" and f["keyword_found"] is True
    assert f["address"] == "127.0.0.1" and f["body_truncated"] is False
    assert res.rtt_ms == f["total_ms"]
    assert_timings(f, tls=False)
    assert "headers" not in f and "body_head" not in f  # evidence only on failure
    # The Host header names what the user asked for, not the address we dialled.
    assert srv.requests[-1][2]["Host"] == f"127.0.0.1:{srv.port}"


def test_redirect_is_an_answer_not_followed(srv: HttpServer) -> None:
    res = check(srv.url("/redirect"))
    assert res.ok and res.figures["status"] == 302


def test_expect_status_overrides_default(srv: HttpServer) -> None:
    assert check(srv.url("/503"), expect_status=[503]).ok
    res = check(srv.url("/"), expect_status=[204])
    assert res.error_class == HTTP_STATUS and "204" in (res.error or "")


def test_head_request(srv: HttpServer) -> None:
    res = check(srv.url("/"), method="HEAD")
    assert res.ok and res.figures["body_bytes"] == 0 and srv.requests[-1][0] == "HEAD"


def test_keyword_in_declared_charset(srv: HttpServer) -> None:
    assert check(srv.url("/latin1"), keyword="Größe").ok


@pytest.mark.skipif(not ipv6_loopback_available(), reason="no IPv6 loopback (::1) here")
def test_ipv6_loopback() -> None:
    with http_server("::1") as s6:
        res = check(s6.url("/"), keyword="hello")
    assert res.ok, res.error
    assert res.figures["address"] == "::1" and res.figures["url"].startswith("http://[::1]:")


# -- failures with a response: evidence -----------------------------------------


def test_5xx_is_http_status_with_evidence(srv: HttpServer) -> None:
    res = check(srv.url("/503"), evidence_cap_bytes=100)
    assert not res.ok and res.error_class == HTTP_STATUS
    assert "503" in (res.error or "") and "200–399" in (res.error or "")
    f = res.figures
    assert f["status"] == 503
    assert f["headers"]["Retry-After"] == "120" and f["headers"]["X-Provider-Trace"] == "abc123"
    assert all(isinstance(v, str) for v in f["headers"].values())
    assert f["body_head"].startswith("upstream down\n") and len(f["body_head"]) == 100
    assert res.rtt_ms is None
    assert_timings(f, tls=False)


def test_keyword_missing_is_keyword_with_evidence(srv: HttpServer) -> None:
    res = check(srv.url("/"), keyword="not-there")
    assert not res.ok and res.error_class == KEYWORD and "not-there" in (res.error or "")
    assert res.figures["status"] == 200 and res.figures["keyword_found"] is False
    assert res.figures["body_head"].startswith("hello from slaproof")
    assert "Content-Length" in res.figures["headers"]


def test_keyword_beyond_body_cap_is_not_found(srv: HttpServer) -> None:
    assert check(srv.url("/late-keyword"), keyword="NEEDLE").ok
    res = check(srv.url("/late-keyword"), keyword="NEEDLE", body_cap_bytes=4096)
    assert res.error_class == KEYWORD and res.figures["body_bytes"] == 4096


def test_body_truncated_mid_way_is_protocol_with_partial_evidence(srv: HttpServer) -> None:
    res = check(srv.url("/truncate"))
    assert not res.ok and res.error_class == PROTOCOL
    assert res.figures["status"] == 200 and res.figures["body_head"] == "partial body"


def test_body_read_stops_at_cap() -> None:
    """64 MiB offered; the probe reads 1000 bytes and hangs up, so the server cannot send it all."""
    size = 64 * 1024 * 1024
    with http_server() as s:
        s.routes["/big"] = Reply(mode="big", big_bytes=size)
        res = check(s.url("/big"), body_cap_bytes=1000, keyword="x")
        assert s.big_done.wait(10), "server did not see the client go away"
        sent = s.sent[0]
    assert res.ok and res.figures["body_bytes"] == 1000 and res.figures["body_truncated"] is True
    assert not sent.completed
    # What the server could push is bounded by socket buffers, not by the body size.
    assert sent.sent < size // 4


# -- failures without a response -------------------------------------------------


def test_connection_refused() -> None:
    port = closed_port()
    res = check(f"http://127.0.0.1:{port}/")
    assert not res.ok and res.error_class == REFUSED and f"127.0.0.1:{port}" in (res.error or "")
    assert "status" not in res.figures and res.figures["connect_ms"] is None


def test_stalled_server_times_out(srv: HttpServer) -> None:
    t0 = time.monotonic()
    res = check(srv.url("/stall"), timeout_s=0.5)
    elapsed = time.monotonic() - t0
    assert not res.ok and res.error_class == TIMEOUT
    assert "waiting for response headers" in (res.error or "")
    assert res.figures["connect_ms"] is not None and res.figures["ttfb_ms"] is None
    assert 0.5 <= elapsed < 0.5 + SLACK_S


def test_connect_timeout() -> None:
    with blackhole_port() as port:
        res = check(f"http://127.0.0.1:{port}/", timeout_s=0.5)
    assert res.error_class == TIMEOUT and "connect" in (res.error or "")


def test_closed_without_response_is_protocol(srv: HttpServer) -> None:
    res = check(srv.url("/close"))
    assert not res.ok and res.error_class == PROTOCOL and "status" not in res.figures


def test_dns_failure() -> None:
    res = check(f"http://{LONG_NAME}/")
    assert not res.ok and res.error_class == DNS


def test_not_http_url_is_internal() -> None:
    res = check("ftp://127.0.0.1/")
    assert not res.ok and res.error_class == "internal"


# -- TLS ------------------------------------------------------------------------


def test_self_signed_fails_verification(tls_srv: tuple[HttpServer, Any]) -> None:
    s, _certs = tls_srv
    res = check(s.url("/"))
    assert not res.ok and res.error_class == TLS and "certificate" in (res.error or "").lower()
    assert res.figures["connect_ms"] is not None and "status" not in res.figures


def test_verify_off_reports_cert_days(tls_srv: tuple[HttpServer, Any]) -> None:
    """The injected wall clock dates the check and is the "now" of cert_days, to the day fraction."""
    s, certs = tls_srv
    now = certs.not_after - timedelta(days=12, hours=6)
    res = check(s.url("/"), verify_tls=False, keyword="hello", wall=lambda: now)
    assert res.ok, res.error
    f = res.figures
    assert res.started_at == now and f["cert_days"] == 12.25
    assert f["cert_not_after"] == certs.not_after.isoformat()
    assert_timings(f, tls=True)
    expired = check(s.url("/"), verify_tls=False, wall=lambda: certs.not_after + timedelta(hours=36))
    assert expired.ok and expired.figures["cert_days"] == -1.5


def test_verified_by_name_with_trusted_ca(tls_srv: tuple[HttpServer, Any]) -> None:
    """We dial the address but verify the name: 'localhost' must match the cert's SAN."""
    s, certs = tls_srv
    ctx = ssl.create_default_context(cafile=str(certs.cert))

    async def go() -> Any:
        async with httpx.AsyncClient(verify=ctx) as client:
            return await http_check(f"https://localhost:{s.port}/", client=client)

    res = asyncio.run(go())
    assert res.ok, res.error
    assert 29.9 < res.figures["cert_days"] <= 30.0 and res.figures["tls_ms"] is not None
    assert s.requests[-1][2]["Host"] == f"localhost:{s.port}"


def test_hostname_mismatch_is_still_caught(tmp_path: Path) -> None:
    """Dialling 127.0.0.1 for https://localhost must not bypass the hostname check."""
    with https_server(san=["IP:127.0.0.1"], directory=tmp_path) as (s, certs):
        ctx = ssl.create_default_context(cafile=str(certs.cert))

        async def go(host: str) -> Any:
            async with httpx.AsyncClient(verify=ctx) as client:
                return await http_check(f"https://{host}:{s.port}/", client=client)

        assert asyncio.run(go("127.0.0.1")).ok
        res = asyncio.run(go("localhost"))
    assert res.error_class == TLS and "localhost" in (res.error or "")


# -- certificate parsing (pure) ----------------------------------------------------


@pytest.mark.parametrize("days", [30, 12000])  # UTCTime, and GeneralizedTime past 2049
def test_der_not_after_matches_openssl(tmp_path: Path, days: int) -> None:
    certs = self_signed_cert(tmp_path, days=days)
    der = ssl.PEM_cert_to_DER_cert(certs.cert.read_text())
    assert der_not_after(der) == certs.not_after


def test_cert_not_after_without_verification_dict(tmp_path: Path) -> None:
    """Under CERT_NONE getpeercert() is {}: the DER form must still give notAfter."""

    class Unverified:
        def __init__(self, der: bytes) -> None:
            self.der = der

        def getpeercert(self, binary_form: bool = False) -> Any:
            return self.der if binary_form else {}

    certs = self_signed_cert(tmp_path, days=7)
    der = ssl.PEM_cert_to_DER_cert(certs.cert.read_text())
    assert cert_not_after(Unverified(der)) == certs.not_after
    assert cert_not_after(Unverified(b"")) is None
    assert cert_not_after(None) is None


def test_days_until() -> None:
    now = datetime(2026, 1, 1, tzinfo=UTC)
    assert days_until(now + timedelta(days=10, hours=12), now) == 10.5
    assert days_until(now - timedelta(days=1), now) == -1.0
