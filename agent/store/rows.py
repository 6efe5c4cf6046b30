"""Conversion between probe results, stored rows and the JSON-lines exchange format.

Headline figures get columns (compact, aggregable in SQL); everything else a
probe reports goes into ``detail`` as canonical JSON, so nothing is dropped.
``loss_pct`` and ``rtt_avg_ms`` are not stored twice: they follow exactly from
``sent``/``received`` and ``rtt_ns``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from agent.core.result import ProbeResult
from agent.core.times import iso, to_us
from agent.core.units import loss_pct, ms_to_ns

_COLUMN_FIGURES = {
    "rtt_min_ms": "rtt_min_ns",
    "rtt_max_ms": "rtt_max_ns",
    "rtt_stddev_ms": "jitter_ns",
}
_INT_FIGURES = ("sent", "received", "status")
_DERIVED = {"loss_pct", "rtt_avg_ms"}
# Figures left out of ``detail`` when they hold their documented default, so the
# common row stays small (docs/import-format.md lists them): an absent ICMP
# counter is 0 and an absent socket is "raw".
_ICMP_DEFAULTS: dict[str, Any] = {"socket": "raw", "aborted": 0, "clock_fallbacks": 0, "duplicates": 0, "late": 0,
                                  "send_errors": 0, "unreachable": 0}

def dumps(obj: Any) -> str:
    return json.dumps(obj, ensure_ascii=False, sort_keys=True, separators=(",", ":"), default=str)


def result_to_row(
    result: ProbeResult,
    *,
    target: str,
    settings_hash: str,
    lag_us: int | None,
    imported: bool = False,
) -> dict[str, Any]:
    """The column values (plus chain identity fields ``target``/``settings_hash``)."""
    fig = dict(result.figures)
    row: dict[str, Any] = {
        "ts_us": to_us(result.started_at),
        "target": target,
        "kind": result.kind,
        "settings_hash": settings_hash,
        "ok": bool(result.ok),
        "lag_us": lag_us,
        "rtt_ns": ms_to_ns(result.rtt_ms),
        "rtt_min_ns": None,
        "rtt_max_ns": None,
        "jitter_ns": None,
        "sent": None,
        "received": None,
        "status": None,
        "error_class": result.error_class,
        "error": result.error,
        "detail": None,
        "imported": imported,
    }
    for name, col in _COLUMN_FIGURES.items():
        if name in fig:
            row[col] = ms_to_ns(fig.pop(name))
    for name in _INT_FIGURES:
        if fig.get(name) is not None:
            row[name] = int(fig.pop(name))
    if row["received"] is not None and row["received"] <= 1 and row["rtt_min_ns"] == row["rtt_max_ns"] == row["rtt_ns"]:
        # One reply: min = max = the RTT itself, and the spread is 0. Not stored twice.
        row["rtt_min_ns"] = row["rtt_max_ns"] = None
        if row["jitter_ns"] == 0:
            row["jitter_ns"] = None
    for name in _DERIVED:
        if name == "loss_pct" and row["sent"] is None and name in fig:
            continue  # no sent/received to derive it from: keep it in detail
        fig.pop(name, None)
    if result.kind == "icmp":
        for name, default in _ICMP_DEFAULTS.items():
            if name in fig and fig[name] == default:
                del fig[name]
        rtts = fig.get("rtts_ms")
        if isinstance(rtts, list) and len(rtts) == 1 and rtts[0] == result.rtt_ms:
            del fig["rtts_ms"]  # one reply: the list is the RTT itself
    if fig:
        row["detail"] = dumps(fig)
    return row


def row_to_record(row: Mapping[str, Any]) -> dict[str, Any]:
    """A stored row as one JSON-lines object (the documented exchange format)."""
    rec: dict[str, Any] = {
        "ts": iso(row["ts_us"]),
        "target": row["target"],
        "check": row["kind"],
        "ok": bool(row["ok"]),
    }
    if row.get("rtt_ns") is not None:
        rec["rtt_ms"] = row["rtt_ns"] / 1_000_000
    lp = loss_pct(row.get("sent"), row.get("received"))
    if lp is not None:
        rec["loss_pct"] = lp
    for col, name in (("rtt_min_ns", "rtt_min_ms"), ("rtt_max_ns", "rtt_max_ms"), ("jitter_ns", "rtt_stddev_ms")):
        if row.get(col) is not None:
            rec[name] = row[col] / 1_000_000
    for name in ("sent", "received", "status", "error_class", "error", "lag_us"):
        if row.get(name) is not None:
            rec[name] = row[name]
    if row.get("detail"):
        rec["detail"] = json.loads(row["detail"])
    if row.get("imported"):
        rec["imported"] = True
    if row.get("id") is not None:
        rec["row_id"] = row["id"]
    if row.get("hash") is not None:
        rec["hash"] = bytes(row["hash"]).hex()
    return rec
