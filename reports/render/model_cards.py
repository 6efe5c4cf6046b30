"""The incident card's objects in the report model (reports/render/model.py imports them): what a reader
checks one provider incident against, read from the stored rows by reports/build/cards.py.

Kept apart only for the size of model.py; they are model objects like the others (summary.json
holds them under ``targets[].incidents[].card``; docs/summary.schema.json states them).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True, slots=True, kw_only=True)
class RoundCheck:
    """One check of a round, as its stored row says (the last good round before an incident, its first failing one)."""

    row_id: int
    at: datetime
    kind: str  # icmp, tcp, http
    ok: bool
    rtt_ms: float | None
    loss_pct: float | None  # ICMP: share of the round's echo requests unanswered
    status: int | None  # HTTP status
    error_class: str | None


@dataclass(frozen=True, slots=True, kw_only=True)
class TraceHop:
    """One TTL of a stored traceroute: who answered (None: nobody), the median of its answers."""

    ttl: int
    address: str | None
    rtt_ms: float | None
    answered: int
    sent: int
    note: str | None  # "!H", "!N" … as the traceroute reported it


@dataclass(frozen=True, slots=True, kw_only=True)
class Traceroute:
    """A traceroute the agent stored when the incident opened (evidence table; ``sha256`` of its stored text)."""

    ref: str  # "ev-0042"
    at: datetime
    to: str  # the target it was taken to: the incident's own, or a control target
    address: str
    control: bool
    reached: bool | None  # None: the traceroute itself failed
    hops: tuple[TraceHop, ...]
    error: str | None
    sha256: str


@dataclass(frozen=True, slots=True, kw_only=True)
class HttpResponse:
    """The first failing HTTP answer inside an incident, quoted from its row (untrusted text)."""

    row_id: int
    at: datetime
    status: int | None
    error_class: str | None
    error: str | None
    headers: Mapping[str, str]  # server, via, retry-after, content-type, as stored
    body_head: str  # the start of the body, whitespace collapsed, at most 200 characters
    row_sha256: str  # the row's chain hash, hex


@dataclass(frozen=True, slots=True, kw_only=True)
class IncidentCard:
    """The evidence of one provider incident as its card prints it (reports/build/cards.py)."""

    last_good: tuple[RoundCheck, ...]  # the checks of the last good round before it (empty: none in reach)
    first_failed: tuple[RoundCheck, ...]  # the checks of its first failing round
    traceroutes: tuple[Traceroute, ...]  # to the target and to a control target, taken when it opened
    http_response: HttpResponse | None
