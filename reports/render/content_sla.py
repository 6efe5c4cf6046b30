"""The SLA section of a target's page: the evaluation printed in full, nothing in it left out.

Leading fields come first in a fixed order, then every other field of the SLA section in the
model's order; a non-empty list of objects becomes a table. Values print by their type and by
the field's name (``*_pct`` as percentages, ``*_s`` as durations, times in the display zone with
UTC beside). Terms the definition uses without having read them verbatim are marked.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from datetime import datetime, tzinfo
from typing import Any

from reports.render.blocks import Block, Heading, KeyValues, Para, Table
from reports.render.i18n import LABELS, fmt_duration, fmt_pct, fmt_time, fmt_value, label, verdict_label
from reports.render.model import SlaSection
from reports.render.model_json import encode
from reports.render.sla_text import LABELS as SLA_WORDS
from reports.render.sla_text import evaluation_sentence, terms_date_text

# Printed first, in this order; every other field follows in the model's order.
LEADING = (
    "target",
    "preset",
    "sla_id",
    "provider",
    "product",
    "terms_date",
    "sources",
    "period_start",
    "period_end",
    "period_complete",
    "uptime_target_pct",
    "uptime_provider_pct",
    "uptime_measured_pct",
    "coverage_pct",
    "counted_downtime_s",
    "excluded_downtime_s",
    "verdict",
    "verdict_basis",
    "credit_pct",
    "credit_amount",
    "claim_deadline",
)
TABLE_ORDER = ("terms", "outages", "credit_per_outage", "fields")
TERM_COLUMNS = ("metric", "statistic", "comparator", "threshold", "measured", "met", "samples", "confidence")
MONEY = ("credit_amount", "monthly_fee", "clock_hour_amount")  # followed by the currency
MARKED_COLUMNS = ("metric", "path")  # cells marked when their value is an unconfirmed term
NOT_PRINTED = ("unconfirmed_fields",)  # said in a sentence under the tables instead
DASH = "\u2013"

_FIELD_NAMES = tuple(f.name for f in dataclasses.fields(SlaSection))
assert set(LEADING + TABLE_ORDER + NOT_PRINTED) <= set(_FIELD_NAMES), "a named SLA field the model lacks"


def sla_blocks(sla: SlaSection, lang: str, zone: tzinfo) -> list[Block]:
    """Heading, key/value rows, one table per list of objects, and the unconfirmed-terms note."""
    unconfirmed = frozenset(sla.unconfirmed_fields)
    blocks: list[Block] = [Heading(label("sla.heading", lang), 2), KeyValues(_rows(sla, lang, zone, unconfirmed))]
    for name in _table_names(sla):
        blocks.append(Para(sla_key(name, lang), "small"))
        blocks.append(object_table(name, getattr(sla, name), lang, zone, unconfirmed))
    if sla.unconfirmed_fields:
        blocks.append(Para(label("sla.unconfirmed_note", lang, fields=", ".join(sla.unconfirmed_fields)), "small"))
    return blocks


def sla_key(name: str, lang: str) -> str:
    """A field's name in words where there is a label for it, else as it is."""
    return label(f"sla.{name}", lang) if f"sla.{name}" in LABELS else name


def _is_table(value: Any) -> bool:
    return isinstance(value, tuple) and bool(value) and all(dataclasses.is_dataclass(v) for v in value)


def _table_names(sla: SlaSection) -> list[str]:
    rest = [n for n in _FIELD_NAMES if n not in TABLE_ORDER]
    return [n for n in (*TABLE_ORDER, *rest) if _is_table(getattr(sla, n))]


def _rows(sla: SlaSection, lang: str, zone: tzinfo, unconfirmed: frozenset[str]) -> list[tuple[str, str]]:
    mark = f" [{label('sla.unconfirmed', lang)}]"
    rows = []
    for name in (*LEADING, *(n for n in _FIELD_NAMES if n not in LEADING)):
        value = getattr(sla, name)
        if name in NOT_PRINTED or _is_table(value):
            continue
        text = sla_value(name, value, lang, zone)
        if name in MONEY and value is not None and sla.currency:
            text += f" {sla.currency}"
        rows.append((sla_key(name, lang), text + (mark if name in unconfirmed else "")))
    return rows


def _warnings(value: Sequence[str], lang: str) -> str:
    return fmt_value([evaluation_sentence(v, lang) for v in value], lang)


# Fields whose words come from elsewhere: the verdict, and the sentences the evaluation wrote.
_WORDED: dict[str, Callable[[Any, str], str]] = {
    "terms_date": lambda value, lang: terms_date_text(str(value), "", SLA_WORDS["zh" if lang == "zh" else "en"]),
    "verdict": verdict_label,
    "verdict_basis": evaluation_sentence,
    "warnings": _warnings,
}


def sla_value(name: str, value: Any, lang: str, zone: tzinfo) -> str:
    """One value of the SLA section as printed."""
    if value is None:
        return DASH
    worded = _WORDED.get(name)
    if worded is not None:
        return worded(value, lang)
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        if name.endswith("_pct"):
            return fmt_pct(float(value), lang)
        if name.endswith("_s"):
            return fmt_duration(float(value), lang)
    if isinstance(value, datetime):
        return fmt_time(value, zone)
    if isinstance(value, tuple) and value and all(isinstance(v, datetime) for v in value):
        return "\n".join(fmt_time(v, zone) for v in value)
    return fmt_value(encode(value), lang)


def object_table(name: str, items: Sequence[Any], lang: str, zone: tzinfo, unconfirmed: frozenset[str]) -> Table:
    """Objects of one model class as a table, a column per field.

    "x_utc" columns are left out when "x" exists: the time cell already shows UTC.
    """
    columns = _columns(name, [f.name for f in dataclasses.fields(items[0])])
    mark = f" [{label('sla.unconfirmed', lang)}]"
    rows = []
    for item in items:
        row = []
        for c in columns:
            value = getattr(item, c)
            cell = _cell(c, value, lang, zone)
            if c in MARKED_COLUMNS and str(value) in unconfirmed:
                cell += mark
            row.append(cell)
        rows.append(row)
    header = [sla_key(c, lang) for c in columns]
    return Table(header, rows, _widths(header, rows), frozenset())


def _columns(name: str, columns: list[str]) -> list[str]:
    if name == "terms":
        columns = [c for c in TERM_COLUMNS if c in columns] + [c for c in columns if c not in TERM_COLUMNS]
    return [c for c in columns if not (c.endswith("_utc") and c[:-4] in columns)]


def _cell(column: str, value: Any, lang: str, zone: tzinfo) -> str:
    if column == "met" and (value is None or isinstance(value, bool)):
        return DASH if value is None else label("yes" if value else "no", lang)
    if column == "measured" and value is None:
        return label("no_data", lang)
    if _is_table(value):
        return f"{len(value)} \u00d7"  # nested detail stays in summary.json
    return sla_value(column, value, lang, zone)


def _widths(header: list[str], rows: list[list[str]]) -> list[float]:
    """Column widths from the longest header word and the longest cell line (bounded)."""
    widths = []
    for i, h in enumerate(header):
        longest_word = max((len(w) for w in h.split()), default=1)
        longest_line = max((len(line) for r in rows for line in r[i].split("\n")), default=1)
        widths.append(float(max(min(longest_word, 16), min(longest_line, 28)) + 2))
    return widths
