"""Runs of plain up rounds are passed to the analysis compressed; the result must be identical."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from agent.config import parse_config
from agent.store import Store
from reports.build.summary import analyse
from tests.support.history import write_history

START = datetime(2026, 11, 1, tzinfo=UTC)
CFG = """
[agent]
state_dir = "{state}"
timezone = "Asia/Shanghai"
open_after = 2
merge_gap_s = 30
[[targets]]
name = "vps"
address = "127.0.0.1"
interval_s = 10
thresholds = {{ rtt_ms_max = 100.0, sustain_s = 30 }}
checks = [{{ kind = "icmp" }}]
[[targets]]
name = "ctl"
address = "127.0.0.2"
control = true
interval_s = 10
checks = [{{ kind = "icmp" }}]
"""

pattern = st.lists(st.tuples(st.sampled_from("uuuuDS."), st.integers(1, 40)), min_size=1, max_size=12).map(
    lambda parts: "".join(c * n for c, n in parts))


# Two checks a round (ICMP and HTTP): "P" is partial (ICMP answers, HTTP 503).
CFG_MULTI = CFG.replace('checks = [{{ kind = "icmp" }}]', 'checks = [{{ kind = "icmp" }}, {{ kind = "http", url = "http://127.0.0.1/" }}]')
pattern_multi = st.lists(st.tuples(st.sampled_from("uuuuDSP."), st.integers(1, 40)), min_size=1, max_size=12).map(
    lambda parts: "".join(c * n for c, n in parts))


def _compare(tmp: Path, vps: str, ctl: str, runs: list[tuple[int, int]] | None, multi: bool = False) -> None:
    state = tmp / "state"
    s, _ = parse_config((CFG_MULTI if multi else CFG).format(state=state), tmp / "c.toml"), None
    store = Store.open(f"sqlite:///{tmp / 'db.sqlite'}")
    write_history(store, state, {"vps": (vps, 10), "ctl": (ctl, 10)}, START, runs=runs,
                  kinds=("icmp", "http") if multi else ("icmp",))
    n = max(len(vps), len(ctl))
    # periods: the whole span, and one cutting through the middle
    for a, b in [(START, START + timedelta(seconds=10 * n)), (START + timedelta(seconds=10 * (n // 3)), START + timedelta(seconds=10 * (2 * n // 3) + 10))]:
        plain = analyse(s, store, a, b, compress=False)
        packed = analyse(s, store, a, b, compress=True)
        for name in ("vps", "ctl"):
            assert packed.results[name].to_json() == plain.results[name].to_json(), (name, vps, ctl)
        assert packed.rows_used == plain.rows_used
    store.close()


def _runs(stops: list[tuple[int, int]], end: int, last_clean: bool) -> list[tuple[int, int]]:
    """Agent runs (start, end in seconds) stopped at ``stops`` (time, gap before the next run)."""
    runs, t = [], 0
    for at, gap in sorted(stops):
        if t < at < end:
            runs.append((t, at))
            t = at + gap
    runs.append((t, end if last_clean else max(t, end - 25)))
    return runs


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(vps=pattern, ctl=pattern, stops=st.lists(st.tuples(st.integers(1, 4000), st.integers(0, 900)), max_size=3),
       last_clean=st.booleans())
def test_compressed_analysis_is_identical(tmp_path_factory, vps: str, ctl: str, stops: list[tuple[int, int]],  # type: ignore[no-untyped-def]
                                          last_clean: bool) -> None:
    """Random timelines, agent restarts (with gaps of 0-900 s in the runs table) and period cuts."""
    _compare(tmp_path_factory.mktemp("c"), vps, ctl, _runs(stops, 10 * max(len(vps), len(ctl)), last_clean))


def test_compression_with_restarts_and_long_runs(tmp_path: Path) -> None:
    vps = "u" * 300 + "DDD" + "u" * 200 + "SSSSS" + "u" * 100 + "." * 30 + "u" * 400 + "D" + "u" * 50
    ctl = "u" * 1000 + "DDDD" + "u" * 200
    n = len(vps)
    runs = [(0, 10 * 450 + 3), (10 * 450 + 7, 10 * 700), (10 * 760, 10 * n)]
    _compare(tmp_path, vps, ctl, runs)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(vps=pattern_multi, ctl=pattern_multi, stops=st.lists(st.tuples(st.integers(1, 4000), st.integers(0, 900)), max_size=3))
def test_compressed_analysis_is_identical_with_two_checks_a_round(tmp_path_factory, vps: str, ctl: str,  # type: ignore[no-untyped-def]
                                                                  stops: list[tuple[int, int]]) -> None:
    _compare(tmp_path_factory.mktemp("m"), vps, ctl, _runs(stops, 10 * max(len(vps), len(ctl)), True), multi=True)


def test_two_check_rounds_are_compressed(tmp_path: Path) -> None:
    """The multi-check path really compresses (not only agrees): far fewer rounds reach the analysis."""
    from reports.build.rounds import RowCounter, iter_rounds_compressed, target_checks
    from reports.build.summary import policy_for

    state = tmp_path / "state"
    s = parse_config(CFG_MULTI.format(state=state), tmp_path / "c.toml")
    store = Store.open(f"sqlite:///{tmp_path / 'db.sqlite'}")
    vps = "u" * 400 + "P" * 5 + "u" * 400
    write_history(store, state, {"vps": (vps, 10), "ctl": ("u" * len(vps), 10)}, START, kinds=("icmp", "http"))
    tc = target_checks(store, ["vps"])["vps"]
    counter = RowCounter()
    rounds = list(iter_rounds_compressed(store, "vps", tc, 0, 2**62, policy_for(s, s.target("vps")), [], counter))
    assert counter.n == 2 * len(vps)
    assert sum(r.count for r in rounds) == len(vps)
    assert len(rounds) < 20
    _compare(tmp_path / "again", vps, "u" * len(vps), None, multi=True)
