"""`slaproof import`'s evidence rules beyond a line's own checks: rows already present are skipped
and counted (never stored twice), rows dated in the future are refused. Real SQLite files; the
command line as a user meets it, and the store functions with an injected clock for the edges."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
from contextlib import closing
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from agent.core.errors import UsageError
from agent.store.database import Store
from agent.store.exchange import MAX_AHEAD_US, source_of
from agent.store.importing import check_file, import_file

START = datetime(2026, 10, 1, tzinfo=UTC)
AGENT = "00000000-0000-4000-8000-00000000000a"


def sp(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "agent.cli", *args], capture_output=True, text=True, timeout=60)


def rec(minute: int, target: str = "vps", *, ok: bool = True, at: datetime = START) -> str:
    r: dict[str, Any] = {"ts": (at + timedelta(minutes=minute)).isoformat(), "target": target, "check": "icmp", "ok": ok}
    r.update({"rtt_ms": 10.0 + minute, "sent": 5, "received": 5} if ok else {"sent": 5, "received": 0, "error_class": "timeout"})
    return json.dumps(r)


def write(path: Path, minutes: range, target: str = "vps") -> Path:
    path.write_text("".join(rec(m, target, ok=m % 4 != 3) + "\n" for m in minutes))
    return path


@pytest.fixture
def cfg(config_file: Any) -> Path:
    return config_file([{"name": "vps", "address": "127.0.0.1", "checks": [{"kind": "icmp", "count": 1}]},
                        {"name": "ctl", "address": "127.0.0.2", "control": True, "checks": [{"kind": "icmp", "count": 1}]}])


def counts(tmp_path: Path) -> tuple[int, int]:
    """(measurement rows, check rows) in the config's database."""
    with closing(sqlite3.connect(tmp_path / "state" / "slaproof.db")) as c:
        return c.execute("SELECT count(*) FROM measurements").fetchone()[0], c.execute("SELECT count(*) FROM checks").fetchone()[0]


def test_the_same_file_twice_stores_its_rows_once_and_says_so(cfg: Path, tmp_path: Path) -> None:
    src = write(tmp_path / "smokeping.jsonl", range(20))
    first = sp("import", "-c", str(cfg), str(src), "--tool", "smokeping 2.8.2")
    assert first.returncode == 0, first.stderr
    assert "imported 20 rows" in first.stdout and "already present" not in first.stdout
    stored = counts(tmp_path)
    again = sp("import", "-c", str(cfg), str(src), "--tool", "smokeping 2.8.2")
    assert again.returncode == 0, again.stderr
    assert again.stdout.splitlines() == [f"imported 0 rows from {src} (marked imported)",
                                         "20 rows already present were skipped (same target, check, time and tool)"]
    assert counts(tmp_path) == stored  # no row, and no check row, written
    p = sp("verify", "-c", str(cfg))
    assert p.returncode == 0 and "20 rows, chain intact" in p.stdout


def test_an_overlapping_file_adds_only_its_new_rows_and_the_chain_verifies(cfg: Path, tmp_path: Path) -> None:
    a = write(tmp_path / "jan.jsonl", range(30))
    b = tmp_path / "jan-feb.jsonl"  # another export of the same tool: 20 rows already in, 15 new (ctl's 5 among them)
    b.write_text("".join(rec(m) + "\n" for m in range(10, 40)) + "".join(rec(m, "ctl") + "\n" for m in range(5)))
    assert sp("import", "-c", str(cfg), str(a), "--tool", "fping 5.1").returncode == 0
    p = sp("import", "-c", str(cfg), str(b), "--tool", "fping 5.1")
    assert p.returncode == 0, p.stderr
    assert "imported 15 rows" in p.stdout and "20 rows already present were skipped" in p.stdout
    p = sp("verify", "-c", str(cfg))
    assert p.returncode == 0 and "45 rows, chain intact" in p.stdout, p.stdout
    out = tmp_path / "out.jsonl"
    assert sp("export", "-c", str(cfg), "--from", "2026-10-01", "--to", "2026-10-01", "--target", "vps", "--out", str(out)).returncode == 0
    times = [json.loads(x)["ts"] for x in out.read_text().splitlines()]
    assert len(times) == len(set(times)) == 40  # every minute once, none twice
    # The same times measured by another tool are another source: stored beside them, not skipped.
    p = sp("import", "-c", str(cfg), str(a), "--tool", "smokeping 2.8.2")
    assert p.returncode == 0 and "imported 30 rows" in p.stdout and "already present" not in p.stdout


def test_a_future_dated_line_is_refused_with_its_file_and_line_and_nothing_is_written(cfg: Path, tmp_path: Path) -> None:
    assert sp("import", "-c", str(cfg), str(write(tmp_path / "old.jsonl", range(5)))).returncode == 0
    stored = counts(tmp_path)
    src = tmp_path / "later.jsonl"
    in_an_hour = datetime.now(UTC) + timedelta(hours=1)  # a zone offset left out is hours off: refused, not a day's grace
    src.write_text(rec(10) + "\n" + rec(11) + "\n" + rec(0, at=in_an_hour) + "\n" + rec(12) + "\n")
    p = sp("import", "-c", str(cfg), str(src))
    assert p.returncode == 2, p.stderr
    (line,) = [ln for ln in p.stderr.splitlines() if ln.strip()]
    assert line.startswith(f"slaproof: error: {src}:3: ts ") and "is in the future" in line and "Traceback" not in p.stderr
    assert counts(tmp_path) == stored


def test_the_future_is_judged_by_the_injected_clock_with_a_few_minutes_of_tolerance(tmp_path: Path) -> None:
    now = START + timedelta(days=3)
    ahead = timedelta(microseconds=MAX_AHEAD_US)
    src = tmp_path / "edge.jsonl"
    src.write_text(rec(0, at=now + ahead) + "\n")  # exactly at the tolerance: a clock a little fast
    assert check_file(src, {"vps"}, lambda: now).records == 1
    src.write_text(rec(0, at=now) + "\n" + rec(0, at=now + ahead + timedelta(seconds=1)) + "\n")
    with pytest.raises(UsageError, match=rf"^{src}:2: ts '.*' is in the future \(this machine's clock says 2026-10-04T00:00:00.000000Z"):
        check_file(src, {"vps"}, lambda: now)
    with pytest.raises(UsageError, match="no records"):
        check_file(write(tmp_path / "empty.jsonl", range(0)), {"vps"}, lambda: now)


def test_presence_spans_chunks_and_repeats_within_a_file(tmp_path: Path) -> None:
    """Chunks of 3 rows: a time repeated three chunks later, and one of an earlier import made
    before sources were kept (a check row with no tool: "unknown"), are both found present."""
    store = Store.open(f"sqlite:///{tmp_path / 'db.sqlite'}")
    now = START + timedelta(days=3)
    old = write(tmp_path / "old.jsonl", range(2))
    got = import_file(store, check_file(old, {"vps"}, lambda: now), agent_uuid=AGENT, addresses={"vps": "127.0.0.1"},
                      source={})  # the settings of an import made before sources were kept
    assert (got.new, got.present) == (2, 0)
    src = tmp_path / "new.jsonl"
    src.write_text("".join(rec(m) + "\n" for m in (0, 1, 2, 3, 4, 5, 6, 7, 2, 8, 2)))
    got = import_file(store, check_file(src, {"vps"}, lambda: now), agent_uuid=AGENT, addresses={"vps": "127.0.0.1"},
                      source=source_of(src, None), chunk=3)
    assert (got.new, got.present) == (7, 4)  # minutes 0, 1 from the old file; minute 2 twice more
    with store.engine.connect() as conn:
        times = [t for (t,) in conn.exec_driver_sql("SELECT ts_us FROM measurements ORDER BY id")]
    assert len(times) == len(set(times)) == 9
