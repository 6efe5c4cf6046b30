"""Incident cards: one per provider incident, the evidence a support agent asks for, in the report's words.

A card: the incident with 30 minutes each side (chart), the last good and first failing rounds as
their rows say, where the end lies, rounds failed and answered inside it, the error classes in
words, the first failing HTTP answer (quoted, untrusted), the traceroutes to the target and to a
control target taken when it opened (hops as a table), and the row range that proves it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, tzinfo

from reports.render.blocks import Block, Chart, Group, Heading, KeyValues, Para, Table
from reports.render.content_parts import DASH, duration_cell, time_range
from reports.render.i18n import LABELS, fmt_duration, fmt_ms, fmt_time, kind_label, label
from reports.render.model import HttpResponse, IncidentEntry, RoundCheck, TargetReport, Traceroute
from reports.render.vector import Figure

HOPS_SHOWN = 30


def error_words(name: str, lang: str) -> str:
    """An error class in words (an unknown class prints as it is: it is a stored value)."""
    key = f"err.{name}"
    return label(key, lang) if key in LABELS else name


def errors_text(classes: Mapping[str, int], lang: str) -> str:
    return "\n".join(label("err.count", lang, what=error_words(k, lang), n=v) for k, v in sorted(classes.items())) or DASH


def _check(c: RoundCheck, lang: str) -> str:
    kind = c.kind.upper()
    if c.ok:
        if c.kind == "icmp" and c.loss_pct:
            what = label("round.icmp_lossy", lang, rtt=fmt_ms(c.rtt_ms), loss=f"{c.loss_pct:.0f}")
        elif c.status:
            what = label("round.http_ok", lang, status=c.status, rtt=fmt_ms(c.rtt_ms))
        else:
            what = label("round.ok", lang, rtt=fmt_ms(c.rtt_ms))
    elif c.status:
        what = label("round.http_failed", lang, status=c.status)
    else:
        what = error_words(c.error_class or "unclassified", lang)
    return f"{kind}: {what}"


def round_text(checks: tuple[RoundCheck, ...], zone: tzinfo, lang: str) -> str:
    if not checks:
        return label("round.none", lang)
    at = fmt_time(checks[0].at, zone)
    rows = ", ".join(str(c.row_id) for c in checks)
    return f"{at}\n" + "; ".join(_check(c, lang) for c in checks) + "\n" + label("round.rows", lang, rows=rows)


def _edge(moment: datetime | None, zone: tzinfo, lang: str) -> str:
    return fmt_time(moment, zone) if moment is not None else label("round.not_seen", lang)


def _http(resp: HttpResponse, zone: tzinfo, lang: str) -> str:
    head = label("http.status", lang, status=resp.status) if resp.status else error_words(resp.error_class or "unclassified", lang)
    lines = [f"{head} · {fmt_time(resp.at, zone)} · {label('round.row', lang, row=resp.row_id)}"]
    lines += [f"\u201c{k}: {v}\u201d" for k, v in resp.headers.items()]
    if resp.body_head:
        lines.append(label("http.body", lang) + f" \u201c{resp.body_head}\u201d")
    return "\n".join(lines)


def _trace_head(tr: Traceroute, zone: tzinfo, lang: str) -> str:
    if tr.reached is None:
        outcome = label("trace.failed", lang)
    else:
        outcome = label("trace.reached" if tr.reached else "trace.not_reached", lang)
    whom = label("trace.control" if tr.control else "trace.target", lang, name=tr.to, address=tr.address)
    return label("trace.head", lang, whom=whom, at=fmt_time(tr.at, zone), outcome=outcome, ref=tr.ref, sha=tr.sha256[:16])


def _hop_cells(tr: Traceroute, ttl: int, lang: str) -> list[str]:
    hop = next((h for h in tr.hops if h.ttl == ttl), None)
    if hop is None:
        return ["", ""]
    rtt = DASH if hop.rtt_ms is None else f"{hop.rtt_ms:.1f} ms"
    return [hop.address or label("trace.silent", lang), f"{rtt} ({hop.answered}/{hop.sent}{' ' + hop.note if hop.note else ''})"]


def traceroute_blocks(traces: Sequence[Traceroute], zone: tzinfo, lang: str) -> list[Block]:
    """The traceroutes' outcomes in words, their hops side by side (the target's beside a control target's)."""
    shown = list(traces[:2])
    blocks: list[Block] = [Para("\n".join(_trace_head(tr, zone, lang) for tr in shown), "small")]
    ttls = sorted({h.ttl for tr in shown for h in tr.hops})[:HOPS_SHOWN]
    if ttls:
        header = [label("trace.ttl", lang)]
        for tr in shown:
            header += [label("trace.address_to", lang, name=tr.to), label("trace.rtt", lang)]
        rows = [[str(ttl)] + [c for tr in shown for c in _hop_cells(tr, ttl, lang)] for ttl in ttls]
        widths = [0.07] + [0.27, 0.2] * len(shown)
        blocks.append(Table(header, rows, widths, frozenset({0, 2, 4}), compact=True))
    if len(traces) > 2:
        blocks += traceroute_blocks(traces[2:], zone, lang)
    return blocks


def _clipped(inc: IncidentEntry, lang: str) -> str:
    marks = [label(k, lang) for k, on in (("inc.clipped_start", inc.clipped_start), ("inc.clipped_end", inc.clipped_end)) if on]
    return "".join(f"\n[{m}]" for m in marks)


def incident_card(t: TargetReport, inc: IncidentEntry, chart: Figure | None, zone: tzinfo, lang: str) -> list[Block]:
    """The card of one incident (kept on one page where it fits)."""
    card = inc.card
    assert card is not None, "cards are built for incidents that have one"
    title = label("card.title", lang, id=inc.id, kind=kind_label(inc.kind, lang), start=fmt_time(inc.start, zone).split(" (")[0],
                  d=fmt_duration(inc.duration_s, lang))
    head: list[Block] = [Heading(title, 3, f"card-{inc.id}")]
    if chart is not None:
        head.append(Chart(chart, label("chart.card", lang)))
    rows = [
        (label("card.when", lang), time_range(inc.start, inc.end, zone) + _clipped(inc, lang)),
        (label("card.duration", lang), duration_cell(inc, lang, short=True)),
        (label("card.last_good", lang), round_text(card.last_good, zone, lang)),
        (label("card.first_failed", lang), round_text(card.first_failed, zone, lang)),
        (label("card.end_between", lang), label("card.between", lang, a=_edge(inc.end_bounds.last_failed, zone, lang),
                                                b=_edge(inc.end_bounds.first_good_after, zone, lang))),
        (label("card.inside", lang), label("card.inside_v", lang, failed=inc.rounds_failed, answered=inc.rounds_good_inside)),
        (label("inc.errors", lang), errors_text(inc.error_classes, lang)),
    ]
    if card.http_response is not None:
        rows.append((label("card.http", lang), _http(card.http_response, zone, lang)))
    if inc.first_row_id is not None:
        rows.append((label("card.rows", lang), label("card.rows_v", lang, a=inc.first_row_id, b=inc.last_row_id)))
    body: list[Block] = [KeyValues(rows, 0.26, compact=True)]
    if card.traceroutes:
        ordered = sorted(card.traceroutes, key=lambda tr: (tr.control, tr.at))
        body += traceroute_blocks(ordered, zone, lang)
    else:
        body.append(Para(label("trace.none", lang), "small"))
    return [Group(head + body[:1]), *body[1:]]


def incident_cards(t: TargetReport, charts: Mapping[str, Figure], zone: tzinfo, lang: str) -> list[Block]:
    carded = [inc for inc in t.incidents if inc.card is not None]
    if not carded:
        return []
    blocks: list[Block] = []
    for n, inc in enumerate(carded):
        card = incident_card(t, inc, charts.get(f"card:{inc.id}"), zone, lang)
        if n == 0:  # the section's heading stays with its first card
            first = card[0]
            assert isinstance(first, Group)
            card[0] = Group([Heading(label("cards.heading", lang), 2), Para(label("cards.intro", lang), "small"), *first.blocks])
        blocks += card
    left = [inc.id for inc in t.incidents if inc.card is None and inc.kind != "local"]
    if left:
        blocks.append(Para(label("cards.more", lang, ids=", ".join(left)), "small"))
    return blocks
