"""What the renderers take: summary.json (a dict) and per-target time series.

The summary dict is exactly what the lead writes to summary.json, so the
report shows the same figures as the machine-readable file. The series are
plot data only (already downsampled); they never feed a printed figure.
See docs/report-schema.md for every field.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

SUMMARY_SCHEMA = "slaproof.report/1"
MANIFEST_SCHEMA = "slaproof.manifest/1"

INCIDENT_KINDS = ("outage", "partial", "degraded", "local")
BAND_KINDS = ("outage", "partial", "degraded", "local", "no_data")


class ReportInputError(ValueError):
    """The summary or series does not have the documented shape.

    Raised instead of rendering a report that could misstate the evidence.
    """


@dataclass(frozen=True, slots=True)
class TargetSeries:
    """Plot data for one target (UTC times; days are display-zone days).

    ``latency``: (bucket start, median RTT ms or None, loss % or None).
    ``latency_hist``: (bucket lower bound ms, count), ascending.
    ``daily``: (day, availability % or None for no data, coverage %).
    ``bands``: (start, end, kind) with kind in BAND_KINDS.
    """

    latency: list[tuple[datetime, float | None, float | None]] = field(default_factory=list)
    latency_hist: list[tuple[float, int]] = field(default_factory=list)
    daily: list[tuple[date, float | None, float]] = field(default_factory=list)
    bands: list[tuple[datetime, datetime, str]] = field(default_factory=list)


def parse_time(text: str) -> datetime:
    """An ISO 8601 UTC string ("…Z") as an aware UTC datetime."""
    if not isinstance(text, str):
        raise ReportInputError(f"expected an ISO 8601 time string, got {text!r}")
    try:
        value = datetime.fromisoformat(text)
    except ValueError as exc:
        raise ReportInputError(f"not an ISO 8601 time: {text!r}") from exc
    if value.tzinfo is None:
        raise ReportInputError(f"time without a zone (must be UTC, ending in Z): {text!r}")
    return value.astimezone(UTC)


def display_zone(summary: Mapping[str, Any]) -> ZoneInfo:
    """The report's display zone (summary period timezone)."""
    name = summary.get("period", {}).get("timezone") or "UTC"
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ReportInputError(f"unknown display timezone {name!r}") from exc


_TOP_KEYS = ("schema", "generated_at", "period", "agent", "methods", "targets")
_TARGET_KEYS = ("name", "availability_pct", "downtime_s", "coverage_pct", "latency_ms", "incidents")
_INCIDENT_KEYS = ("id", "kind", "start", "end", "duration_s")


def check_summary(summary: Mapping[str, Any]) -> None:
    """Fail loudly if the summary is not a slaproof.report/1 document.

    Only the fields the report prints as figures are required; optional ones
    (sla, notes, evidence …) may be absent.
    """
    if not isinstance(summary, Mapping):
        raise ReportInputError("summary must be a mapping")
    missing = [k for k in _TOP_KEYS if k not in summary]
    if missing:
        raise ReportInputError(f"summary lacks {', '.join(missing)}")
    if summary["schema"] != SUMMARY_SCHEMA:
        raise ReportInputError(f"summary schema {summary['schema']!r}, expected {SUMMARY_SCHEMA!r}")
    parse_time(summary["generated_at"])
    parse_time(summary["period"]["from"])
    parse_time(summary["period"]["to"])
    display_zone(summary)
    names: set[str] = set()
    for i, target in enumerate(summary["targets"]):
        lacking = [k for k in _TARGET_KEYS if k not in target]
        if lacking:
            raise ReportInputError(f"target #{i + 1} lacks {', '.join(lacking)}")
        if target["name"] in names:
            raise ReportInputError(f"duplicate target name {target['name']!r}")
        names.add(target["name"])
        for inc in target["incidents"]:
            lacking = [k for k in _INCIDENT_KEYS if k not in inc]
            if lacking:
                raise ReportInputError(
                    f"incident in target {target['name']!r} lacks {', '.join(lacking)}"
                )
            parse_time(inc["start"])
            if inc["end"] is not None:
                parse_time(inc["end"])
