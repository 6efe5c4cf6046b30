"""The report's alert list: every alert about the period's events, when it was delivered, in words.

Read from the model's ``alerts`` only (reports/build/alerts.py fills it from the alert log).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import tzinfo

from reports.render.blocks import Block, Heading, Para, Table
from reports.render.i18n import LABELS, fmt_time, label
from reports.render.model_alerts import AlertEntry

ROWS_SHOWN = 100  # on the page; summary.json holds every one


def kind_words(kind: str, lang: str) -> str:
    key = f"alerts.kind.{kind}"
    return label(key if key in LABELS else "alerts.kind.other", lang)


def _outcome(a: AlertEntry, zone: tzinfo, lang: str) -> str:
    at = fmt_time(a.done_at, zone)
    if a.status == "sent":
        return label("alerts.sent", lang, at=at)
    if a.status == "failed":
        return label("alerts.failed", lang, n=a.attempts, at=at)
    return label("alerts.dropped", lang, at=at)


def alert_blocks(alerts: Sequence[AlertEntry] | None, lang: str, zone: tzinfo) -> list[Block]:
    """The section's blocks; none when the alert log holds nothing about the period."""
    if not alerts:
        return []
    rows = [[fmt_time(a.event_at, zone), a.target or label("alerts.agent", lang), kind_words(a.kind, lang), a.destination,
             _outcome(a, zone, lang)] for a in alerts[:ROWS_SHOWN]]
    if len(alerts) > ROWS_SHOWN:
        rows.append([label("alerts.more", lang, n=len(alerts) - ROWS_SHOWN), "", "", "", ""])
    header = [label(f"alerts.col_{k}", lang) for k in ("event", "target", "kind", "to", "outcome")]
    return [Heading(label("alerts.heading", lang), 1, "alerts"), Para(label("alerts.intro", lang)),
            Table(header, rows, [0.2, 0.13, 0.19, 0.2, 0.28])]
