"""measurements.csv: the fast SQLite path (joined and quoted in SQL) writes exactly the text of the
generic path (Python's csv module over raw rows), for awkward values too."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta
from pathlib import Path

from agent import identity
from agent.core.result import ProbeResult
from agent.store import Store
from agent.store.exchange import CSV_FIELDS, write_csv_export, write_csv_rows
from agent.writer import Writer

START = datetime(2026, 11, 1, 0, 0, 0, 123, tzinfo=UTC)


def test_fast_sqlite_csv_equals_the_generic_csv(tmp_path: Path) -> None:
    store = Store.open(f"sqlite:///{tmp_path / 'db.sqlite'}")
    uuid_ = identity.load_or_create(tmp_path / "state")
    aid = store.ensure_agent(uuid_, 0)
    refs = store.sync_targets(aid, [
        {"name": 'web, "main"\nbox', "address": "127.0.0.1", "checks": [{"kind": "icmp"}, {"kind": "http", "url": "http://x/"}]},
        {"name": "plain", "address": "127.0.0.2", "checks": [{"kind": "tcp", "port": 22}]},
        {"name": "=cmd|' /C calc'!A0", "address": "127.0.0.3", "checks": [{"kind": "tcp", "port": 23}]},
    ], 0)
    w = Writer(store, uuid_, aid, batch_s=0.05).start()
    icmp, http = refs['web, "main"\nbox'].checks
    (tcp,) = refs["plain"].checks
    (evil,) = refs["=cmd|' /C calc'!A0"].checks
    results = [
        (icmp, ProbeResult("icmp", START, True, 0.0123456789, {"sent": 3, "received": 2, "rtt_min_ms": 0.01,
                                                                "rtt_max_ms": 0.0150001, "rtt_stddev_ms": 1e-06}), 250),
        (icmp, ProbeResult("icmp", START + timedelta(seconds=1), False, None, {"sent": 3, "received": 0}, "timeout",
                           "no reply\r\nwithin 1 s"), -3),
        (http, ProbeResult("http", START + timedelta(seconds=1), False, 1234.5, {"status": 503, "body_head": 'x,"y"'},
                           "http_status", 'HTTP 503, "upstream"'), None),
        (tcp, ProbeResult("tcp", START + timedelta(seconds=2, microseconds=999_999), True, 1e3 / 3, {}), 0),
        (tcp, ProbeResult("tcp", START + timedelta(seconds=3), True, None, {"note": ""}), None),
        (evil, ProbeResult("tcp", START + timedelta(seconds=4), False, None, {}, "@SUM(1+1)", "+1,\t-2"), None),
        (evil, ProbeResult("tcp", START + timedelta(seconds=5), False, None, {}, "\tx", "-=HYPERLINK(\"http://x\")"), None),
        (evil, ProbeResult("tcp", START + timedelta(seconds=6), False, None, {}, "\rcr", "ordinary"), None),
    ]
    for ref, res, lag in results:
        w.submit(ref, res, lag)
    w.close()
    ids = [icmp.id, http.id, tcp.id, evil.id]
    fast, generic = io.StringIO(newline=""), io.StringIO(newline="")
    n_fast = write_csv_export(fast, store, ids, 0, 2**62)
    n_generic = write_csv_rows(generic, store.iter_export(ids, 0, 2**62))
    assert n_fast == n_generic == len(results)
    assert fast.getvalue() == generic.getvalue()
    rows = list(csv.reader(io.StringIO(fast.getvalue(), newline="")))
    assert rows[0] == CSV_FIELDS and len(rows) == 1 + len(results)
    by = {f: i for i, f in enumerate(CSV_FIELDS)}
    assert rows[1][by["target"]] == 'web, "main"\nbox'
    assert rows[1][by["ts"]] == "2026-11-01T00:00:00.000123Z"
    assert rows[1][by["loss_pct"]] == repr(100.0 / 3)
    assert rows[2][by["error"]] == "no reply\r\nwithin 1 s" and rows[2][by["lag_us"]] == "-3"
    assert all(len(r) == len(CSV_FIELDS) for r in rows)

    # OWASP CSV injection: no text cell starts with = + - @ tab or CR; the apostrophe shows the rest as text.
    for r in rows[1:]:
        for f in ("target", "check", "error_class", "error", "detail"):
            assert not r[by[f]].startswith(("=", "+", "-", "@", "\t", "\r")), (f, r)
    evil_rows = [r for r in rows if r[by["target"]].startswith("'=")]
    assert [r[by["target"]] for r in evil_rows] == ["'=cmd|' /C calc'!A0"] * 3
    assert [(r[by["error_class"]], r[by["error"]]) for r in evil_rows] == [
        ("'@SUM(1+1)", "'+1,\t-2"), ("'\tx", "'-=HYPERLINK(\"http://x\")"), ("'\rcr", "ordinary")]
    assert rows[2][by["lag_us"]] == "-3"  # numbers are ours: a negative one stays a number


def test_jsonl_export_keeps_the_raw_value(tmp_path: Path) -> None:
    from agent.store.rows import row_to_record

    store = Store.open(f"sqlite:///{tmp_path / 'db.sqlite'}")
    uuid_ = identity.load_or_create(tmp_path / "state")
    aid = store.ensure_agent(uuid_, 0)
    (ref,) = store.sync_targets(aid, [{"name": "=1+1", "address": "127.0.0.1", "checks": [{"kind": "tcp", "port": 1}]}], 0)["=1+1"].checks
    w = Writer(store, uuid_, aid).start()
    w.submit(ref, ProbeResult("tcp", START, False, None, {}, "refused", "=HYPERLINK(1)"), 0)
    w.close()
    (row,) = [row_to_record(r) for r in store.iter_rows([ref.id], 0, 2**62)]
    assert row["target"] == "=1+1" and row["error"] == "=HYPERLINK(1)"
