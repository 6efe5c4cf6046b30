"""The JSON-lines exchange format (docs/import-format.md): export writes it, import reads it.

Import is all or nothing: the whole file is checked first, and a bad line is
reported with its line number before anything is written; then every row is
inserted in one transaction, chained, and marked ``imported``.
"""

from __future__ import annotations

import csv
import json
import math
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any, TextIO

from agent.errors import UsageError
from agent.rows import dumps, ms_to_ns, to_us

KNOWN_CHECKS = ("icmp", "tcp", "http", "bandwidth", "traceroute", "dns")
_NUM = (int, float)
_KNOWN_KEYS = {"ts", "target", "check", "ok", "rtt_ms", "loss_pct", "status", "error", "error_class", "sent", "received",
               "rtt_min_ms", "rtt_max_ms", "rtt_stddev_ms", "detail", "imported", "row_id", "hash", "lag_us", "source"}


def _num(rec: dict[str, Any], key: str, where: str, lo: float | None = None, hi: float | None = None) -> float | None:
    v = rec.get(key)
    if v is None:
        return None
    if isinstance(v, bool) or not isinstance(v, _NUM) or not math.isfinite(v):
        raise UsageError(f"{where}: {key} must be a number (got {v!r})")
    if (lo is not None and v < lo) or (hi is not None and v > hi):
        raise UsageError(f"{where}: {key} {v!r} is out of range [{lo}, {hi}]")
    return float(v)


def parse_record(rec: Any, where: str, targets: set[str]) -> dict[str, Any]:
    """One exchange object → a row dict (without check_id/settings_hash/hash)."""
    if not isinstance(rec, dict):
        raise UsageError(f"{where}: each line must be a JSON object")
    for key in ("ts", "target", "check", "ok"):
        if key not in rec:
            raise UsageError(f"{where}: missing required key {key!r}")
    ts = rec["ts"]
    if not isinstance(ts, str):
        raise UsageError(f"{where}: ts must be an ISO 8601 string with a zone (got {ts!r})")
    try:
        dt = datetime.fromisoformat(ts.replace("Z", "+00:00"))
    except ValueError:
        raise UsageError(f"{where}: ts {ts!r} is not ISO 8601") from None
    if dt.tzinfo is None:
        raise UsageError(f"{where}: ts {ts!r} has no zone; add Z or an offset such as +08:00")
    if rec["target"] not in targets:
        raise UsageError(f"{where}: target {rec['target']!r} is not in the config (known: {', '.join(sorted(targets)) or 'none'})")
    if rec["check"] not in KNOWN_CHECKS:
        raise UsageError(f"{where}: check {rec['check']!r} unknown; use one of {', '.join(KNOWN_CHECKS)}")
    if not isinstance(rec["ok"], bool):
        raise UsageError(f"{where}: ok must be true or false (got {rec['ok']!r})")
    unknown = set(rec) - _KNOWN_KEYS
    if unknown:
        raise UsageError(f"{where}: unknown key(s) {', '.join(sorted(unknown))}; put extra figures under \"detail\"")
    sent = _num(rec, "sent", where, 0, 32767)
    received = _num(rec, "received", where, 0, 32767)
    loss = _num(rec, "loss_pct", where, 0, 100)
    detail = rec.get("detail") or {}
    if not isinstance(detail, dict):
        raise UsageError(f"{where}: detail must be an object")
    detail = dict(detail)
    if loss is not None and sent is None:
        detail["loss_pct"] = loss  # no counts to derive it from: keep the figure as given
    status = _num(rec, "status", where, 0, 999)
    for k in ("error", "error_class"):
        if rec.get(k) is not None and not isinstance(rec[k], str):
            raise UsageError(f"{where}: {k} must be a string")
    return {
        "ts_us": to_us(dt),
        "target": rec["target"],
        "kind": rec["check"],
        "ok": rec["ok"],
        "lag_us": None,
        "rtt_ns": ms_to_ns(_num(rec, "rtt_ms", where, 0)),
        "rtt_min_ns": ms_to_ns(_num(rec, "rtt_min_ms", where, 0)),
        "rtt_max_ns": ms_to_ns(_num(rec, "rtt_max_ms", where, 0)),
        "jitter_ns": ms_to_ns(_num(rec, "rtt_stddev_ms", where, 0)),
        "sent": None if sent is None else int(sent),
        "received": None if received is None else int(received),
        "status": None if status is None else int(status),
        "error_class": rec.get("error_class"),
        "error": rec.get("error"),
        "detail": dumps(detail) if detail else None,
        "imported": True,
    }


def read_records(path: Path, targets: set[str]) -> Iterator[dict[str, Any]]:
    """Parse the file, line by line; raise UsageError naming the first bad line."""
    try:
        f: TextIO = path.open(encoding="utf-8")
    except OSError as e:
        raise UsageError(f"{path}: cannot read: {e.strerror}") from None
    with f:
        for n, line in enumerate(f, 1):
            if not line.strip():
                continue
            where = f"{path}:{n}"
            try:
                rec = json.loads(line)
            except json.JSONDecodeError as e:
                raise UsageError(f"{where}: not valid JSON ({e.msg} at column {e.colno})") from None
            except UnicodeDecodeError:
                raise UsageError(f"{where}: not UTF-8 text") from None
            yield parse_record(rec, where, targets)


CSV_FIELDS = ["ts", "target", "check", "ok", "rtt_ms", "loss_pct", "sent", "received", "rtt_min_ms", "rtt_max_ms",
              "rtt_stddev_ms", "status", "error_class", "error", "lag_us", "imported", "detail", "row_id", "hash"]


def write_csv(fh: Any, records: Any) -> int:
    w = csv.DictWriter(fh, fieldnames=CSV_FIELDS, extrasaction="ignore")
    w.writeheader()
    n = 0
    for rec in records:
        if "detail" in rec:
            rec["detail"] = json.dumps(rec["detail"], ensure_ascii=False, sort_keys=True)
        w.writerow(rec)
        n += 1
    return n
