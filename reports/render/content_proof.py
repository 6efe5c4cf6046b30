"""The report's proof section: signatures, independent time and the clock, in words (en, zh).

Read from the model's ProofSection only (reports/build/proof.py fills it from the store's proof
records); the PDF and HTML print these blocks after the methods.
"""

from __future__ import annotations

from datetime import datetime, tzinfo

from reports.render.blocks import Block, Heading, KeyValues, Para, Table
from reports.render.i18n import fmt_duration_words, fmt_seconds, fmt_time, label
from reports.render.model_proof import ProofSection
from reports.render.numbers import cut

ROWS_SHOWN = 20  # clock gaps and steps listed on the page; all of them are in proof/statement.json


def _error(ms: float | None, lang: str) -> str:
    return label("proof.error_unknown", lang) if ms is None else f"\u00b1 {cut(ms, 1)} ms"


def _key(p: ProofSection, lang: str) -> str:
    if not p.key_fingerprints:
        return label("proof.key_none", lang)
    text = "; ".join(p.key_fingerprints)
    return f"{text} ({label('proof.key_changed', lang)})" if len(p.key_fingerprints) > 1 else text


def _signed(p: ProofSection, end: datetime, lang: str, zone: tzinfo) -> str:
    if p.signed_until is None:
        return label("proof.signed_none", lang)
    key = "proof.signed_all" if p.signed_until >= end else "proof.signed_until"
    return label(key, lang, n=p.checkpoints, at=fmt_time(p.signed_until, zone))


def _stamps(p: ProofSection, lang: str, zone: tzinfo) -> str:
    if not p.stamps:
        return label("proof.stamps_none", lang)
    return "; ".join(label("proof.stamp_line", lang, authority=s.authority, tokens=s.tokens,
                           start=fmt_time(s.covered_from, zone), end=fmt_time(s.covered_to, zone),
                           delay=fmt_duration_words(max(s.max_delay_s, 0.0), lang))
                     for s in p.stamps)


def _clock(p: ProofSection, lang: str) -> str:
    if not p.clock_on_record:
        return label("proof.clock_none", lang)
    if p.clock_recorded_s <= 0:
        return label("proof.clock_readings", lang)
    return label("proof.clock_state", lang, synced=fmt_duration_words(p.clock_synced_s, lang),
                 recorded=fmt_duration_words(p.clock_recorded_s, lang), error=_error(p.clock_max_error_ms, lang),
                 unknown=fmt_duration_words(p.clock_unknown_s, lang))


def _capped(rows: list[list[str]], lang: str) -> list[list[str]]:
    if len(rows) <= ROWS_SHOWN:
        return rows
    return [*rows[:ROWS_SHOWN], [label("proof.more", lang, n=len(rows) - ROWS_SHOWN), "", ""][:len(rows[0])]]


def _step(seconds: float, lang: str) -> str:
    return ("+" if seconds >= 0 else "\u2212") + fmt_seconds(abs(seconds), lang)


def proof_blocks(p: ProofSection | None, period_end: datetime, lang: str, zone: tzinfo) -> list[Block]:
    """The section's blocks; none when the report has no agent (nothing was measured)."""
    if p is None:
        return []
    blocks: list[Block] = [
        Heading(label("proof.heading", lang), 1, "proof"),
        Para(label("proof.intro", lang)),
        KeyValues([(label("proof.key", lang), _key(p, lang)),
                   (label("proof.checkpoints", lang), _signed(p, period_end, lang, zone)),
                   (label("proof.stamps", lang), _stamps(p, lang, zone)),
                   (label("proof.clock", lang), _clock(p, lang))]),
    ]
    if p.clock_unsynced:
        rows = [[fmt_time(g.start, zone), fmt_time(g.end, zone), _error(g.max_error_ms, lang)] for g in p.clock_unsynced]
        blocks += [Heading(label("proof.unsynced", lang), 2),
                   Table([label(k, lang) for k in ("proof.col_from", "proof.col_to", "proof.col_error")],
                         _capped(rows, lang), [0.38, 0.38, 0.24])]
    if p.clock_steps:
        rows = [[fmt_time(s.at, zone), _step(s.step_s, lang)] for s in p.clock_steps]
        blocks += [Heading(label("proof.steps", lang), 2), Para(label("proof.steps_note", lang)),
                   Table([label(k, lang) for k in ("proof.col_at", "proof.col_step")], _capped(rows, lang), [0.6, 0.4],
                         frozenset({1}))]
    return blocks
