"""The proof service inside a running agent: a TSA that goes away and comes back, clock steps, a witness."""

from __future__ import annotations

import asyncio
import json
import re
import threading
import time
from datetime import UTC, datetime, timedelta
from html import unescape
from pathlib import Path

import httpx

from agent.config import load_config
from agent.core.times import to_us
from agent.daemon import Daemon
from agent.proof.checkpoint import ClockState
from agent.proof.clock import STEP_THRESHOLD_US, ClockWatch
from agent.proof.dbverify import verify_proofs
from agent.proof.note import parse_note, verify, verify_cosignature
from agent.proof.service import ProofService
from agent.proof.statement import build_statement
from agent.proof.tsa import load_roots
from agent.serve.witness import make_witness
from agent.store import Store
from agent.store.proof import ProofRecords
from reports.build.bundle import write_bundle
from tests.conftest import make_config
from tests.support.proofs import T0, make_agent
from tests.support.servers import tcp_listener
from tests.support.tsa import local_tsa


def wait_for(cond: object, timeout_s: float = 30.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not cond():  # type: ignore[operator]
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.05)


def test_tsa_down_then_back_tokens_catch_up_and_probing_goes_on(tmp_path: Path) -> None:
    with local_tsa() as tsa, tcp_listener() as tcp:
        tsa.down()
        cfg = make_config(tmp_path / "config.toml", [{"name": "vps", "address": "127.0.0.1", "interval_s": 1,
                                                       "checks": [{"kind": "tcp", "port": tcp.port, "timeout_s": 1}]}],
                          heartbeat_s=1, batch_s=0.1, checkpoints={"every_minutes": 0.01},
                          timestamp={"urls": [tsa.url], "ca_file": str(tsa.files.ca_pem), "every_minutes": 0.01, "timeout_s": 2})
        settings, _ = load_config(cfg)
        store = Store.open(settings.database_url())
        d = Daemon(settings, store)
        proof = d.services[0]
        assert isinstance(proof, ProofService)
        records = ProofRecords(store)
        loop = asyncio.new_event_loop()
        runner = threading.Thread(target=lambda: loop.run_until_complete(d.serve(120)), daemon=True)
        runner.start()
        try:
            ref = d.refs["vps"].checks[0].id
            # Checkpoints and rounds go on while no authority answers (and requests keep failing).
            wait_for(lambda: len(records.checkpoints(d.agent_id)) >= 3 and proof.stamp_failures >= 2
                     and store.count_rows([ref], 0, 2**62) >= 3)
            rows_during_outage = store.count_rows([ref], 0, 2**62)
            assert not records.timestamps(d.agent_id)
            tsa.up()
            wait_for(lambda: bool(records.timestamps(d.agent_id)))
        finally:
            loop.call_soon_threadsafe(d.stop_event.set)
            runner.join(60)
            loop.close()
        assert rows_during_outage >= 3 and d.stats.missed == 0 and d.stats.overlapped == 0
        cps = records.checkpoints(d.agent_id)
        toks = records.timestamps(d.agent_id)
        # The first token covers every checkpoint written during the outage: it is over a later one.
        first_stamped = min(next(c for c in cps if c.id == t.checkpoint_id).size for t in toks)
        assert first_stamped >= max(c.size for c in cps[:3])
        ok, lines = verify_proofs(store, load_roots(str(tsa.files.ca_pem)))
        assert ok, lines
        a, b = cps[0].ts_us, cps[2].ts_us
        stmt = build_statement(store, d.agent_uuid, a, b)
        assert stmt.stamps and stmt.stamps[0].from_us == a and stmt.stamped_until_us == b  # the outage's rows are covered
        assert stmt.stamps[0].stamped_us >= b - 1_000_000  # ... by a token that came after them (to its 1 s accuracy)
        assert cps[-1].reason == "stop"
        store.close()


def test_clock_watch_finds_a_step_and_unsynchronised_spans() -> None:
    wall = [T0]
    steady = [0]
    kernel = [ClockState(True, 20_000, 1_000)]
    w = ClockWatch(lambda: wall[0], lambda: steady[0], lambda: kernel[0])

    def tick(seconds: float, jump_s: float = 0.0) -> None:
        steady[0] += int(seconds * 1e6)
        wall[0] += timedelta(seconds=seconds + jump_s)
        w.sample()

    w.sample()
    tick(10)
    tick(10, jump_s=0.004)  # a slew-sized difference is no step
    kernel[0] = ClockState(False, 16_000_000, 16_000_000)
    tick(10)
    tick(10, jump_s=-7.5)  # someone set the date back
    kernel[0] = ClockState(True, 30_000, 2_000)
    tick(10)
    spans, steps = w.drain()
    assert [(s.step_us) for s in steps] == [-7_500_000] and abs(steps[0].step_us) >= STEP_THRESHOLD_US
    assert [s.synced for s in spans] == [True, False, False, True]
    assert spans[0].maxerror_us == 20_000 and spans[1].maxerror_us == 16_000_000
    assert spans[1].start_us == spans[0].end_us  # no gap between spans of one run


def test_a_step_of_the_injected_clock_is_recorded_and_reported(tmp_path: Path) -> None:
    a = make_agent(tmp_path)
    kernel = [ClockState(True, 25_000, 3_000)]
    stepped = [0]
    a.proof.clock.kernel = lambda: kernel[0]
    a.proof.clock.steady = lambda: to_us(a.wall()) - stepped[0]  # a steady clock that does not follow steps
    a.proof.heartbeat()
    a.rows(6)  # one minute
    a.proof.heartbeat()
    a.wall.advance(90)  # the wall clock jumps 90 s ahead between two heartbeats; the steady clock does not
    stepped[0] += 90_000_000
    a.proof.heartbeat()
    kernel[0] = ClockState(False, 16_000_000, 16_000_000)
    a.rows(6)
    a.proof.heartbeat()
    a.checkpoint()
    stmt = build_statement(a.store, a.daemon.agent_uuid, to_us(T0), to_us(T0 + timedelta(hours=1)))
    assert [s[1] for s in stmt.clock.steps] == [90_000_000]
    assert stmt.clock.recorded_s == stmt.clock.synced_s + 60  # the minute after the step, unsynchronised
    assert stmt.clock.max_error_synced_us == 25_000 and len(stmt.clock.unsynced) == 1
    assert stmt.clock.unsynced[0][2] == 16_000_000
    out = tmp_path / "b"
    write_bundle(a.settings, a.store, T0, T0 + timedelta(hours=1), None, ["csv", "json"], "en", out, now=T0 + timedelta(hours=1))
    reported = json.loads((out / "proof" / "statement.json").read_text())
    assert len(reported["clock"]["steps"]) == 1 and reported["clock"]["unsynced"]
    # The checkpoint itself carries the clock state it was signed under.
    cp = ProofRecords(a.store).last_checkpoint(a.daemon.agent_id)
    assert cp is not None and "clock unsynchronised maxerror_us=16000000" in cp.note
    # The report says it in words: the step, the unsynchronised span, the error bound (summary.json has the figures).
    proof = json.loads((out / "summary.json").read_text())["proof"]
    assert [j["step_s"] for j in proof["clock_steps"]] == [90.0] and proof["clock_max_error_ms"] == 25.0
    assert [g["max_error_ms"] for g in proof["clock_unsynced"]] == [16000.0] and proof["checkpoints"] == 1
    assert proof["key_fingerprints"] == [a.proof.key.verifier.fingerprint] and proof["stamps"] == []
    for lang, words in (("en", ["Proof of integrity and time", "Steps of the wall clock", "+90 s", "\u00b1 25.0 ms",
                                "\u00b1 16000.0 ms", "none: no time-stamp authority has dated this period's rows"]),
                        ("zh", ["完整性与时间证明", "系统时钟的跳变", "+90 秒", "\u00b1 25.0 ms", "时钟未同步的时段",
                                "无：没有时间戳机构为本时段的数据行加盖时间戳"])):
        html = tmp_path / f"html-{lang}"
        write_bundle(a.settings, a.store, T0, T0 + timedelta(hours=1), None, ["html"], lang, html, now=T0 + timedelta(hours=1))
        page = unescape(re.sub(r"<[^>]+>", " ", (html / "report.html").read_text(encoding="utf-8")))
        missing = [w for w in words if w not in page]
        assert not missing, (lang, missing)
    a.close()


def test_a_witness_countersigns_and_refuses_a_shorter_history(tmp_path: Path) -> None:
    first = make_agent(tmp_path / "probe")  # only to learn the agent's key, made at first start
    vkey = first.proof.key.verifier.encode()
    first.close()
    first.store.close()
    server = make_witness("127.0.0.1:0", tmp_path / "w" / "witness.key", [vkey], tmp_path / "w-state.json", "slaproof.witness/test")
    try:
        wkey = httpx.get(server.url + "/key", timeout=10).text.strip()
        a = make_agent(tmp_path / "probe", checkpoints={"witnesses": [{"url": server.url, "key": wkey}]})
        a.rows(5)
        a.checkpoint()
        cp = ProofRecords(a.store).last_checkpoint(a.daemon.agent_id)
        assert cp is not None
        note = parse_note(cp.note)
        assert verify(note, a.proof.key.verifier)
        assert verify_cosignature(note, a.proof.witnesses[0].key) is not None
        ok, lines = verify_proofs(a.store, None)  # the cosignature line does not disturb the agent's own
        assert ok, lines
        # Once the witness has seen a longer history, the agent cannot show it the shorter one again (a cut tail).
        a.rows(1)
        a.checkpoint()
        r = httpx.post(server.url + "/checkpoint", content=cp.note.encode(), timeout=10)
        assert r.status_code == 409 and "smaller than" in r.text
        stranger = httpx.post(server.url + "/checkpoint", content=b"hello\n\n\xe2\x80\x94 x AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n", timeout=10)
        assert stranger.status_code == 400
        a.close()
    finally:
        server.close()


def test_init_makes_the_agent_key(tmp_path: Path) -> None:
    import os
    import subprocess
    import sys

    env = {**os.environ, "STATE_DIRECTORY": str(tmp_path / "state")}
    r = subprocess.run([sys.executable, "-m", "agent.cli", "init", str(tmp_path / "c.toml")], capture_output=True, text=True,
                       timeout=120, env=env)
    key = tmp_path / "state" / "agent.key"
    assert r.returncode == 0 and f"created the agent key {key}" in r.stdout, r.stdout + r.stderr
    assert (key.stat().st_mode & 0o777) == 0o600
    assert datetime.now(UTC).year >= 2024


def test_a_report_past_the_last_checkpoint_signs_one_and_verifies(tmp_path: Path) -> None:
    from agent.proof.offline import verify_bundle

    a = make_agent(tmp_path)
    a.rows(5)
    a.checkpoint()
    a.rows(5)  # not yet covered by any checkpoint: the report signs one with the agent's key
    out = tmp_path / "b"
    write_bundle(a.settings, a.store, T0, T0 + timedelta(hours=1), ["vps"], ["csv", "json"], "en", out, now=T0 + timedelta(hours=1))
    cps = ProofRecords(a.store).checkpoints(a.daemon.agent_id)
    assert [c.reason for c in cps] == ["periodic", "report"] and cps[-1].size == 20
    ok, lines = verify_bundle(out)
    assert ok, lines
    assert any("measurements.csv: 10 rows" in x for x in lines) and any("timestamps: none" in x for x in lines)
    a.close()


def test_single_clock_readings_are_not_called_no_record() -> None:
    """A heartbeat's lone reading (a zero-length span) or a step is a record: the clock line says so instead of
    "no record" above a table that lists them; with nothing at all it says there is no record."""
    from reports.render.blocks import KeyValues
    from reports.render.content_proof import proof_blocks
    from reports.render.model_proof import ClockGap, ProofSection

    at = datetime(2026, 11, 3, 2, 0, tzinfo=UTC)
    bare = ProofSection(key_fingerprints=(), checkpoints=0, signed_until=None, stamps=(), stamped_until=None, clock_recorded_s=0.0,
                        clock_synced_s=0.0, clock_unknown_s=3600.0, clock_max_error_ms=None, clock_unsynced=(), clock_steps=())
    lone = ProofSection(**{**{f: getattr(bare, f) for f in bare.__dataclass_fields__},
                           "clock_unsynced": (ClockGap(start=at, end=at, max_error_ms=16000.0),)})

    def clock_line(p: ProofSection, lang: str) -> str:
        kv = next(b for b in proof_blocks(p, at + timedelta(hours=1), lang, UTC) if isinstance(b, KeyValues))
        return kv.rows[-1][1]

    assert not bare.clock_on_record and lone.clock_on_record
    assert clock_line(bare, "en") == "no record of the clock's state in this period"
    assert clock_line(lone, "en").startswith("single readings only") and clock_line(lone, "zh").startswith("只有零星读数")
