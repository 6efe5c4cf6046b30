"""The command line as a user meets it: real processes, real files, exit codes and messages."""

from __future__ import annotations

import json
import os
import re
import sqlite3
import subprocess
import sys
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
    # re-importing our own export is accepted (row_id/hash/imported are informational), and its rows,
    # the same target, check, time and tool ("unknown") as those imported, are not stored twice
    p = sp("import", "-c", str(cfg), str(out))
    assert p.returncode == 0, p.stderr
    assert "imported 0 rows" in p.stdout and "6 rows already present were skipped" in p.stdout
    p = sp("verify", "-c", str(cfg))
    assert p.returncode == 0 and "6 rows, chain intact" in p.stdout


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


def refused(p: subprocess.CompletedProcess[str], code: int, *words: str) -> None:
    """One line on stderr naming the problem, the exit code, no traceback."""
    assert p.returncode == code, (p.returncode, p.stderr)
    lines = [ln for ln in p.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1 and lines[0].startswith("slaproof: error: "), p.stderr
    for w in words:
        assert w in lines[0], (w, lines[0])


@pytest.mark.parametrize(("frm", "to", "words"), [
    ("2026-11-01", "9999-12-31", ("--to '9999-12-31'", "out of range")),
    ("0001-01-01", "2026-11-01", ("--from '0001-01-01'", "out of range")),
    ("1969-12-31T23:00:00Z", "2026-11-01", ("out of range",)),
    ("2026-01-01", "2200-12-31", ("days long", "at most 400 days")),
    ("2300-01-01", "2300-01-02", ("starts in the future",)),
])
def test_periods_out_of_bounds_are_refused_at_once(cfg: Path, tmp_path: Path, frm: str, to: str, words: tuple[str, ...]) -> None:
    out = tmp_path / "rep"
    p = sp("report", "-c", str(cfg), "--from", frm, "--to", to, "--out", str(out), timeout=30)
    refused(p, 2, *words)
    assert not out.exists() and not list(tmp_path.glob(".rep.partial-*"))
    refused(sp("export", "-c", str(cfg), "--from", frm, "--to", to, timeout=30), 2, *words)


def test_sla_month_out_of_range(cfg: Path) -> None:
    refused(sp("sla", "-c", str(cfg), "--month", "9999-12"), 2)


BAD_IMPORTS = [
    ('{"ts": "2026-10-01T00:00:00Z", "target": "vps", "check": "icmp", "ok": true, "rtt_ms": 1e30}', ":1: rtt_ms 1e+30 is out of range"),
    ('{"ts": "2026-10-01T00:00:00Z", "target": "vps", "check": "icmp", "ok": true, "rtt_ms": NaN}', ":1: not valid JSON (NaN is not a JSON number)"),
    ('{"ts": "2026-10-01T00:00:00Z", "target": "vps", "check": "icmp", "ok": true, "detail": {"x": NaN}}', "NaN is not a JSON number"),
    ('{"ts": "2026-10-01T00:00:00Z", "target": "vps", "check": "icmp", "ok": true, "detail": {"x": -Infinity}}', "-Infinity is not a JSON number"),
    ('{"ts": "9999-12-31T00:00:00Z", "target": "vps", "check": "icmp", "ok": true}', "is in the future (this machine's clock says"),
    ('{"ts": "0001-01-01T00:00:00+08:00", "target": "vps", "check": "icmp", "ok": true}', "is out of range"),
    ('{"ts": "2026-10-01T00:00:00Z", "target": "vps", "check": "icmp", "ok": true, "error": "\\ud800"}', "lone surrogate"),
    ('{"ts": "2026-10-01T00:00:00Z", "target": "vps", "check": "icmp", "ok": true, "sent": 3, "received": 4}', "received 4 is more than sent 3"),
    ('{"ts": "2026-10-01T00:00:00Z", "target": "vps", "check": "icmp", "ok": true, "status": 1e308}', "status 1e+308 is out of range"),
]


@pytest.mark.parametrize(("line", "words"), BAD_IMPORTS)
def test_bad_imports_are_refused_and_nothing_is_written(cfg: Path, tmp_path: Path, line: str, words: str) -> None:
    good = lines(3)
    src = tmp_path / "bad.jsonl"
    src.write_text("\n".join([*good, line]) + "\n")
    refused(sp("import", "-c", str(cfg), str(src)), 2, f"{src}:4", words.lstrip(":1"))
    db = tmp_path / "state" / "slaproof.db"
    if db.exists():  # nothing at all: no measurement, no check row
        with closing(sqlite3.connect(db)) as c:
            assert c.execute("SELECT count(*) FROM measurements").fetchone()[0] == 0
            assert c.execute("SELECT count(*) FROM checks").fetchone()[0] == 0


def test_import_of_bytes_that_are_not_utf8(cfg: Path, tmp_path: Path) -> None:
    src = tmp_path / "latin1.jsonl"
    src.write_bytes(lines(1)[0].encode() + b"\n" + '{"ts": "2026-10-01T00:01:00Z", "target": "vps", "check": "icmp", "ok": true, "error": "caf\u00e9"}'.encode("latin-1") + b"\n")
    refused(sp("import", "-c", str(cfg), str(src)), 2, f"{src}:2", "not UTF-8", "save the file as UTF-8")
    bom = tmp_path / "bom.jsonl"
    bom.write_bytes(b"\xef\xbb\xbf" + "\n".join(lines(2)).encode() + b"\n")  # a BOM (Notepad) is not an error
    p = sp("import", "-c", str(cfg), str(bom))
    assert p.returncode == 0 and "imported 2 rows" in p.stdout, p.stderr


@pytest.mark.parametrize(("url", "code", "words"), [
    ("postgresql://user:hunter2pw@127.0.0.1:notaport/db", 2, ("its port is not a number", "user:***@")),
    ("mysql://user:hunter2pw@127.0.0.1/db", 2, ("mysql is not supported", "SQLite", "PostgreSQL")),
    ("postgresql+psycopg://user:hunter2pw@127.0.0.1:1/db", 3, ("cannot open the database", "user:***@")),
])
def test_database_urls_refused_with_the_password_masked(config_file: Any, url: str, code: int, words: tuple[str, ...]) -> None:
    cfg = config_file([{"name": "vps", "address": "127.0.0.1", "checks": [{"kind": "icmp"}]}], database_url=url)
    p = sp("status", "-c", str(cfg))
    refused(p, code, *words)
    assert "hunter2pw" not in p.stderr + p.stdout


def test_db_upgrade_refuses_to_create_a_database_in_a_missing_folder(config_file: Any, tmp_path: Path) -> None:
    missing = tmp_path / "typo" / "slaproof.db"
    cfg = config_file([{"name": "vps", "address": "127.0.0.1", "checks": [{"kind": "icmp"}]}], database_url=f"sqlite:///{missing}")
    refused(sp("db", "upgrade", "-c", str(cfg)), 3, "does not exist", "nothing was created")
    assert not missing.parent.exists()
    missing.parent.mkdir()
    p = sp("db", "upgrade", "-c", str(cfg))
    assert p.returncode == 0 and "schema at revision" in p.stdout, p.stderr


def test_a_secret_in_a_config_error_is_not_echoed(config_file: Any, tmp_path: Path) -> None:
    cfg = tmp_path / "c.toml"
    cfg.write_text('[agent]\ndatabse_url = "postgresql://u:hunter2pw@db/x"\n[[targets]]\nname = "a"\naddress = "127.0.0.1"\n'
                   '[[targets.checks]]\nkind = "http"\nurl = "htp://u:hunter3pw@h/?token=hunter4pw"\n'
                   '[[targets.checks]]\nkind = "bandwidth"\nurl = "http://h/"\ntoken = 5\n')
    p = sp("status", "-c", str(cfg))
    assert p.returncode == 2 and "Traceback" not in p.stderr
    assert "databse_url: unknown key" in p.stderr and "not an http:// or https:// URL" in p.stderr, p.stderr
    for secret in ("hunter2pw", "hunter3pw", "hunter4pw"):
        assert secret not in p.stderr, p.stderr


def test_export_to_a_folder_that_does_not_exist(cfg: Path, tmp_path: Path) -> None:
    refused(sp("export", "-c", str(cfg), "--from", "2026-10-01", "--to", "2026-10-02", "--out", str(tmp_path / "no" / "x.csv")),
            2, "cannot write")
