"""Checks on what the renderers take: a report model (reports/render/model.py) and plot series.

The model's types already hold the shape (a missing field is a mypy error, a misfit in a
summary.json read back is refused by model_json.decode); what is checked here are the facts
types cannot say: a known display zone, unique target names, the schema version.
See docs/report-schema.md for every field.
"""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from reports.render.model import SUMMARY_SCHEMA, Report


class ReportInputError(ValueError):
    """The report or series does not have the documented shape.

    Raised instead of rendering a report that could misstate the evidence.
    """


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


def zone_named(name: str) -> ZoneInfo:
    """The IANA zone ``name``; ReportInputError when this machine does not know it."""
    try:
        return ZoneInfo(name or "UTC")
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ReportInputError(f"unknown display timezone {name!r}") from exc


def display_zone(report: Report) -> ZoneInfo:
    """The report's display zone (the period's time zone)."""
    return zone_named(report.period.timezone)


def check_report(report: Report) -> None:
    """Refuse a report that would print wrongly: unknown schema or zone, a target named twice,
    a time without a zone."""
    if report.schema != SUMMARY_SCHEMA:
        raise ReportInputError(f"summary schema {report.schema!r}, expected {SUMMARY_SCHEMA!r}")
    display_zone(report)
    for moment in (report.generated_at, report.period.start, report.period.end):
        if moment.tzinfo is None:
            raise ReportInputError(f"time without a zone: {moment.isoformat()}")
    names: set[str] = set()
    for target in report.targets:
        if target.name in names:
            raise ReportInputError(f"duplicate target name {target.name!r}")
        names.add(target.name)
