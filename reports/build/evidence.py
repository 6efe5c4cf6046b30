"""Evidence references of an incident: what a reader checks an incident against, quoted from
the stored rows (traceroutes taken when it opened, the first failing HTTP response, the failed
row range)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import timedelta
from typing import Any

from agent.core.times import from_us, iso, to_us
from agent.store import Store
from reports.analysis.incidents import TargetAnalysis
from reports.analysis.model import State
from reports.render.model import EvidenceRef

MARGIN = timedelta(hours=1)  # evidence read beyond the period, as the rounds are (summary.MARGIN)


def evidence_refs(store: Store, target_id: int, res: TargetAnalysis, interval_s: float, open_after: int,
                  http_ids: Sequence[int] = ()) -> dict[int, list[EvidenceRef]]:
    """Incident index → evidence references: traceroutes taken when it opened, the first failing
    HTTP response inside it (quoted from its stored row), and the range of failed rows."""
    out: dict[int, list[EvidenceRef]] = {}
    items = store.evidence_between([target_id], to_us(res.period_start - MARGIN), to_us(res.period_end + MARGIN))
    slack = timedelta(seconds=interval_s * (open_after + 2))
    for i, inc in enumerate(res.incidents):
        refs = [traceroute_ref(e) for e in items
                if inc.first_failed - slack <= from_us(e["ts_us"]) <= (inc.first_good_after or inc.end) + slack]
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


def traceroute_ref(e: dict[str, Any]) -> EvidenceRef:
    """A stored traceroute (an evidence row) as a reference: where it went, how far it got."""
    try:
        content = json.loads(e["content"])
    except ValueError:
        content = {}
    figures = content.get("figures") or {}
    hops = figures.get("hops") or []
    last = next((h.get("address") for h in reversed(hops) if h.get("address")), None)
    return EvidenceRef(type=e["kind"], ref=f"ev-{e['id']:04d}",
                       summary=f"to {content.get('to', '?')} ({content.get('address', '?')}) at {iso(e['ts_us'])}: "
                               f"{len(hops)} hops, last answering {last or 'none'}, reached={figures.get('reached')}; sha256 {e['sha256'][:16]}…")


def http_response_ref(row: dict[str, Any]) -> EvidenceRef:
    """A failing HTTP response as an evidence reference: status, a few telling headers and the
    start of the body, as stored (the report escapes it; the row holds all of it)."""
    try:
        d = json.loads(row["detail"]) if row.get("detail") else {}
    except ValueError:
        d = {}
    headers = {str(k).lower(): v for k, v in (d.get("headers") or {}).items()}
    shown = "; ".join(f"{k}: {headers[k]}" for k in ("server", "via", "retry-after", "content-type") if k in headers)
    body = " ".join(str(d.get("body_head") or "").split())
    if len(body) > 200:
        body = body[:200] + "…"
    status = row.get("status") or d.get("status")
    text = f"{'HTTP ' + str(status) if status else row.get('error_class') or 'failed'} at {iso(row['ts_us'])}"
    if row.get("error"):
        text += f" ({row['error']})"
    if shown:
        text += f"; headers {shown}"
    if body:
        text += f"; body: {body}"
    return EvidenceRef(type="http_response", ref=f"row {row['id']}", summary=text + f"; row sha256 {bytes(row['hash']).hex()[:16]}…")
