"""The JSON-lines exchange format (docs/import-format.md): export writes it, import reads it.

Import is all or nothing: the whole file is checked first, and a bad line is
reported with its line number before anything is written; then every row is
inserted in one transaction, chained, and marked ``imported``.
"""

from __future__ import annotations

import csv
import hashlib
import json
import math
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any, BinaryIO

from agent.core.errors import UsageError
from agent.core.times import iso, to_us, utcnow
from agent.core.units import ms_to_ns
from agent.store.rows import dumps

KNOWN_CHECKS = ("icmp", "tcp", "http", "bandwidth", "traceroute", "dns")
MAX_RTT_MS = 3_600_000.0  # an hour: any longer is not a round trip but a unit mistake
# A row may be dated at most this far ahead of this machine's clock (clocks differ by seconds, not
# hours): a later one is a wrong zone offset or a wrong clock, and evidence cannot come from the future.
MAX_AHEAD_US = 5 * 60 * 1_000_000
MIN_TS_US = 0  # 1970-01-01: the store's epoch
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


def parse_record(rec: Any, where: str, targets: set[str], now: Callable[[], datetime] = utcnow) -> dict[str, Any]:
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
    try:
        ts_us = to_us(dt)
    except OverflowError:
        ts_us = -1
    if ts_us < MIN_TS_US:
        raise UsageError(f"{where}: ts {ts!r} is out of range; a measurement is dated between 1970 and now")
    now_us = to_us(now())
    if ts_us > now_us + MAX_AHEAD_US:
        raise UsageError(f"{where}: ts {ts!r} is in the future (this machine's clock says {iso(now_us)}; at most "
                         f"{MAX_AHEAD_US // 60_000_000} minutes ahead is accepted); check the zone offset and the clock")
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
    if sent is not None and received is not None and received > sent:
        raise UsageError(f"{where}: received {received:g} is more than sent {sent:g}")
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
        "ts_us": ts_us,
        "target": rec["target"],
        "kind": rec["check"],
        "ok": rec["ok"],
        "lag_us": None,
        "rtt_ns": ms_to_ns(_num(rec, "rtt_ms", where, 0, MAX_RTT_MS)),
        "rtt_min_ns": ms_to_ns(_num(rec, "rtt_min_ms", where, 0, MAX_RTT_MS)),
        "rtt_max_ns": ms_to_ns(_num(rec, "rtt_max_ms", where, 0, MAX_RTT_MS)),
        "jitter_ns": ms_to_ns(_num(rec, "rtt_stddev_ms", where, 0, MAX_RTT_MS)),
        "sent": None if sent is None else int(sent),
        "received": None if received is None else int(received),
        "status": None if status is None else int(status),
        "error_class": rec.get("error_class"),
        "error": rec.get("error"),
        "detail": dumps(detail) if detail else None,
        "imported": True,
    }


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


def read_records(path: Path, targets: set[str], now: Callable[[], datetime] = utcnow) -> Iterator[dict[str, Any]]:
    """Parse the file, line by line; raise UsageError naming the first bad line.

    Strict where Python's json is lenient: NaN and Infinity are refused (they are not JSON and
    would be stored as text no reader accepts), as are bytes that are not UTF-8 and strings
    holding a lone surrogate (not Unicode)."""
    try:
        f: BinaryIO = path.open("rb")
    except OSError as e:
        raise UsageError(f"{path}: cannot read: {e.strerror}") from None
    with f:
        for n, raw in enumerate(f, 1):
            where = f"{path}:{n}"
            try:
                line = raw.decode("utf-8-sig" if n == 1 else "utf-8")
            except UnicodeDecodeError as e:
                raise UsageError(f"{where}: not UTF-8 text (byte {raw[e.start:e.start + 1]!r} at column {e.start + 1}); "
                                 "save the file as UTF-8") from None
            if not line.strip():
                continue
            try:
                rec = json.loads(line, parse_constant=_no_constant)
            except json.JSONDecodeError as e:
                raise UsageError(f"{where}: not valid JSON ({e.msg} at column {e.colno})") from None
            except ValueError as e:
                raise UsageError(f"{where}: not valid JSON ({e})") from None
            row = parse_record(rec, where, targets, now)
            try:
                dumps(rec).encode("utf-8")
            except UnicodeEncodeError:
                raise UsageError(f"{where}: a string holds a lone surrogate (\\ud800-\\udfff): not Unicode text") from None
            yield row


# OWASP CSV injection: a spreadsheet runs a cell that starts with one of these as a formula
# (=cmd|' /C calc'!A0). Text cells that do are written with a leading apostrophe, which
# spreadsheets show as plain text; numbers, times and hashes are ours and never start so.
# The JSON-lines export keeps every value exactly as stored (docs/reliability.md).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def text_cell(value: str | None) -> str:
    """A text value as a CSV cell a spreadsheet will not execute."""
    if not value:
        return ""
    return "'" + value if value.startswith(FORMULA_STARTS) else value


UNKNOWN_TOOL = "unknown"


def source_of(path: Path, tool: str | None) -> dict[str, str]:
    """Where imported rows came from, as their check's settings record it: the file's name, its
    SHA-256 and the tool that measured them (docs/import-format.md, "Provenance")."""
    h = hashlib.sha256()
    try:
        with path.open("rb") as f:
            for chunk in iter(lambda: f.read(1 << 20), b""):
                h.update(chunk)
    except OSError as e:
        raise UsageError(f"{path}: cannot read: {e.strerror}") from None
    return {"source_file": path.name, "source_sha256": h.hexdigest(), "tool": (tool or "").strip() or UNKNOWN_TOOL}


CSV_FIELDS = ["ts", "target", "check", "ok", "rtt_ms", "loss_pct", "sent", "received", "rtt_min_ms", "rtt_max_ms",
              "rtt_stddev_ms", "status", "error_class", "error", "lag_us", "imported", "detail", "row_id", "hash"]


def _fmt_ns(v: int | None) -> str:
    return "" if v is None else repr(v / 1_000_000)


def write_csv_rows(fh: Any, rows: Any) -> int:
    """CSV from the store's raw export tuples (Store.EXPORT_COLUMNS), formatted without
    building a dict per row: the same figures as the JSON-lines export, one row a line."""
    import time as _time

    w = csv.writer(fh)
    w.writerow(CSV_FIELDS)
    n = 0
    last_sec = -1
    sec_text = ""
    for (rid, ts_us, target, kind, ok, rtt_ns, sent, received, rmin, rmax, jit, status, eclass, error, lag, imported,
         detail, h) in rows:
        sec, us = divmod(ts_us, 1_000_000)
        if sec != last_sec:
            sec_text = _time.strftime("%Y-%m-%dT%H:%M:%S", _time.gmtime(sec))
            last_sec = sec
        loss = "" if not sent or received is None else repr(100.0 * (sent - received) / sent)
        w.writerow((f"{sec_text}.{us:06d}Z", text_cell(target), text_cell(kind), "True" if ok else "False", _fmt_ns(rtt_ns), loss,
                    "" if sent is None else sent, "" if received is None else received, _fmt_ns(rmin), _fmt_ns(rmax),
                    _fmt_ns(jit), "" if status is None else status, text_cell(eclass), text_cell(error), "" if lag is None else lag,
                    "True" if imported else "", text_cell(detail), rid, bytes(h).hex()))
        n += 1
    return n


def _sqlite_csv_rows(store: Any, check_ids: Any, start_us: int, end_us: int) -> Iterator[tuple[Any, ...]]:
    """SQLite only: export rows as CSV text already joined and quoted by SQLite, except the
    float figures, which Python formats (repr) exactly as the generic path does:
    (head, rtt_ns, sent, received, rtt_min_ns, rtt_max_ns, jitter_ns, tail). One string
    per row instead of nineteen objects; a test holds the text equal to
    write_csv_rows over Store.iter_export."""
    ids = ",".join(str(int(i)) for i in check_ids) or "NULL"

    def q(raw: str) -> str:  # exchange.text_cell (OWASP: no cell a spreadsheet runs), then the csv module's minimal quoting
        col = (f"(CASE WHEN substr({raw}, 1, 1) IN ('=', '+', '-', '@', char(9), char(13)) THEN '''' || {raw} "
               f"ELSE {raw} END)")
        return (f"CASE WHEN {raw} IS NULL OR {raw} = '' THEN '' WHEN instr({col}, ',') OR instr({col}, '\"') "
                f"OR instr({col}, char(10)) OR instr({col}, char(13)) THEN '\"' || replace({col}, '\"', '\"\"') || '\"' "
                f"ELSE {col} END")

    def n(col: str) -> str:
        return f"coalesce({col}, '')"

    sql = f"""
        SELECT strftime('%Y-%m-%dT%H:%M:%S', m.ts_us / 1000000, 'unixepoch') || '.' ||
                   substr('000000' || (m.ts_us % 1000000), -6) || 'Z,' || {q('t.name')} || ',' || {q('k.kind')}
                   || CASE WHEN m.ok THEN ',True' ELSE ',False' END,
               m.rtt_ns, m.sent, m.received, m.rtt_min_ns, m.rtt_max_ns, m.jitter_ns,
               {n('m.status')} || ',' || {q('m.error_class')} || ',' || {q('m.error')} || ',' || {n('m.lag_us')} || ','
                   || CASE WHEN m.imported THEN 'True' ELSE '' END || ',' || {q('m.detail')} || ',' || m.id || ','
                   || lower(hex(m.hash))
        FROM measurements m JOIN checks k ON k.id = m.check_id JOIN targets t ON t.id = k.target_id
        WHERE m.check_id IN ({ids}) AND m.ts_us >= ? AND m.ts_us < ?
        ORDER BY m.ts_us, m.id"""
    with store.engine.connect() as conn:
        dbapi = conn.connection.dbapi_connection
        assert dbapi is not None
        cur = dbapi.cursor()
        try:
            cur.execute(sql, (start_us, end_us))
            while True:
                rows = cur.fetchmany(20000)
                if not rows:
                    break
                yield from rows
        finally:
            cur.close()


def write_csv_export(fh: Any, store: Any, check_ids: Any, start_us: int, end_us: int) -> int:
    """The measurements CSV: joined and quoted inside SQLite where it can be (fast), else row by row.
    Both give the same text (tests/test_exchange_csv.py)."""
    if not store.is_sqlite:
        return write_csv_rows(fh, store.iter_export(check_ids, start_us, end_us))
    fh.write(",".join(CSV_FIELDS) + "\r\n")
    n = 0
    lines: list[str] = []
    for head, rtt, sent, received, rmin, rmax, jit, tail in _sqlite_csv_rows(store, check_ids, start_us, end_us):
        loss = "" if not sent or received is None else repr(100.0 * (sent - received) / sent)
        lines.append(f"{head},{'' if rtt is None else repr(rtt / 1_000_000)},{loss},{'' if sent is None else sent},"
                     f"{'' if received is None else received},{'' if rmin is None else repr(rmin / 1_000_000)},"
                     f"{'' if rmax is None else repr(rmax / 1_000_000)},{'' if jit is None else repr(jit / 1_000_000)},{tail}\r\n")
        if len(lines) >= 20000:
            fh.writelines(lines)
            n += len(lines)
            lines.clear()
    fh.writelines(lines)
    return n + len(lines)
