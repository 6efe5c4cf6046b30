"""The command line as a user meets it: real processes, real files, exit codes and messages."""

from __future__ import annotations

import json
import os
import re
import signal
import sqlite3
import subprocess
import sys
import time
from contextlib import closing
from datetime import UTC
from pathlib import Path
from typing import Any

import pytest

ROOT_ONLY = pytest.mark.skipif(os.geteuid() != 0, reason="raw ICMP sockets need root or CAP_NET_RAW")
EXE = [sys.executable, "-m", "agent.cli"]


def sp(*args: str, timeout: float = 60, **kw: Any) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*EXE, *args], capture_output=True, text=True, timeout=timeout, **kw)


def lines(n: int, target: str = "vps", start_min: int = 0) -> list[str]:
    out = []
    for i in range(n):
        rec: dict[str, Any] = {"ts": f"2026-10-01T00:{start_min + i:02d}:00.250000Z", "target": target, "check": "icmp", "ok": i % 3 != 1}
        if rec["ok"]:
            rec.update(rtt_ms=12.5 + i, sent=5, received=5)
        else:
            rec.update(sent=5, received=0, error="timeout", error_class="timeout")
        out.append(json.dumps(rec))
    return out


@pytest.fixture
def cfg(config_file: Any) -> Path:
    return config_file([{"name": "vps", "address": "127.0.0.1", "checks": [{"kind": "icmp", "count": 1}]},
                        {"name": "ctl", "address": "127.0.0.2", "control": True, "checks": [{"kind": "icmp", "count": 1}]}])


def test_import_then_export_round_trips(cfg: Path, tmp_path: Path) -> None:
    src = tmp_path / "history.jsonl"
    src.write_text("\n".join(lines(6)) + "\n")
    p = sp("import", "-c", str(cfg), str(src))
    assert p.returncode == 0, p.stderr
    assert "imported 6 rows" in p.stdout
    out = tmp_path / "out.jsonl"
    p = sp("export", "-c", str(cfg), "--from", "2026-10-01", "--to", "2026-10-01", "--format", "jsonl", "--out", str(out))
    assert p.returncode == 0, p.stderr
    got = [json.loads(x) for x in out.read_text().splitlines()]
    want = [json.loads(x) for x in lines(6)]
    assert len(got) == 6
    for g, w in zip(got, want):
        assert g["imported"] is True and len(g["hash"]) == 64
        for k, v in w.items():
            assert g[k] == v, (k, g, w)
        assert g["loss_pct"] == (0.0 if w["ok"] else 100.0)
    # re-importing our own export is accepted (row_id/hash/imported are informational)
    p = sp("import", "-c", str(cfg), str(out))
    assert p.returncode == 0, p.stderr
    p = sp("verify", "-c", str(cfg))
    assert p.returncode == 0 and "12 rows, chain intact" in p.stdout


def test_bad_line_is_named_and_nothing_is_imported(cfg: Path, tmp_path: Path) -> None:
    rows = lines(5)
    rows[3] = rows[3].replace('"ok": true', '"ok": "yes"').replace('"ok": false', '"ok": "yes"')
    src = tmp_path / "bad.jsonl"
    src.write_text("\n".join(rows) + "\n")
    p = sp("import", "-c", str(cfg), str(src))
    assert p.returncode == 2
    assert f"{src}:4: ok must be true or false" in p.stderr
    p = sp("export", "-c", str(cfg), "--from", "2026-09-01", "--to", "2026-12-01")
    assert p.stdout == "" and "exported 0 rows" in p.stderr


def test_unknown_target_and_naive_time_refused(cfg: Path, tmp_path: Path) -> None:
    src = tmp_path / "x.jsonl"
    src.write_text('{"ts": "2026-10-01T00:00:00", "target": "vps", "check": "icmp", "ok": true}\n')
    p = sp("import", "-c", str(cfg), str(src))
    assert p.returncode == 2 and "has no zone" in p.stderr
    src.write_text('{"ts": "2026-10-01T00:00:00Z", "target": "nope", "check": "icmp", "ok": true}\n')
    p = sp("import", "-c", str(cfg), str(src))
    assert p.returncode == 2 and "target 'nope' is not in the config" in p.stderr


def test_bad_dates_exit_2(cfg: Path) -> None:
    p = sp("export", "-c", str(cfg), "--from", "2026-13-01", "--to", "2026-12-01")
    assert p.returncode == 2 and "--from '2026-13-01': not a date" in p.stderr
    p = sp("export", "-c", str(cfg), "--from", "2026-12-02", "--to", "2026-12-01")
    assert p.returncode == 2 and "the period is empty" in p.stderr


def test_verify_names_the_altered_row(cfg: Path, tmp_path: Path) -> None:
    src = tmp_path / "h.jsonl"
    src.write_text("\n".join(lines(5)) + "\n")
    assert sp("import", "-c", str(cfg), str(src)).returncode == 0
    db = tmp_path / "state" / "slaproof.db"
    with closing(sqlite3.connect(db)) as c:
        (rid,) = c.execute("SELECT id FROM measurements ORDER BY id LIMIT 1 OFFSET 1").fetchone()
        c.execute("UPDATE measurements SET ok = 1 WHERE id = ?", (rid,))
        c.commit()
    p = sp("verify", "-c", str(cfg))
    assert p.returncode == 1
    assert f"BROKEN at row {rid}" in p.stdout


def test_init_writes_a_config_that_loads(tmp_path: Path) -> None:
    path = tmp_path / "etc" / "config.toml"
    assert sp("init", str(path)).returncode == 0
    p = sp("init", str(path))
    assert p.returncode == 2 and "--force" in p.stderr
    from agent.config import load_config

    s, _ = load_config(path)
    assert s.targets and all(t.address.startswith("127.") for t in s.targets)


@ROOT_ONLY
@pytest.mark.root
def test_probe_prints_a_table(cfg: Path) -> None:
    p = sp("probe", "-c", str(cfg))
    assert p.returncode == 0, p.stderr
    assert "vps" in p.stdout and "icmp" in p.stdout and "yes" in p.stdout
    p = sp("probe", "-c", str(cfg), "ghost")
    assert p.returncode == 2 and "unknown target(s): ghost" in p.stderr


def test_probe_prints_bandwidth_figures(config_file: Any) -> None:
    from agent.serve.responder import make_server

    with make_server("127.0.0.1:0", max_bytes=10_000_000) as srv:
        host, port = srv.server_address[:2]
        cfg = config_file([{"name": "bw", "address": "127.0.0.1", "checks": [
            {"kind": "bandwidth", "url": f"http://{host}:{port}/download?bytes=4000000", "max_bytes": 4_000_000,
             "warmup_s": 0.0, "streams": 2}]}])
        p = sp("probe", "-c", str(cfg), "--json")
        q = sp("probe", "-c", str(cfg))
    assert p.returncode == 0, p.stderr
    (row,) = [json.loads(line) for line in p.stdout.splitlines()]
    assert row["check"] == "bandwidth" and row["ok"] and row["figures"]["mbps_mean"] > 0
    # A stream stops at the cap plus at most one read: 4.0-4.2 MB moved.
    assert q.returncode == 0 and re.search(r"\d Mbit/s download, 4\.[0-2] MB moved", q.stdout), q.stdout


def test_status_counts_like_the_report(config_file: Any, tmp_path: Path) -> None:
    """Bandwidth tests, budget skips and rows of earlier check settings are shown or kept, but
    do not decide whether a target is up."""
    from datetime import datetime, timedelta

    from agent import identity
    from agent.checks import check_settings
    from agent.config import load_config
    from agent.core.result import ProbeResult
    from agent.store import Store
    from agent.writer import Writer

    bw = {"kind": "bandwidth", "url": "http://127.0.0.1:9/download"}
    cfg = config_file([{"name": "web", "address": "127.0.0.1", "checks": [{"kind": "tcp", "port": 80}, bw]},
                       {"name": "svc", "address": "127.0.0.2", "checks": [{"kind": "tcp", "port": 81}]}])
    settings, _ = load_config(cfg)
    store = Store.open(settings.database_url())
    uuid_ = identity.load_or_create(settings.state_dir())
    aid = store.ensure_agent(uuid_, 0)
    specs = [{"name": t.name, "address": t.address, "checks": [check_settings(c) for c in t.checks]} for t in settings.targets]
    old = [{"name": "web", "address": "127.0.0.1", "checks": [{"kind": "tcp", "port": 8080, "timeout_s": 5.0}]}]
    refs, old_refs = store.sync_targets(aid, specs, 0), store.sync_targets(aid, old, 0)
    t0 = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
    w = Writer(store, uuid_, aid, batch_s=0.05).start()
    w.submit(old_refs["web"].checks[0], ProbeResult("tcp", t0, False, None, {}, "refused", "refused"), 0)
    w.submit(refs["web"].checks[0], ProbeResult("tcp", t0 + timedelta(seconds=10), True, 0.1, {}), 0)
    w.submit(refs["web"].checks[1], ProbeResult("bandwidth", t0 + timedelta(seconds=11), False, None, {"skipped": True},
                                                "skipped", "agent-wide daily traffic budget"), 0)
    w.submit(refs["svc"].checks[0], ProbeResult("tcp", t0 + timedelta(seconds=12), False, None, {}, "refused", "refused"), 0)
    w.close()
    store.close()
    p = sp("status", "-c", str(cfg))
    assert p.returncode == 0, p.stderr
    lines = {ln.split()[0]: ln for ln in p.stdout.splitlines()[2:]}
    assert lines["web"].split()[1] == "up" and "bandwidth skipped" in lines["web"] and "refused" not in lines["web"]
    assert lines["svc"].split()[1] == "down" and "tcp refused" in lines["svc"]


def _wait_rows(db: Path, n: int, timeout: float = 30) -> int:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if db.exists():
            try:
                with closing(sqlite3.connect(db, timeout=5)) as c:
                    got = c.execute("SELECT count(*) FROM measurements").fetchone()[0]
                if got >= n:
                    return int(got)
            except sqlite3.OperationalError:
                pass
        time.sleep(0.2)
    raise AssertionError(f"fewer than {n} rows after {timeout}s")


@ROOT_ONLY
@pytest.mark.root
def test_kill_9_then_restart(config_file: Any, tmp_path: Path) -> None:
    cfg = config_file([{"name": "vps", "address": "127.0.0.1", "interval_s": 1, "checks": [{"kind": "icmp", "count": 1}]}],
                      batch_s=0.1, heartbeat_s=1)
    db = tmp_path / "state" / "slaproof.db"
    proc = subprocess.Popen([*EXE, "run", "-c", str(cfg), "--duration", "60"], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        _wait_rows(db, 3)
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.communicate(timeout=10)
    with closing(sqlite3.connect(db)) as c:
        assert c.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        (stop,) = c.execute("SELECT stop FROM runs").fetchone()
        assert stop is None  # nobody could record the end
    p = sp("verify", "-c", str(cfg))
    assert p.returncode == 0, p.stdout + p.stderr
    p = sp("run", "-c", str(cfg), "--duration", "1.5")
    assert p.returncode == 0, p.stderr
    assert "ended without a clean stop" in p.stderr
    with closing(sqlite3.connect(db)) as c:
        runs = c.execute("SELECT stop, ended_us IS NOT NULL FROM runs ORDER BY id").fetchall()
    assert runs == [("unclean", 1), ("clean", 1)]


@ROOT_ONLY
@pytest.mark.root
def test_sigterm_flushes_and_records_a_clean_stop(config_file: Any, tmp_path: Path) -> None:
    cfg = config_file([{"name": "vps", "address": "127.0.0.1", "interval_s": 1, "checks": [{"kind": "icmp", "count": 1}]}],
                      batch_s=5)  # long batches: rows are still queued when SIGTERM arrives
    db = tmp_path / "state" / "slaproof.db"
    proc = subprocess.Popen([*EXE, "run", "-c", str(cfg), "--duration", "60"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 30
        while not db.exists() and time.monotonic() < deadline:
            time.sleep(0.1)
        time.sleep(3.5)
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, err
    m = [int(x) for x in err.split("stopped cleanly: ")[1].split(" rounds, ")[0:1]]
    with closing(sqlite3.connect(db)) as c:
        rows = c.execute("SELECT count(*) FROM measurements").fetchone()[0]
        (stop,) = c.execute("SELECT stop FROM runs").fetchone()
    assert stop == "clean"
    assert rows == m[0] >= 2  # every round's row reached the disk
