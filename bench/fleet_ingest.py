"""Benchmark: a fleet forwarding into one PostgreSQL on loopback (issue 15).

Figures, each beside its floor:
  ingest   rows/s sustained by the central ingest (agent/store/upstream.py: relink every row onto its
           agent's chain, register checks, one transaction per batch) for AGENTS agents × TARGETS
           targets, and the central server's CPU seconds per 100,000 rows; floor: a plain COPY of the
           same rows into an unindexed-but-for-the-covering-index copy of measurements (goal ≥ 50,000 rows/s)
  lag      forward lag p50/p99: AGENTS local SQLite stores, each with TARGETS targets producing one
           row every 10 s (1,000 rows/s for the fleet at 10 × 1,000), written as the writer does and
           forwarded by the real Forwarder; lag = row committed centrally − row committed locally (goal p99 ≤ 5 s)
  report   `slaproof report` (summary.json) over the central database: REPORT_AGENTS agents × REPORT_TARGETS
           targets × REPORT_HOURS of 10 s rows, wall time and peak RSS; floor: one SQL aggregate over the
           same rows (goal, at 10 × 100 × 30 days: ≤ 60 s, ≤ 500 MB)

Usage: .venv/bin/python bench/fleet_ingest.py [--agents 10] [--targets 1000] [--rows 1000000]
           [--lag-s 60] [--report-agents 10] [--report-targets 100] [--report-hours 24]
The defaults fit this shared 2-core machine; the issue's full report size is --report-hours 720.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid as uuidlib
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sqlalchemy import text  # noqa: E402

from agent.store import Store, chain, settings_hash  # noqa: E402
from agent.store import upstream as up  # noqa: E402
from agent.store.database import MEASUREMENT_COLUMNS  # noqa: E402
from tests.support.pg import postgres_server, why_no_postgres  # noqa: E402

START_US = 1_790_000_000 * 1_000_000
INTERVAL_US = 10_000_000
ICMP = {"kind": "icmp", "count": 1}
ICMP_JSON = json.dumps(ICMP, sort_keys=True)
ICMP_HASH = settings_hash(ICMP)


# -- synthetic agents ---------------------------------------------------------------------------
class SimAgent:
    """One agent's chain, produced in memory: rows as the forwarder reads them from a local store."""

    def __init__(self, k: int, targets: int) -> None:
        self.uuid = str(uuidlib.UUID(int=k + 1))
        self.name = f"agent-{k:02d}"
        self.defs = tuple(up.CheckDef(i + 1, f"t{i:04d}", f"10.{k}.{i // 250}.{i % 250 + 1}", "bench", False, "icmp",
                                      ICMP_JSON, ICMP_HASH) for i in range(targets))
        self.prev = chain.genesis(self.uuid)
        self.seq = 0
        self.round = 0

    def rows(self, n: int) -> list[dict[str, Any]]:
        out = []
        for _ in range(n):
            d = self.defs[self.seq % len(self.defs)]
            if self.seq and self.seq % len(self.defs) == 0:
                self.round += 1
            ok = (self.seq * 7919) % 1000 != 0
            r = {"ts_us": START_US + self.round * INTERVAL_US + (self.seq % len(self.defs)) * 1000, "check_id": 0, "ok": ok,
                 "lag_us": (self.seq % len(self.defs)) * 1000, "rtt_ns": 20_000_000 + self.seq % 5_000_000 if ok else None,
                 "rtt_min_ns": None, "rtt_max_ns": None, "jitter_ns": None, "sent": 1, "received": 1 if ok else 0,
                 "status": None, "error_class": None if ok else "timeout", "error": None, "detail": None, "imported": False}
            h = chain.link(self.prev, {**r, "target": d.target, "kind": "icmp", "settings_hash": ICMP_HASH})
            self.seq += 1
            out.append({**r, "seq": self.seq, "check": d.id, "hash": h})
            self.prev = h
        return out

    def batch(self, rows: list[dict[str, Any]]) -> up.Batch:
        ids = {r["check"] for r in rows}
        last = rows[-1]["ts_us"] if rows else START_US
        run = {"started_us": START_US - 3_600_000_000, "ended_us": None, "last_seen_us": last + INTERVAL_US, "stop": None,
               "version": "bench", "hostname": self.name, "pid": 1, "config_hash": None, "note": None}  # one run, still going
        return up.Batch(self.uuid, self.name, START_US, self.seq, START_US, True,
                        tuple(d for d in self.defs if d.id in ids), (run,), tuple(rows))


def pg_cpu_s() -> float:
    """CPU seconds (user + system) of every postgres process: the central server's cost."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            with open(f"/proc/{pid}/stat", encoding="ascii") as f:
                parts = f.read().rsplit(")", 1)[1].split()
            with open(f"/proc/{pid}/comm", encoding="ascii") as f:
                if f.read().strip() != "postgres":
                    continue
        except OSError:
            continue
        total += int(parts[11]) + int(parts[12])
    return total / tick


def new_db(server: str, name: str) -> str:
    from sqlalchemy import create_engine
    from sqlalchemy.pool import NullPool

    admin = create_engine(server, isolation_level="AUTOCOMMIT", poolclass=NullPool)
    with admin.connect() as c:
        c.execute(text(f"DROP DATABASE IF EXISTS {name}"))
        c.execute(text(f"CREATE DATABASE {name}"))
    admin.dispose()
    return server.rsplit("/", 1)[0] + "/" + name


# -- ingest ---------------------------------------------------------------------------------------
def _ingest_worker(url: str, batches: list[up.Batch], go: Any, done: Any, finish: Any) -> None:
    central = Store.open(url, migrate=False)
    try:
        go.wait()
        for b in batches:
            up.ingest(central, b, START_US)
        done.put(True)
        finish.wait()  # the server's CPU is read while this connection's backend still lives
    finally:
        central.close()


def bench_ingest(server: str, agents: int, targets: int, total: int, batch: int, procs: int) -> None:
    """Agents forward in ``procs`` processes at once (each agent's forwarder is its own process in a
    fleet; the relinking runs there, the server does the rest)."""
    import multiprocessing as mp

    sims = [SimAgent(k, targets) for k in range(agents)]
    per = total // agents
    batches = [[s.batch(s.rows(min(batch, per - i))) for i in range(0, per, batch)] for s in sims]
    url = new_db(server, "bench_ingest")
    Store.open(url).close()
    ctx = mp.get_context("fork")
    go, done, finish = ctx.Event(), ctx.Queue(), ctx.Event()
    shares = [[b for k in range(p, agents, procs) for b in batches[k]] for p in range(procs)]
    workers = [ctx.Process(target=_ingest_worker, args=(url, share, go, done, finish)) for share in shares]
    for w in workers:
        w.start()
    cpu0, t0 = pg_cpu_s(), time.perf_counter()
    go.set()
    for _ in workers:
        done.get()
    wall, cpu = time.perf_counter() - t0, pg_cpu_s() - cpu0
    finish.set()
    for w in workers:
        w.join()
    rows = sum(len(x.rows) for b in batches for x in b)
    floor_wall, floor_cpu = copy_floor(server, [r for b in batches for x in b for r in x.rows])
    print(f"ingest: {rows:,} rows from {agents} agents × {targets} targets in batches of {batch:,}, {procs} forwarding "
          f"process(es): {rows / wall:,.0f} rows/s ({wall:.1f} s; central CPU {cpu / rows * 1e5:.2f} s per 100k rows, "
          f"i.e. {rows / cpu if cpu else 0:,.0f} rows per central CPU second) | floor, plain COPY: {rows / floor_wall:,.0f} rows/s "
          f"(CPU {floor_cpu / rows * 1e5:.2f} s per 100k) | goal ≥ 50,000 rows/s")


def copy_floor(server: str, rows: list[dict[str, Any]]) -> tuple[float, float]:
    """The same rows COPYed into a fresh slaproof schema, no checks, no chain: what the disk and server cost."""
    store = Store.open(new_db(server, "bench_floor"))
    try:
        with store.engine.begin() as conn:
            conn.execute(text("INSERT INTO agents (id, uuid, created_us, hostname) VALUES (1, 'x', 0, 'x')"))
            conn.execute(text("INSERT INTO targets (id, agent_id, name, address, control, created_us) VALUES (1, 1, 't', 'a', false, 0)"))
            conn.execute(text("INSERT INTO checks (id, target_id, kind, settings, settings_hash, created_us) VALUES (1, 1, 'icmp', '{}', 'x', 0)"))
        cols = [c for c in MEASUREMENT_COLUMNS if c != "check_id"]
        buf = io.StringIO()
        for r in rows:
            buf.write("\t".join(_copy_value(r[c]) for c in cols) + "\t1\n")
        data = buf.getvalue()
        cpu0, t0 = pg_cpu_s(), time.perf_counter()
        raw = store.engine.raw_connection()
        try:
            cur = raw.cursor()
            with cur.copy(f"COPY measurements ({', '.join(cols)}, check_id) FROM STDIN") as cp:
                cp.write(data)
            raw.commit()
            cur.close()
        finally:
            raw.close()
        return time.perf_counter() - t0, pg_cpu_s() - cpu0
    finally:
        store.close()


def _copy_value(v: Any) -> str:
    if v is None:
        return "\\N"
    if isinstance(v, bool):
        return "t" if v else "f"
    if isinstance(v, bytes):
        return "\\\\x" + v.hex()
    return str(v)


# -- lag ------------------------------------------------------------------------------------------
def bench_lag(server: str, agents: int, targets: int, seconds: float) -> None:
    """Real local stores and the real Forwarder; rows appended at the fleet's rate, as the writer does."""
    from agent.forwarder import Forwarder
    from agent.upstream_settings import UpstreamSettings

    url = new_db(server, "bench_lag")
    _seen_trigger(url)
    tmp = Path(tempfile.mkdtemp(prefix="slaproof-bench-fleet-"))
    stores, fwds, threads, ids = [], [], [], []
    cfg = UpstreamSettings(database_url=url, batch_rows=5000, interval_s=0.5)
    for k in range(agents):
        s = Store.open(f"sqlite:///{tmp / f'a{k}.db'}")
        uuid = str(uuidlib.UUID(int=k + 1))
        aid = s.ensure_agent(uuid, START_US, f"agent-{k:02d}")
        refs = s.sync_targets(aid, [{"name": f"t{i:04d}", "address": "10.0.0.1", "checks": [ICMP]} for i in range(targets)], START_US)
        stores.append(s)
        ids.append((aid, [refs[f"t{i:04d}"].checks[0].id for i in range(targets)]))
        fwds.append(Forwarder(cfg, s, uuid, aid, f"agent-{k:02d}", tmp / f"s{k}", now_us=lambda: int(time.time() * 1e6)))
        (tmp / f"s{k}").mkdir()
    for f in fwds:
        th = threading.Thread(target=f.run, daemon=True)
        th.start()
        threads.append(th)
    per_s = agents * targets / 10.0
    t0 = time.time()
    written = 0
    while time.time() - t0 < seconds:
        tick = time.time()
        for k, s in enumerate(stores):
            aid, cids = ids[k]
            n = targets // 10  # each second a tenth of the targets run (one row every 10 s each)
            start = (written // agents) % targets
            rows = [{"ts_us": int(time.time() * 1e6), "check_id": cids[(start + j) % targets], "ok": True, "lag_us": 0,
                     "rtt_ns": 20_000_000, "rtt_min_ns": None, "rtt_max_ns": None, "jitter_ns": None, "sent": 1, "received": 1,
                     "status": None, "error_class": None, "error": None, "detail": None, "imported": False,
                     "target": f"t{(start + j) % targets:04d}", "kind": "icmp", "settings_hash": ICMP_HASH} for j in range(n)]
            with s.engine.begin() as conn:
                s.append_chained(conn, aid, chain.genesis(str(uuidlib.UUID(int=k + 1))), rows)
            written += n
        time.sleep(max(0.0, 1.0 - (time.time() - tick)))
    deadline = time.time() + 60
    central = Store.open(url, migrate=False)
    try:
        while time.time() < deadline and sum(a.rows_received for a in up.fleet_agents(central)) < written:
            time.sleep(0.2)
        with central.engine.connect() as conn:
            lags = _lags(conn)
    finally:
        central.close()
        for f in fwds:
            f.request_stop()
        for th in threads:
            th.join(30)
        for f in fwds:
            f.close()
        for s in stores:
            s.close()
    lags.sort()
    print(f"lag: {agents} agents × {targets} targets, {per_s:,.0f} rows/s for {seconds:.0f} s ({written:,} rows): "
          f"forward lag p50 {statistics.median(lags):.2f} s, p99 {lags[int(len(lags) * 0.99) - 1]:.2f} s "
          f"| floor: the forwarder's poll interval {cfg.interval_s} s | goal p99 ≤ 5 s")


def _seen_trigger(url: str) -> None:
    """In the bench database only: note when each row was inserted centrally (the batch commits right after)."""
    store = Store.open(url)
    try:
        with store.engine.begin() as conn:
            conn.execute(text("CREATE TABLE bench_seen (ts_us bigint, seen_us bigint)"))
            conn.execute(text("CREATE FUNCTION bench_seen_f() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
                              "INSERT INTO bench_seen SELECT ts_us, (extract(epoch from clock_timestamp()) * 1e6)::bigint FROM new_rows; "
                              "RETURN NULL; END $$"))
            conn.execute(text("CREATE TRIGGER bench_seen_t AFTER INSERT ON measurements REFERENCING NEW TABLE AS new_rows "
                              "FOR EACH STATEMENT EXECUTE FUNCTION bench_seen_f()"))
    finally:
        store.close()


def _lags(conn: Any) -> list[float]:
    """Seconds from each row's local commit (its ts_us: written as the rows were committed) to its central insert."""
    return [(b - a) / 1e6 for a, b in conn.execute(text("SELECT ts_us, seen_us FROM bench_seen")).all()]


# -- report ---------------------------------------------------------------------------------------
def bench_report(server: str, agents: int, targets: int, hours: float) -> None:
    url = new_db(server, "bench_report")
    central = Store.open(url)
    n_rounds = int(hours * 360)
    sims = [SimAgent(k, targets) for k in range(agents)]
    for s in sims:
        left = n_rounds * targets
        while left:
            n = min(20_000, left)
            up.ingest(central, s.batch(s.rows(n)), START_US)
            left -= n
    central.close()
    tmp = Path(tempfile.mkdtemp(prefix="slaproof-bench-fleet-report-"))
    cfg = tmp / "config.toml"
    lines = ["[agent]", f'state_dir = "{tmp}"', f'database_url = "{url}"', 'timezone = "UTC"', 'log_level = "WARNING"']
    for i in range(targets):
        lines += ["[[targets]]", f'name = "t{i:04d}"', 'address = "10.0.0.1"', "interval_s = 10", "[[targets.checks]]", 'kind = "icmp"', "count = 1"]
    cfg.write_text("\n".join(lines) + "\n", encoding="utf-8")
    start = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(START_US / 1e6))
    end = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(START_US / 1e6 + hours * 3600))
    cmd = [sys.executable, "-m", "agent.cli", "report", "-c", str(cfg), "--from", start, "--to", end, "--format", "json",
           "--out", str(tmp / "out")]
    t0 = time.perf_counter()
    p = subprocess.run(cmd, capture_output=True, text=True)
    wall = time.perf_counter() - t0
    rss_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    if p.returncode != 0:
        print(f"report failed: {p.stderr.strip()[-2000:]}")
        return
    store = Store.open(url, migrate=False)
    try:
        t0 = time.perf_counter()
        with store.engine.connect() as conn:
            conn.execute(text("SELECT check_id, count(*), sum(CASE WHEN ok THEN 1 ELSE 0 END), avg(rtt_ns) FROM measurements "
                              "GROUP BY check_id")).all()
        floor = time.perf_counter() - t0
    finally:
        store.close()
    rows = agents * targets * n_rounds
    print(f"report: {agents} agents × {targets} targets × {hours:g} h at 10 s ({rows:,} rows), summary.json: {wall:.1f} s, "
          f"peak RSS {rss_mb:,.0f} MB | floor, one SQL aggregate: {floor:.1f} s | goal at 30 days: ≤ 60 s, ≤ 500 MB")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--agents", type=int, default=10)
    ap.add_argument("--targets", type=int, default=1000)
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--batch", type=int, default=5000)
    ap.add_argument("--procs", type=int, default=2, help="forwarding processes at once (default 2: this machine's cores)")
    ap.add_argument("--lag-s", type=float, default=60.0)
    ap.add_argument("--report-agents", type=int, default=10)
    ap.add_argument("--report-targets", type=int, default=100)
    ap.add_argument("--report-hours", type=float, default=24.0)
    ap.add_argument("--only", choices=("ingest", "lag", "report"))
    a = ap.parse_args()
    reason = why_no_postgres()
    if reason:
        sys.exit(f"fleet_ingest: {reason}")
    with postgres_server() as server:
        if a.only in (None, "ingest"):
            bench_ingest(server, a.agents, a.targets, a.rows, a.batch, a.procs)
        if a.only in (None, "lag"):
            bench_lag(server, a.agents, a.targets, a.lag_s)
        if a.only in (None, "report"):
            bench_report(server, a.report_agents, a.report_targets, a.report_hours)


if __name__ == "__main__":
    main()
