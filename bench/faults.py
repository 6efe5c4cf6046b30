"""Benchmark of the faults in docs/reliability.md: what the agent loses, and what durability costs.

Prints each figure beside its floor:

1. kill -9 at N random moments (default 100) of the real agent measuring 50 loopback targets
   (TCP, plus ICMP as root) every 2 s; ground truth is the TCP listener's own accept log.
   Floor: 0 rows lost of rounds that finished more than 50 ms before the kill; no duplicate;
   database intact; chain intact; every run recorded (unclean, true start, end ≥ its last row).
   ``--before DIR`` runs the same loop against another checkout (e.g. the code before the journal).
2. Disk full (root): the state directory on a 6 MB tmpfs that is filled while the agent runs;
   with a spool folder elsewhere, and without one. Floor: with a spool 0 lost; without, the
   agent's own "N rows could not be kept" equals what is missing.
3. The bandwidth responder with 200 sockets that never finish their headers (half from one
   address, half from 100): time to serve 20 authorised 1 MB downloads. Floor: every one served.
4. What durability costs the writer (no network): CPU µs and bytes written per row for 1,000
   targets × 2 checks every 10 s: batch commits only (the old writer: rows in memory until
   the batch), the journal (one write() per round + one commit per second), and a commit per round.

Usage: .venv/bin/python bench/faults.py [--kills 100] [--before DIR] [--skip kill,disk,responder,cost]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.support.faults import AcceptLog, agent_process, db_rows, fault_config, fill, kill_loop, small_tmpfs, wait_until


def kill_figures(kills: int, before: Path | None) -> None:
    icmp = os.geteuid() == 0
    for label, code in [("journal (this checkout)", None), *([("before", before)] if before else [])]:
        with tempfile.TemporaryDirectory(dir="/var/tmp") as d:
            t0 = time.monotonic()
            kw = {"code": code} if code else {}
            r = kill_loop(Path(d), iterations=kills, targets=50, interval_s=2.0, icmp=icmp, seed=11, **kw)
            took = time.monotonic() - t0
        per = [r.lost_by_run.get(i, 0) for i in range(len(r.kills))]
        print(f"kill -9 [{label}]: {len(r.kills)} kills at random moments ({'ICMP+TCP' if icmp else 'TCP'}, 50 targets / 2 s), {took:.0f} s")
        print(f"  rounds checked (finished > 50 ms before a kill): {r.checked}; within 50 ms of a kill: {r.in_window}")
        print(f"  rows lost: {r.lost}   (floor 0)   per kill: mean {statistics.mean(per) if per else 0:.1f}, max {max(per, default=0)}")
        print(f"  duplicates: {r.duplicates} (floor 0); false 'down' rows: {r.false_down} (floor 0)")
        print(f"  integrity_check: {r.integrity}; chain intact: {r.chain_ok}; every run recorded: {r.runs_recorded} "
              f"(killed runs whose recorded end is before their last row: {r.runs_short}); "
              f"start failures: {r.ready_failures}")


def disk_figures() -> None:
    if os.geteuid() != 0:
        print("disk full: skipped (needs root to mount a tmpfs)")
        return
    for spool in (True, False):
        with tempfile.TemporaryDirectory(dir="/var/tmp") as d:
            work = Path(d)
            log = AcceptLog(20)
            try:
                with small_tmpfs(work / "disk", "6m") as disk:
                    extra = {"spool_dirs": [str(work / "spool")]} if spool else {}
                    cfg = fault_config(work, log.ports, interval_s=1.0, state_dir=str(disk / "state"), **extra)
                    with agent_process(cfg, work) as agent:
                        agent.notify.wait_for("READY=1")
                        wait_until(lambda log=log: len(log.accepts) >= 40, "rounds", timeout_s=60)
                        filler = fill(disk)
                        n0 = len(log.accepts)
                        wait_until(lambda log=log, n0=n0: len(log.accepts) >= n0 + 200, "rounds on a full disk", timeout_s=60)
                        agent.proc.send_signal(signal.SIGTERM)
                        code = agent.proc.wait(120)
                        out = agent.stderr()
                    taken = len(log.accepts)
                    filler.unlink()
                    (disk / "filler-small").unlink()
                    with agent_process(cfg, work, "--duration", "0.5") as agent:
                        agent.proc.wait(120)
                    last = log.accepts[taken - 1][1]
                    stored = len([r for r in db_rows(disk / "state" / "slaproof.db") if r[1] <= last])
            finally:
                log.close()
            said = next((ln for ln in out.splitlines() if ln.startswith(("stopped", "slaproof:"))), "")
            print(f"disk full at run and at stop, {'with' if spool else 'without'} a spool folder: {taken} rounds taken, "
                  f"{stored} stored after the next start, {taken - stored} missing (floor {'0' if spool else 'as reported'}); "
                  f"exit {code}; the agent said: {said[:220]}")


def responder_figures() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {**os.environ, "SLAPROOF_RESPONDER_TOKEN": "bench-token-0123456789"}
    with tempfile.TemporaryDirectory() as d:
        logf = Path(d) / "responder.log"
        with logf.open("wb") as out:
            proc = subprocess.Popen([sys.executable, "-m", "agent.cli", "serve", "--bandwidth", "--listen", f"127.0.0.1:{port}"],
                                    stdout=out, stderr=subprocess.STDOUT, env=env, cwd=Path(__file__).resolve().parents[1])
        slow: list[socket.socket] = []
        try:
            wait_until(lambda: _connects(port), "the responder", timeout_s=30)
            for i in range(200):
                c = socket.socket()
                c.bind(("127.0.0.3" if i % 2 else f"127.0.1.{i // 2 + 1}", 0))
                c.settimeout(5)
                try:
                    c.connect(("127.0.0.1", port))
                    c.sendall(b"GET /download/1000000000 HTTP/1.1\r\n")
                except OSError:
                    pass
                slow.append(c)
            import http.client

            times, ok = [], 0
            for _ in range(20):
                t0 = time.monotonic()
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10, source_address=("127.0.0.2", 0))
                try:
                    conn.request("GET", "/download/1000000", headers={"Authorization": "Bearer bench-token-0123456789"})
                    r = conn.getresponse()
                    ok += r.status == 200 and len(r.read()) == 1_000_000
                except OSError:
                    pass
                finally:
                    conn.close()
                times.append((time.monotonic() - t0) * 1000)
        finally:
            for c in slow:
                c.close()
            proc.terminate()
            proc.wait(30)
        refusals = [ln for ln in logf.read_text().splitlines() if "refused" in ln]
    print(f"responder with 200 slow sockets: {ok}/20 authorised downloads served (floor 20/20); "
          f"time per 1 MB request p50 {statistics.median(times):.1f} ms, max {max(times):.1f} ms; "
          f"{len(refusals)} refusal log lines")


def _connects(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
        return True
    except OSError:
        return False


def _io() -> tuple[float, int]:
    r = resource.getrusage(resource.RUSAGE_SELF)
    wchar = next(int(ln.split()[1]) for ln in Path("/proc/self/io").read_text().splitlines() if ln.startswith("wchar"))
    return r.ru_utime + r.ru_stime, wchar


def cost_figures(rounds: int = 6000) -> None:
    from agent.core.result import ProbeResult
    from agent.store import Store, chain
    from agent.store.rows import result_to_row
    from agent.writer import Writer

    t0 = datetime(2026, 11, 1, tzinfo=UTC)
    for scheme in ("batch (old: memory until the batch)", "journal + batch (this agent)", "commit per round"):
        with tempfile.TemporaryDirectory(dir="/var/tmp") as d:
            store = Store.open(f"sqlite:///{d}/s.db")
            aid = store.ensure_agent("bench", 0)
            refs = store.sync_targets(aid, [{"name": f"t{i}", "address": "127.0.0.1", "checks": [{"kind": "icmp", "count": 3},
                                                                                                {"kind": "tcp", "port": 80}]}
                                            for i in range(1000)], 0)
            names = list(refs)
            data = []
            for k in range(rounds):
                ref = refs[names[k % 1000]]
                t = t0 + timedelta(milliseconds=10 * k)
                icmp = ProbeResult("icmp", t, True, 0.05, {"sent": 3, "received": 3, "rtt_min_ms": 0.04, "rtt_max_ms": 0.06,
                                                            "rtt_stddev_ms": 0.01, "rtts_ms": [0.04, 0.05, 0.06]})
                tcp = ProbeResult("tcp", t, True, 0.07, {})
                data.append([{**result_to_row(r, target=ref.name, settings_hash=c.settings_hash, lag_us=120), "check_id": c.id}
                             for c, r in ((ref.checks[0], icmp), (ref.checks[1], tcp))])
            cpu0, w0 = _io()
            if scheme.startswith("commit per round"):
                g = chain.genesis("bench")
                for rows in data:
                    with store.engine.begin() as conn:
                        store.append_chained(conn, aid, g, rows)
            else:
                dirs = [Path(d) / "journal"] if scheme.startswith("journal") else []
                w = Writer(store, "bench", aid, journal_dirs=dirs, batch_s=3600).start()
                for i in range(0, rounds, 100):  # 100 rounds = one second at 1,000 targets / 10 s
                    for rows in data[i:i + 100]:
                        w.submit_round(rows)
                    w.flush(60)
                w.close()
            cpu1, w1 = _io()
            n = 2 * rounds
            store.close()
        us = 1e6 * (cpu1 - cpu0) / n
        print(f"durability cost, {scheme}: {us:.1f} µs CPU and {(w1 - w0) / n:.0f} B written per row; at 1,000 targets × 2 checks "
              f"every 10 s: {us * 200 / 1e4:.2f} % of a core, {(w1 - w0) / n * 200 * 86400 / 1e9:.1f} GB written a day")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--kills", type=int, default=100)
    ap.add_argument("--before", type=Path, default=None, help="another checkout to run the kill loop against")
    ap.add_argument("--skip", default="", help="comma-separated: kill, disk, responder, cost")
    a = ap.parse_args()
    skip = set(a.skip.split(","))
    print(json.dumps({"started": datetime.now(UTC).isoformat(), "kills": a.kills}))
    if "cost" not in skip:
        cost_figures()
    if "responder" not in skip:
        responder_figures()
    if "disk" not in skip:
        disk_figures()
    if "kill" not in skip:
        kill_figures(a.kills, a.before)


if __name__ == "__main__":
    main()
