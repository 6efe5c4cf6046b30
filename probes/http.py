"""HTTP(S) probe: status, keyword, timings split by phase, TLS certificate expiry.

How the timings are taken (all from ``time.perf_counter_ns``):

- ``dns_ms``: we resolve the URL's host ourselves (``loop.getaddrinfo``,
  timed), then connect to the first address, keeping the original name for
  the ``Host`` header and for TLS (SNI and certificate hostname check, via
  httpcore's ``sni_hostname`` extension). httpcore would otherwise resolve
  inside ``connect_tcp`` and DNS would hide in the connect time.
- ``connect_ms``: httpcore trace ``connection.connect_tcp.started`` → ``.complete``.
- ``tls_ms``: ``connection.start_tls.started`` → ``.complete`` (None for http).
- ``wait_ms``: request headers sent (``http11.send_request_headers.started``)
  → response headers parsed (``http11.receive_response_headers.complete``).
- ``ttfb_ms`` and ``total_ms`` count from the start of the check, like curl's
  ``time_starttransfer``/``time_total``: ttfb at the response headers,
  total after the capped body read and close. So total ≥ ttfb ≥ dns+connect+tls.

Phases that did not happen (a reused connection of an injected client, TLS
on plain http) are None, never 0. Redirects are not followed: a 3xx is the
answer (ok by default, status 200–399). Proxies from the environment are not
used by the default client: the evidence is about the direct path.
"""

from __future__ import annotations

import asyncio
import codecs
import ssl
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import httpx

from agent.core.result import (
    DNS,
    HTTP_STATUS,
    INTERNAL,
    KEYWORD,
    PERMISSION,
    PROTOCOL,
    REFUSED,
    TIMEOUT,
    TLS,
    UNREACHABLE,
    ProbeResult,
    utcnow,
)
from probes.tcp import classify_os_error, hostport, ms_between, resolve

KIND = "http"
DEFAULT_EXPECT = range(200, 400)


@dataclass
class _Trace:
    """Collects httpcore trace events with their perf_counter_ns time."""

    t0: int
    events: dict[str, int] = field(default_factory=dict)
    current: str | None = None  # the last phase started and not finished
    tls_stream: Any = None

    async def __call__(self, name: str, info: dict[str, Any]) -> None:
        now = time.perf_counter_ns()
        self.events.setdefault(name, now)
        phase, _, stage = name.rpartition(".")
        if phase.endswith(("response_closed", "connection.close")):
            pass  # clean-up after a failure must not hide where it failed
        elif stage == "started":
            self.current = phase
        elif stage == "complete" and self.current == phase:
            self.current = None  # a failed phase stays current: it names where it broke
        if name == "connection.start_tls.complete":
            self.tls_stream = info.get("return_value")

    def span(self, phase: str) -> float | None:
        a, b = self.events.get(f"{phase}.started"), self.events.get(f"{phase}.complete")
        return ms_between(a, b) if a is not None and b is not None else None

    def since_start(self, name: str) -> float | None:
        t = self.events.get(name)
        return ms_between(self.t0, t) if t is not None else None

    def between(self, start: str, end: str) -> float | None:
        a, b = self.events.get(start), self.events.get(end)
        return ms_between(a, b) if a is not None and b is not None else None

    def phase_name(self) -> str:
        """A short name of the phase in progress, for timeout messages."""
        cur = self.current or ""
        for key, label in (
            ("connect_tcp", "connect"),
            ("start_tls", "tls handshake"),
            ("send_request", "sending request"),
            ("receive_response_headers", "waiting for response headers"),
            ("receive_response_body", "reading body"),
        ):
            if key in cur:
                return label
        return cur or "request"


# --------------------------------------------------------------------------
# certificates


def _der_read(buf: bytes, pos: int) -> tuple[int, int, int]:
    """One DER TLV header at ``pos``: (tag, content start, content end)."""
    tag = buf[pos]
    length = buf[pos + 1]
    pos += 2
    if length & 0x80:
        n = length & 0x7F
        if n == 0 or n > 4:
            raise ValueError("unsupported DER length")
        length = int.from_bytes(buf[pos : pos + n], "big")
        pos += n
    if pos + length > len(buf):
        raise ValueError("truncated DER")
    return tag, pos, pos + length


def _der_time(tag: int, raw: bytes) -> datetime:
    text = raw.decode("ascii")
    if tag == 0x17:  # UTCTime YYMMDDHHMMSSZ (RFC 5280: YY < 50 → 20YY)
        year = int(text[:2])
        text = f"{2000 + year if year < 50 else 1900 + year}{text[2:]}"
    elif tag != 0x18:  # GeneralizedTime YYYYMMDDHHMMSSZ
        raise ValueError(f"unexpected time tag {tag:#x}")
    return datetime.strptime(text, "%Y%m%d%H%M%SZ").replace(tzinfo=UTC)


def der_not_after(der: bytes) -> datetime:
    """notAfter of a DER X.509 certificate (minimal parser, no dependency).

    Certificate ::= SEQUENCE { tbsCertificate SEQUENCE { [0] version OPTIONAL,
    serialNumber, signature, issuer, validity SEQUENCE { notBefore, notAfter } … } … }
    """
    _, cert_start, _ = _der_read(der, 0)
    _, pos, _ = _der_read(der, cert_start)  # into tbsCertificate
    tag, _, end = _der_read(der, pos)
    if tag == 0xA0:  # explicit version
        pos = end
    for _skip in range(3):  # serialNumber, signature algorithm, issuer
        _, _, pos = _der_read(der, pos)
    tag, vstart, _ = _der_read(der, pos)  # validity
    if tag != 0x30:
        raise ValueError("validity is not a SEQUENCE")
    _, _, nb_end = _der_read(der, vstart)  # notBefore
    tag, s, e = _der_read(der, nb_end)  # notAfter
    return _der_time(tag, der[s:e])


def cert_not_after(ssl_object: Any) -> datetime | None:
    """The peer certificate's notAfter, verified or not; None if there is no cert."""
    if ssl_object is None:
        return None
    peer = ssl_object.getpeercert()
    if peer and peer.get("notAfter"):
        return datetime.fromtimestamp(ssl.cert_time_to_seconds(peer["notAfter"]), UTC)
    der = ssl_object.getpeercert(binary_form=True)  # verify off: the dict is empty
    if not der:
        return None
    try:
        from cryptography import x509

        when: datetime = x509.load_der_x509_certificate(der).not_valid_after_utc
        return when
    except ImportError:
        return der_not_after(der)


def days_until(when: datetime, now: datetime) -> float:
    """Days (fractional, negative when past) from ``now`` to ``when``."""
    return round((when - now).total_seconds() / 86400.0, 3)


# --------------------------------------------------------------------------
# errors


def _chain(exc: BaseException) -> list[BaseException]:
    seen: list[BaseException] = []
    cur: BaseException | None = exc
    while cur is not None and cur not in seen and len(seen) < 16:
        seen.append(cur)
        cur = cur.__cause__ or cur.__context__
    return seen


def classify(exc: BaseException, phase: str | None) -> str:
    """Our error class for an exception raised while checking, given the phase."""
    chain = _chain(exc)
    if any(isinstance(e, (httpx.TimeoutException, TimeoutError)) for e in chain):
        return TIMEOUT
    if any(isinstance(e, (ssl.SSLError, ssl.CertificateError)) for e in chain):
        return TLS
    if phase and "start_tls" in phase:
        return TLS  # closed/reset during the handshake
    for e in chain:
        known = classify_os_error(e)
        if known is not None:
            return known
    if any(isinstance(e, (httpx.UnsupportedProtocol, httpx.InvalidURL)) for e in chain):
        return INTERNAL
    if any(isinstance(e, httpx.TransportError) for e in chain):
        # RemoteProtocolError, ReadError (reset), WriteError, DecodingError …
        return PROTOCOL
    if any(isinstance(e, httpx.DecodingError) for e in chain):
        return PROTOCOL
    return INTERNAL


_CLASS_WORDS = {
    TIMEOUT: "timed out",
    REFUSED: "connection refused",
    DNS: "name did not resolve",
    TLS: "TLS handshake failed",
    UNREACHABLE: "host or network unreachable",
    PERMISSION: "not permitted locally",
    PROTOCOL: "protocol error",
    INTERNAL: "unexpected error",
}


def _headers_dict(response: httpx.Response) -> dict[str, str]:
    """Response headers with their original names; repeated ones joined by ', '."""
    out: dict[str, str] = {}
    for raw_name, raw_value in response.headers.raw:
        name, value = raw_name.decode("latin-1"), raw_value.decode("latin-1")
        out[name] = f"{out[name]}, {value}" if name in out else value
    return out


def _keyword_in(body: bytes, keyword: str, encoding: str | None) -> bool:
    if keyword.encode("utf-8") in body:
        return True
    if encoding:
        try:
            codecs.lookup(encoding)
        except LookupError:
            return False
        return keyword in body.decode(encoding, errors="replace")
    return False


# --------------------------------------------------------------------------
# the probe


async def http_check(
    url: str,
    *,
    method: str = "GET",
    expect_status: Sequence[int] | None = None,
    keyword: str | None = None,
    timeout_s: float = 10.0,
    verify_tls: bool = True,
    body_cap_bytes: int = 65536,
    evidence_cap_bytes: int = 4096,
    client: httpx.AsyncClient | None = None,
    wall: Callable[[], datetime] = utcnow,
) -> ProbeResult:
    """One HTTP(S) request; ok when the status is expected and the keyword found.

    ``timeout_s`` bounds the whole check (DNS, connect, TLS, headers, body).
    The body is read streamed and never beyond ``body_cap_bytes``; the keyword
    is searched only there. On a failure with a response, ``figures`` carries
    ``status``, ``headers`` and ``body_head`` (first ``evidence_cap_bytes``).
    With an injected ``client`` its own TLS/timeout settings apply
    (``verify_tls`` is then not used). ``wall`` gives ``started_at`` and the
    "now" of ``cert_days``; the phase timings stay on ``time.perf_counter_ns``.
    """
    started_at = wall()
    expected = DEFAULT_EXPECT if expect_status is None else expect_status
    figures: dict[str, Any] = {"url": url, "method": method.upper()}
    state: dict[str, Any] = {"phase": "dns"}
    t0 = time.perf_counter_ns()  # reset below, once the client exists
    trace = _Trace(t0)

    def fail(error_class: str, message: str, **extra: Any) -> ProbeResult:
        figures.update(_timings(trace, figures, t0))
        figures.update(extra)
        return ProbeResult(
            kind=KIND, started_at=started_at, ok=False, figures=figures,
            error_class=error_class, error=message,
        )

    try:
        parsed = httpx.URL(url)
        if parsed.scheme not in ("http", "https") or not parsed.host:
            raise httpx.UnsupportedProtocol(f"not an http(s) URL: {url!r}")
    except (httpx.InvalidURL, httpx.UnsupportedProtocol, TypeError) as exc:
        return fail(INTERNAL, f"http {url}: bad URL: {exc}")
    host = parsed.host
    port = parsed.port or (443 if parsed.scheme == "https" else 80)
    where = f"{method.upper()} {url} ({hostport(host, port)})"
    own_client = client is None
    if client is None:
        # Building the client loads the CA bundle (tens of ms): not network time.
        client = httpx.AsyncClient(
            verify=verify_tls,
            timeout=httpx.Timeout(timeout_s),
            follow_redirects=False,
            trust_env=False,
        )
    t0 = trace.t0 = time.perf_counter_ns()
    response: httpx.Response | None = None
    body = bytearray()
    try:
        async with asyncio.timeout(timeout_s):
            addrs, dns_ms = await resolve(host, port)
            figures["dns_ms"] = dns_ms
            address = addrs[0][1][0]
            figures["address"] = address
            figures["port"] = port
            state["phase"] = "request"
            request = client.build_request(
                method.upper(),
                parsed.copy_with(host=address),
                headers={"Host": parsed.netloc.decode("ascii")},
                extensions={"trace": trace, "sni_hostname": host},
            )
            response = await client.send(request, stream=True)
            figures["status"] = response.status_code
            figures["http_version"] = response.http_version
            ssl_object = None
            stream = response.extensions.get("network_stream") or trace.tls_stream
            if stream is not None:  # also covers a reused connection (no start_tls event)
                ssl_object = stream.get_extra_info("ssl_object")
            not_after = cert_not_after(ssl_object)
            if not_after is not None:
                figures["cert_not_after"] = not_after.isoformat()
                figures["cert_days"] = days_until(not_after, wall())
            elif parsed.scheme == "https":
                figures["cert_days"] = None
            state["phase"] = "body"
            stopped_at_cap = False
            async for chunk in response.aiter_bytes():
                room = body_cap_bytes - len(body)
                if len(chunk) >= room:
                    body += chunk[:room]
                    stopped_at_cap = True
                    break
                body += chunk
            await response.aclose()  # unread rest: httpcore drops the connection
            figures["body_bytes"] = len(body)
            figures["body_truncated"] = stopped_at_cap
            figures.update(_timings(trace, figures, t0))
    except Exception as exc:
        phase = trace.current or state["phase"]
        error_class = classify(exc, phase)
        if error_class == TIMEOUT:
            detail = f"no answer within {timeout_s:g} s ({trace.phase_name() if trace.current else state['phase']})"
        else:
            detail = _CLASS_WORDS.get(error_class, "error")
            if error_class not in (REFUSED, DNS):  # those say all there is to say
                detail = f"{detail}: {str(exc) or type(exc).__name__}"
        extra: dict[str, Any] = {}
        if response is not None:
            extra = _evidence(response, bytes(body), evidence_cap_bytes)
            extra["body_bytes"] = len(body)
        return fail(error_class, f"http {where}: {detail}", **extra)
    finally:
        if response is not None:
            try:
                await response.aclose()
            except Exception:
                pass
        if own_client:
            await client.aclose()

    status = response.status_code
    if status not in expected:
        return fail(
            HTTP_STATUS,
            f"http {where}: status {status}, expected {_describe(expected)}",
            **_evidence(response, bytes(body), evidence_cap_bytes),
        )
    if keyword is not None:
        found = _keyword_in(bytes(body), keyword, response.charset_encoding)
        figures["keyword_found"] = found
        if not found:
            return fail(
                KEYWORD,
                f"http {where}: keyword {keyword!r} not in the first {len(body)} bytes of the body",
                **_evidence(response, bytes(body), evidence_cap_bytes),
            )
    return ProbeResult(
        kind=KIND, started_at=started_at, ok=True, rtt_ms=figures.get("total_ms"), figures=figures
    )


def _timings(trace: _Trace, figures: dict[str, Any], t0: int) -> dict[str, Any]:
    """Phase timings from the trace; total_ms is taken once, at the first call."""
    out: dict[str, Any] = {
        "connect_ms": trace.span("connection.connect_tcp"),
        "tls_ms": trace.span("connection.start_tls"),
        "wait_ms": trace.between(
            "http11.send_request_headers.started", "http11.receive_response_headers.complete"
        ),
        "ttfb_ms": trace.since_start("http11.receive_response_headers.complete"),
    }
    if "total_ms" not in figures:
        out["total_ms"] = ms_between(t0, time.perf_counter_ns())
    return out


def _evidence(response: httpx.Response, body: bytes, cap: int) -> dict[str, Any]:
    return {
        "status": response.status_code,
        "headers": _headers_dict(response),
        "body_head": body[:cap].decode("utf-8", errors="replace"),
    }


def _describe(expected: Sequence[int]) -> str:
    if isinstance(expected, range) and expected.step == 1 and len(expected) > 3:
        return f"{expected.start}–{expected.stop - 1}"
    return ", ".join(str(s) for s in expected)
