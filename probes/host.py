"""The ``host`` probe: fetch the rented machine's own readings from ``slaproof serve --host``.

One poll is one ``GET /host?since=<instance>:<seq>`` with the bearer token,
under one total deadline (a server that trickles its answer a byte at a time
is as late as one that says nothing). Each new reading becomes one result,
timed on the agent's clock: the moment the agent received the answer, less
the reading's age by the host's own clock (so an offset of the host's clock
does not move it; the offset itself is kept with the row, with the host's
time and its sync state).

Whatever goes wrong is one failed result naming it (no answer, refused,
wrong token, a malformed answer, readings that stopped), never an exception:
a failed poll is evidence about the responder, not an outage of the target.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import httpx
from pydantic import ValidationError

from agent.core.result import HTTP_STATUS, INTERNAL, PROTOCOL, TIMEOUT, ProbeResult, utcnow
from agent.core.times import from_us, iso, to_us
from probes.bandwidth_http import classify_httpx
from probes.host_model import HostAnswer, Reading

KIND = "host"
MAX_ANSWER_BYTES = 4 << 20  # 500 readings of about 2 KB each, with room to spare
STALE = "stale"  # the responder answers but has taken no reading for too long
STALE_AFTER_INTERVALS = 2.5
STALE_GRACE_S = 60.0


@dataclass(frozen=True)
class HostProbeSettings:
    url: str  # the responder's base URL; /host is appended
    token: str | None = None
    timeout_s: float = 10.0
    verify_tls: bool = True


@dataclass(frozen=True)
class Poll:
    """The results of one poll, and the cursor to send next time (unchanged when nothing new arrived)."""

    results: list[ProbeResult]
    since: str | None


def endpoint(base: str) -> str:
    return base.rstrip("/") + "/host"


def _failed(at: datetime, error_class: str, error: str, status: int | None = None) -> ProbeResult:
    figures: dict[str, Any] = {"status": status} if status is not None else {}
    return ProbeResult(KIND, at, False, figures=figures, error_class=error_class, error=error)


def describe_validation(e: ValidationError) -> str:
    """The first problems of a malformed answer by key path, never the offending values."""
    parts = []
    for err in e.errors()[:3]:
        loc = ".".join(str(p) for p in err["loc"]) or "(top level)"
        parts.append(f"{loc}: {err['msg']}")
    more = f" (+{e.error_count() - 3} more)" if e.error_count() > 3 else ""
    return "malformed answer: " + "; ".join(parts) + more


async def _fetch(client: httpx.AsyncClient, url: str, params: dict[str, str], headers: dict[str, str]) -> tuple[int, bytes]:
    async with client.stream("GET", url, params=params, headers=headers) as resp:
        if resp.status_code != 200:
            return resp.status_code, b""
        body = bytearray()
        async for chunk in resp.aiter_bytes():
            body += chunk
            if len(body) > MAX_ANSWER_BYTES:
                raise _TooLargeError
        return 200, bytes(body)


class _TooLargeError(Exception):
    pass


def reading_result(r: Reading, answer: HostAnswer, received_us: int, offset_us: int, poll_us: int) -> ProbeResult:
    """One reading as a result on the agent's clock: the answer's arrival less the reading's age on the host."""
    at_us = received_us - max(0, answer.now_us - r.taken_at_us)
    figures = {
        "instance": answer.instance,
        "host_taken_at": iso(r.taken_at_us),
        "host_offset_ms": round(offset_us / 1000, 3),  # host clock − agent clock, ± half the poll's round trip
        "poll_ms": round(poll_us / 1000, 3),
        "received_at": iso(received_us),
        "reading": r.model_dump(mode="json"),
    }
    parts = list(r.errors) + ([f"disk {e}" for e in r.disk.errors] if r.disk is not None else [])
    return ProbeResult(KIND, from_us(at_us), True, figures=figures, error="; ".join(parts)[:1000] or None)


async def poll_host(settings: HostProbeSettings, since: str | None, *, wall: Callable[[], datetime] = utcnow,
                    client: httpx.AsyncClient | None = None) -> Poll:
    """One poll: the new readings as results, or one failed result saying why there are none."""
    own = client is None
    http = client or httpx.AsyncClient(http1=True, http2=False, trust_env=False, verify=settings.verify_tls,
                                       follow_redirects=False, timeout=httpx.Timeout(settings.timeout_s))
    sent = wall()  # after the client is made (its TLS context takes tens of ms): the poll's round trip starts here
    headers = {"Accept": "application/json", "Accept-Encoding": "identity"}
    if settings.token:
        headers["Authorization"] = f"Bearer {settings.token}"
    try:
        status, body = await asyncio.wait_for(_fetch(http, endpoint(settings.url), {"since": since} if since else {}, headers),
                                              settings.timeout_s)
    except TimeoutError:
        return Poll([_failed(sent, TIMEOUT, f"no complete answer within {settings.timeout_s:g} s")], since)
    except _TooLargeError:
        return Poll([_failed(sent, PROTOCOL, f"answer larger than {MAX_ANSWER_BYTES} bytes")], since)
    except httpx.HTTPError as e:
        cls, msg = classify_httpx(e)
        return Poll([_failed(sent, cls, msg)], since)
    except Exception as e:  # a bug here is the agent's: recorded as such, never raised into the round
        return Poll([_failed(sent, INTERNAL, f"{type(e).__name__}: {e}")], since)
    finally:
        if own:
            await http.aclose()
    received = wall()
    if status in (401, 403):
        return Poll([_failed(sent, HTTP_STATUS, f"the responder refused the token (HTTP {status})", status)], since)
    if status != 200:
        return Poll([_failed(sent, HTTP_STATUS, f"HTTP {status} from the host endpoint (is the responder run with --host?)",
                             status)], since)
    return parse_answer(body, since, sent, received)


def parse_answer(body: bytes, since: str | None, sent: datetime, received: datetime) -> Poll:
    """The checked answer as results; a malformed one is one failed result."""
    try:
        answer = HostAnswer.model_validate(json.loads(body))
    except ValueError as e:  # not JSON, not UTF-8, or a ValidationError (a ValueError too)
        msg = describe_validation(e) if isinstance(e, ValidationError) else "malformed answer: not JSON"
        return Poll([_failed(sent, PROTOCOL, msg)], since)
    sent_us, received_us = to_us(sent), to_us(received)
    offset_us = answer.now_us - (sent_us + (received_us - sent_us) // 2)
    results = [reading_result(r, answer, received_us, offset_us, received_us - sent_us) for r in answer.readings]
    if answer.readings:
        return Poll(results, f"{answer.instance}:{answer.readings[-1].seq}")
    newest = answer.last_taken_at_us if answer.last_taken_at_us is not None else answer.started_us
    stale_s = STALE_AFTER_INTERVALS * answer.every_s + STALE_GRACE_S
    if (answer.now_us - newest) / 1e6 > stale_s:  # both on the host's clock: its offset cancels
        return Poll([_failed(sent, STALE, f"the responder has taken no new reading for more than {stale_s:.0f} s")], since)
    return Poll([], since)
