"""Evidence of an incident: what a reader checks an incident against, quoted from the stored rows
(traceroutes taken when it opened, the first failing HTTP response, the failed row range).

Two shapes of the same facts: references with a one-line English summary (summary.json's
``evidence``, for machines and grep) and typed objects (the incident card, which the renderers
print in the report's language).
"""

from __future__ import annotations

import json
import statistics
from collections.abc import Mapping, Sequence
from datetime import timedelta
from typing import Any

from agent.core.times import from_us, iso, to_us
from agent.store import Store
from reports.analysis.incidents import Incident, TargetAnalysis
from reports.analysis.model import State
from reports.render.model import EvidenceRef, HttpResponse, TraceHop, Traceroute

MARGIN = timedelta(hours=1)  # evidence read beyond the period, as the rounds are (summary.MARGIN)
SHOWN_HEADERS = ("server", "via", "retry-after", "content-type")
BODY_SHOWN = 200  # characters of a failing response's body quoted


def stored_evidence(store: Store, target_id: int, res: TargetAnalysis) -> list[dict[str, Any]]:
    """The target's stored evidence rows over the period and its margin, by time."""
    return store.evidence_between([target_id], to_us(res.period_start - MARGIN), to_us(res.period_end + MARGIN))


def taken_for(inc: Incident, items: Sequence[dict[str, Any]], interval_s: float, open_after: int) -> list[dict[str, Any]]:
    """The evidence rows taken while ``inc`` opened or lasted (the agent takes them when it opens)."""
    slack = timedelta(seconds=interval_s * (open_after + 2))
    return [e for e in items if inc.first_failed - slack <= from_us(e["ts_us"]) <= (inc.first_good_after or inc.end) + slack]


def evidence_refs(store: Store, target_id: int, res: TargetAnalysis, interval_s: float, open_after: int,
                  http_ids: Sequence[int] = (), items: Sequence[dict[str, Any]] | None = None) -> dict[int, list[EvidenceRef]]:
    """Incident index → evidence references: traceroutes taken when it opened, the first failing
    HTTP response inside it (quoted from its stored row), and the range of failed rows."""
    out: dict[int, list[EvidenceRef]] = {}
    items = stored_evidence(store, target_id, res) if items is None else items
    for i, inc in enumerate(res.incidents):
        refs = [traceroute_ref(e) for e in taken_for(inc, items, interval_s, open_after)]
        if http_ids and inc.kind is not State.LOCAL:
            resp = store.first_failed_with_detail(http_ids, to_us(inc.first_failed), to_us(inc.last_failed) + 1)
            if resp is not None:
                refs.append(http_response_ref(resp))
        if inc.first_row_id is not None:
            refs.append(EvidenceRef(type="rows", ref=f"{inc.first_row_id}–{inc.last_row_id}",
                                    summary=f"{inc.rounds_failed} failed rounds; errors: "
                                            + ", ".join(f"{k} ×{v}" for k, v in sorted(inc.error_classes.items()))))
        out[i] = refs
    return out


def _content(e: Mapping[str, Any]) -> dict[str, Any]:
    try:
        content = json.loads(e["content"])
    except ValueError:
        return {}
    return content if isinstance(content, dict) else {}


def traceroute_ref(e: dict[str, Any]) -> EvidenceRef:
    """A stored traceroute (an evidence row) as a reference: where it went, how far it got."""
    content = _content(e)
    figures = content.get("figures") or {}
    hops = figures.get("hops") or []
    last = next((h.get("address") for h in reversed(hops) if h.get("address")), None)
    return EvidenceRef(type=e["kind"], ref=f"ev-{e['id']:04d}",
                       summary=f"to {content.get('to', '?')} ({content.get('address', '?')}) at {iso(e['ts_us'])}: "
                               f"{len(hops)} hops, last answering {last or 'none'}, reached={figures.get('reached')}; sha256 {e['sha256'][:16]}…")


def traceroute(e: Mapping[str, Any], controls: frozenset[str]) -> Traceroute:
    """A stored traceroute as the card's table: one hop per TTL, who answered and the median RTT."""
    content = _content(e)
    figures = content.get("figures") or {}
    hops = []
    for h in figures.get("hops") or []:
        rtts = [float(x) for x in h.get("rtts_ms") or [] if isinstance(x, (int, float))]
        hops.append(TraceHop(ttl=int(h.get("ttl") or 0), address=h.get("address") or None,
                             rtt_ms=statistics.median(rtts) if rtts else None, answered=len(rtts),
                             sent=int(h.get("sent") or len(rtts)), note=h.get("note") or None))
    reached = figures.get("reached") if content.get("figures") is not None else None
    to = str(content.get("to") or "")
    return Traceroute(ref=f"ev-{e['id']:04d}", at=from_us(e["ts_us"]), to=to, address=str(content.get("address") or ""),
                      control=to in controls, reached=reached if isinstance(reached, bool) else None, hops=tuple(hops),
                      error=content.get("error") or None, sha256=str(e["sha256"]))


def _detail(row: Mapping[str, Any]) -> dict[str, Any]:
    try:
        d = json.loads(row["detail"]) if row.get("detail") else {}
    except ValueError:
        return {}
    return d if isinstance(d, dict) else {}


def _headers(d: Mapping[str, Any]) -> dict[str, str]:
    headers = {str(k).lower(): str(v) for k, v in (d.get("headers") or {}).items()}
    return {k: headers[k] for k in SHOWN_HEADERS if k in headers}


def _body(d: Mapping[str, Any]) -> str:
    body = " ".join(str(d.get("body_head") or "").split())
    return body[:BODY_SHOWN] + "…" if len(body) > BODY_SHOWN else body


def http_response_ref(row: dict[str, Any]) -> EvidenceRef:
    """A failing HTTP response as an evidence reference: status, a few telling headers and the
    start of the body, as stored (the report escapes it; the row holds all of it)."""
    d = _detail(row)
    shown = "; ".join(f"{k}: {v}" for k, v in _headers(d).items())
    body = _body(d)
    status = row.get("status") or d.get("status")
    text = f"{'HTTP ' + str(status) if status else row.get('error_class') or 'failed'} at {iso(row['ts_us'])}"
    if row.get("error"):
        text += f" ({row['error']})"
    if shown:
        text += f"; headers {shown}"
    if body:
        text += f"; body: {body}"
    return EvidenceRef(type="http_response", ref=f"row {row['id']}", summary=text + f"; row sha256 {bytes(row['hash']).hex()[:16]}…")


def http_response(row: Mapping[str, Any]) -> HttpResponse:
    """The first failing HTTP answer of an incident, for its card."""
    d = _detail(row)
    status = row.get("status") or d.get("status")
    return HttpResponse(row_id=int(row["id"]), at=from_us(row["ts_us"]), status=int(status) if status else None,
                        error_class=row.get("error_class"), error=row.get("error"), headers=_headers(d), body_head=_body(d),
                        row_sha256=bytes(row["hash"]).hex())
