"""Benchmark: the dashboard's overview of 1,000 targets over a month of data.

Generates (once, kept in /tmp/slaproof-bench-dashboard) a SQLite database of 1,000 targets
with one ICMP check every 30 s for 30 days (86.4 million rows, 1 % of rounds failed in outages
of 10-60 rounds; rows inserted directly with a placeholder hash: the chain is not what is
measured here), then:

- the plain SQL floor: one `GROUP BY check_id` of rows and successes over the 30 days (what a
  naive overview would run per request);
- the dashboard's warm-up: the state of every check (index seeks), and the report's analysis of
  29 closed days and of today for every target (done once, in the background);
- the overview page served by uvicorn on loopback: 50 requests, p50 / p95 / max (goal p95 ≤ 200 ms).

Usage: .venv/bin/python bench/dashboard_overview.py [--targets 1000] [--days 30] [--requests 50]
"""

from __future__ import annotations

import argparse
import json
import random
import socket
import sqlite3
import statistics
import sys
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import uvicorn

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from agent.config import load_config  # noqa: E402  (the project root is put on the path first)
from agent.core.times import to_us  # noqa: E402
from agent.serve.dashboard.app import Dashboard, make_app  # noqa: E402
from agent.store import Store  # noqa: E402
from agent.store.live import open_read_only  # noqa: E402

WORK = Path("/tmp/slaproof-bench-dashboard")
INTERVAL_S = 30
CHECK = {"kind": "icmp", "count": 1, "spacing_s": 0.2, "timeout_s": 1.0, "payload_size": 56}


def write_config(path: Path, n: int) -> None:
    lines = ["[agent]", f'state_dir = "{WORK / "state"}"', 'timezone = "UTC"', f"interval_s = {INTERVAL_S}",
             "[agent.checkpoints]", "enabled = false"]
    for i in range(n):
        lines += ["[[targets]]", f'name = "t{i:04d}"', f'address = "127.0.{i // 250 + 1}.{i % 250 + 1}"',
                  "[[targets.checks]]", 'kind = "icmp"', "count = 1"]
    path.write_text("\n".join(lines) + "\n")


def generate(n: int, days: int, end: datetime) -> None:
    from agent import identity
    from agent.checks import check_settings

    settings, _ = load_config(WORK / "config.toml")
    store = Store.open(settings.database_url())
    uuid = identity.load_or_create(settings.state_dir())
    start = end - timedelta(days=days)
    aid = store.ensure_agent(uuid, to_us(start))
    refs = store.sync_targets(aid, [{"name": t.name, "address": t.address, "checks": [check_settings(c) for c in t.checks]}
                                    for t in settings.targets], to_us(start))
    rid = store.start_run(aid, to_us(start), version="bench", pid=1, config_hash=None)
    store.engine.dispose()
    rounds = days * 86400 // INTERVAL_S
    db = sqlite3.connect(WORK / "state" / "slaproof.db")
    db.execute("PRAGMA synchronous=OFF")
    rng = random.Random(7)
    zero = bytes(32)
    t0 = to_us(start)
    started = time.monotonic()
    for k, t in enumerate(settings.targets):
        cid = refs[t.name].checks[0].id
        down = bytearray(rounds)
        while sum(down) < rounds // 100:
            a = rng.randrange(rounds)
            length = rng.randint(10, 60)
            down[a:a + length] = b"\x01" * len(down[a:a + length])
        rows = ((t0 + i * INTERVAL_S * 1_000_000 + 1500, cid, 0 if down[i] else 1, 1500, None if down[i] else 20_000_000 + (i % 97) * 10_000,
                 1, 0 if down[i] else 1, "timeout" if down[i] else None, 0, zero) for i in range(rounds))
        db.executemany("INSERT INTO measurements (ts_us, check_id, ok, lag_us, rtt_ns, sent, received, error_class, imported, hash) "
                       "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", rows)
        db.commit()
        if k % 100 == 99:
            print(f"  {k + 1} targets written ({time.monotonic() - started:.0f} s)", flush=True)
    db.execute("UPDATE runs SET last_seen_us = ? WHERE id = ?", (to_us(end), rid))
    db.commit()
    db.close()
    (WORK / "end.txt").write_text(end.isoformat())


def serve(app: object) -> tuple[uvicorn.Server, threading.Thread, int]:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = int(s.getsockname()[1])
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", access_log=False))  # type: ignore[arg-type]
    th = threading.Thread(target=server.run, daemon=True)
    th.start()
    while not server.started:
        time.sleep(0.05)
    return server, th, port


def main() -> int:
    global WORK
    ap = argparse.ArgumentParser()
    ap.add_argument("--targets", type=int, default=1000)
    ap.add_argument("--days", type=int, default=30)
    ap.add_argument("--requests", type=int, default=50)
    ap.add_argument("--work", type=Path, default=WORK, help="where the generated database is kept")
    args = ap.parse_args()
    WORK = args.work
    WORK.mkdir(exist_ok=True)
    if not (WORK / "end.txt").exists():
        write_config(WORK / "config.toml", args.targets)
        end = datetime.now(UTC).replace(microsecond=0)
        print(f"generating {args.targets} targets × {args.days} days every {INTERVAL_S} s in {WORK} …", flush=True)
        t = time.monotonic()
        generate(args.targets, args.days, end)
        print(f"generated in {time.monotonic() - t:.0f} s", flush=True)
    end = datetime.fromisoformat((WORK / "end.txt").read_text())
    settings, _ = load_config(WORK / "config.toml")
    db = sqlite3.connect(WORK / "state" / "slaproof.db")
    rows = db.execute("SELECT max(id) FROM measurements").fetchone()[0]
    t = time.perf_counter()
    n = len(db.execute("SELECT check_id, count(*), sum(ok) FROM measurements WHERE ts_us >= ? GROUP BY check_id",
                       (to_us(end - timedelta(days=30)),)).fetchall())
    plain = time.perf_counter() - t
    db.close()
    store = open_read_only(settings.database_url())
    d = Dashboard(settings, store, settings.database_url(), clock=lambda: end)
    t = time.perf_counter()
    d.overview.refresh_state()
    state_s = time.perf_counter() - t
    t = time.perf_counter()
    d.overview.refresh_figures()
    figures_s = time.perf_counter() - t
    server, th, port = serve(make_app(d, None))
    times = []
    with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=60) as c:
        for i in range(args.requests + 3):
            t = time.perf_counter()
            r = c.get("/")
            if i >= 3:  # the first requests load the templates
                times.append(time.perf_counter() - t)
            assert r.status_code == 200 and r.text.count("<tr") == args.targets + 1, r.text[:500]
    server.should_exit = True
    th.join(30)
    d.stop()
    store.close()
    times.sort()
    p95 = times[max(0, round(0.95 * len(times)) - 1)]
    print(json.dumps({"targets": args.targets, "rows": rows, "plain_sql_group_by_30d_s": round(plain, 2), "plain_sql_groups": n,
                      "warm_up_state_of_every_check_s": round(state_s, 3), "warm_up_report_analysis_30d_s": round(figures_s, 1),
                      "overview_requests": len(times), "overview_ms_p50": round(1000 * statistics.median(times), 1),
                      "overview_ms_p95": round(1000 * p95, 1), "overview_ms_max": round(1000 * times[-1], 1)}, indent=2))
    print(f"{'PASS' if p95 <= 0.2 else 'MISS'}  overview of {args.targets} targets: p95 {1000 * p95:.0f} ms (floor ≤ 200 ms); "
          f"the plain SQL GROUP BY over 30 days takes {plain * 1000:.0f} ms per request")
    return 0 if p95 <= 0.2 else 1


if __name__ == "__main__":
    sys.exit(main())
