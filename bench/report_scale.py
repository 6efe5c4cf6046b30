"""Benchmark: the report over 30 days of 10-second rounds.

Cases (issue 3):
  small: 1 target × 30 days at 10 s (259,200 rows): the whole report, all formats (goal ≤ 3 s)
  large: 100 targets × 30 days at 10 s (25.9 M rows): summary.json (goal ≤ 60 s, peak RSS ≤ 500 MB)
For each it prints wall time and peak RSS of a fresh `slaproof report` process, and the time of
the same aggregation done as one plain SQL query over the same file (the floor to compare with).

The database is generated once per case into /tmp/slaproof-bench-report-<case>/ (kept between
runs; --regen to rebuild) with real chain hashes, 1 % of rounds failed in outages of 5–30 minutes,
an agent gap, and a control target.

Usage: .venv/bin/python bench/report_scale.py [small|large|both|multi] [--regen]
  multi: 1 target with ICMP, TCP and HTTP checks (776,520 rows), all formats (informational, no goal)
"""

from __future__ import annotations

import json
import random
import resource
import shutil
import sqlite3
import subprocess
import sys
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from agent.store import (  # noqa: E402
    Store,
    chain,
    settings_hash,
)

START = datetime(2026, 10, 1, tzinfo=UTC)
START_US = int(START.timestamp()) * 1_000_000
DAYS = 30
INTERVAL_S = 10


CHECK_SETTINGS = {
    "icmp": {"kind": "icmp", "count": 1, "spacing_s": 0.2, "timeout_s": 1.0, "payload_size": 56},
    "tcp": {"kind": "tcp", "port": 22, "timeout_s": 5.0},
    "http": {"kind": "http", "url": "http://127.0.0.1/", "method": "GET", "expect_status": [], "keyword": None,
             "timeout_s": 10.0, "verify_tls": True},
}
CHECK_TOML = {"icmp": ['kind = "icmp"', "count = 1"], "tcp": ['kind = "tcp"', "port = 22"],
              "http": ['kind = "http"', 'url = "http://127.0.0.1/"']}


def config_text(state: Path, n: int, control: bool, kinds: tuple[str, ...] = ("icmp",)) -> str:
    lines = ["[agent]", f'state_dir = "{state}"', 'timezone = "UTC"', 'log_level = "WARNING"']
    for i in range(n):
        lines += ["[[targets]]", f'name = "t{i:03d}"', f'address = "127.0.{i // 250}.{i % 250 + 1}"', f"interval_s = {INTERVAL_S}"]
        for k in kinds:
            lines += ["[[targets.checks]]", *CHECK_TOML[k]]
    if control:
        lines += ["[[targets]]", 'name = "control"', 'address = "127.0.9.9"', "control = true", f"interval_s = {INTERVAL_S}",
                  "[[targets.checks]]", 'kind = "icmp"', "count = 1"]
    return "\n".join(lines) + "\n"


def generate(work: Path, n: int, control: bool, kinds: tuple[str, ...] = ("icmp",)) -> Path:
    state = work / "state"
    state.mkdir(parents=True, exist_ok=True)
    cfg = work / "config.toml"
    cfg.write_text(config_text(state, n, control, kinds))
    db = state / "slaproof.db"
    store = Store.open(f"sqlite:///{db}")
    agent_uuid = str(uuid.uuid4())
    (state / "agent-id").write_text(agent_uuid + "\n")
    aid = store.ensure_agent(agent_uuid, START_US)
    names = [f"t{i:03d}" for i in range(n)] + (["control"] if control else [])
    target_kinds = {nm: ("icmp",) if nm == "control" else kinds for nm in names}
    refs = store.sync_targets(aid, [{"name": nm, "address": "127.0.0.1", "control": nm == "control",
                                     "checks": [CHECK_SETTINGS[k] for k in target_kinds[nm]]} for nm in names], START_US)
    hashes = {k: settings_hash(CHECK_SETTINGS[k]) for k in CHECK_SETTINGS}
    rounds = DAYS * 86400 // INTERVAL_S
    gap = (rounds // 2, rounds // 2 + 360)  # one hour without the agent
    store.start_run(aid, START_US, version="bench", pid=1, config_hash=None)
    store.close()
    rng = random.Random(7)
    c = sqlite3.connect(db)
    c.execute("PRAGMA journal_mode=WAL")
    c.execute("PRAGMA synchronous=OFF")
    prev = chain.genesis(agent_uuid)
    t0 = time.monotonic()
    # bad rounds per target: outages of 30..180 rounds covering ~1 %
    bad: dict[str, set[int]] = {}
    for nm in names:
        s: set[int] = set()
        while len(s) < rounds // 100 and nm != "control":
            a = rng.randrange(rounds)
            s.update(range(a, min(rounds, a + rng.randint(30, 180))))
        bad[nm] = s
    phase = {nm: rng.randrange(INTERVAL_S * 1_000_000) for nm in names}
    batch = []
    total = 0
    for k in range(rounds):
        if gap[0] <= k < gap[1]:
            continue
        for nm in names:
            ok = k not in bad[nm]
            for j, kind in enumerate(target_kinds[nm]):
                lag = rng.randint(200, 3000)
                ts = START_US + k * INTERVAL_S * 1_000_000 + phase[nm] + lag
                rtt = rng.randint(18_000, 26_000) * 1000 * (1 + j) if ok else None
                icmp = kind == "icmp"
                sent, received = (1, 1 if ok else 0) if icmp else (None, None)
                status = (200 if ok else None) if kind == "http" else None
                row = {"ts_us": ts, "target": nm, "kind": kind, "settings_hash": hashes[kind], "ok": ok, "lag_us": lag, "rtt_ns": rtt,
                       "rtt_min_ns": None, "rtt_max_ns": None, "jitter_ns": None, "sent": sent, "received": received,
                       "status": status, "error_class": None if ok else "timeout", "error": None if ok else "no reply within 1.0 s",
                       "detail": None, "imported": False}
                h = chain.link(prev, row)
                prev = h
                batch.append((ts, refs[nm].checks[j].id, ok, lag, rtt, None, None, None, sent, received, status,
                              row["error_class"], row["error"], None, False, h))
        if len(batch) >= 200_000:
            c.executemany("INSERT INTO measurements (ts_us, check_id, ok, lag_us, rtt_ns, rtt_min_ns, rtt_max_ns, jitter_ns, sent, received, "
                          "status, error_class, error, detail, imported, hash) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)", batch)
            c.commit()
            total += len(batch)
            batch = []
            print(f"\r  generated {total:,} rows ({time.monotonic() - t0:.0f} s)", end="", file=sys.stderr)
    if batch:
        c.executemany("INSERT INTO measurements (ts_us, check_id, ok, lag_us, rtt_ns, rtt_min_ns, rtt_max_ns, jitter_ns, sent, received, "
                      "status, error_class, error, detail, imported, hash) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)", batch)
        total += len(batch)
    end_us = START_US + rounds * INTERVAL_S * 1_000_000
    c.execute("UPDATE runs SET ended_us = ?, last_seen_us = ?, stop = 'unclean' WHERE id = 1", (START_US + gap[0] * INTERVAL_S * 1_000_000,) * 2)
    c.execute("INSERT INTO runs (agent_id, started_us, ended_us, last_seen_us, stop, version, hostname, pid) VALUES (?,?,?,?,?,?,?,?)",
              (aid, START_US + gap[1] * INTERVAL_S * 1_000_000, end_us, end_us, "clean", "bench", "bench", 1))
    c.commit()
    c.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    c.close()
    print(f"\r  generated {total:,} rows in {time.monotonic() - t0:.0f} s", file=sys.stderr)
    (work / "ready").write_text(str(total))
    return cfg


def run_report(cfg: Path, out: Path, fmt: str, targets: list[str]) -> tuple[float, float, str]:
    shutil.rmtree(out, ignore_errors=True)
    exe = Path(sys.executable).with_name("slaproof")
    args = [str(exe), "report", "-c", str(cfg), "--from", "2026-10-01", "--to", "2026-10-30", "--format", fmt, "--out", str(out)]
    for t in targets:
        args += ["--target", t]
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    t0 = time.monotonic()
    p = subprocess.run(args, capture_output=True, text=True)
    wall = time.monotonic() - t0
    rss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    if p.returncode != 0:
        raise SystemExit(p.stderr)
    return wall, max(rss, before) / 1024, p.stdout


def sql_floor(db: Path, check_ids: str) -> float:
    """One plain query computing the same per-target figures the summary holds (counts, failures, loss, mean RTT)."""
    c = sqlite3.connect(db)
    t0 = time.monotonic()
    c.execute(f"SELECT check_id, count(*), sum(ok), sum(sent), sum(received), avg(rtt_ns), min(rtt_ns), max(rtt_ns) "
              f"FROM measurements WHERE check_id IN ({check_ids}) AND ts_us >= ? AND ts_us < ? GROUP BY check_id",
              (START_US, START_US + DAYS * 86400 * 1_000_000)).fetchall()
    return time.monotonic() - t0


def case(name: str, n: int, fmt: str, targets: list[str], regen: bool, kinds: tuple[str, ...] = ("icmp",)) -> dict[str, object]:
    work = Path(f"/tmp/slaproof-bench-report-{name}")
    if regen or not (work / "ready").exists():
        shutil.rmtree(work, ignore_errors=True)
        work.mkdir(parents=True)
        print(f"{name}: generating {n} target(s) × {DAYS} days at {INTERVAL_S} s …", file=sys.stderr)
        generate(work, n, control=n > 1, kinds=kinds)
    cfg = work / "config.toml"
    db = work / "state" / "slaproof.db"
    ids = ",".join(str(r[0]) for r in sqlite3.connect(db).execute("SELECT id FROM checks"))
    wall, rss, _ = run_report(cfg, work / "out", fmt, targets)
    floor = sql_floor(db, ids)
    rows = json.loads((work / "out" / "manifest.json").read_text())["rows_used"]
    return {"case": name, "targets": n, "rows_in_db": int((work / "ready").read_text()), "rows_used": rows, "formats": fmt,
            "report_s": round(wall, 2), "peak_rss_mb": round(rss, 1), "plain_sql_floor_s": round(floor, 2)}


def main() -> int:
    which = sys.argv[1] if len(sys.argv) > 1 and not sys.argv[1].startswith("-") else "both"
    regen = "--regen" in sys.argv
    results = []
    if which in ("small", "both"):
        results.append(case("small", 1, "pdf,html,csv,json", [], regen))
        print(json.dumps(results[-1]), flush=True)
        print(f"{'PASS' if results[-1]['report_s'] <= 3 else 'MISS'}  small: all formats ≤ 3 s", flush=True)
    if which == "multi":  # not a goal of the issue: a target with ICMP, TCP and HTTP checks, all formats
        results.append(case("multi", 1, "pdf,html,csv,json", [], regen, kinds=("icmp", "tcp", "http")))
        print(json.dumps(results[-1]), flush=True)
    if which in ("large", "both"):
        results.append(case("large", 100, "json", [], regen))
        print(json.dumps(results[-1]), flush=True)
        ok = results[-1]["report_s"] <= 60 and results[-1]["peak_rss_mb"] <= 500
        print(f"{'PASS' if ok else 'MISS'}  large: summary.json ≤ 60 s and ≤ 500 MB", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
