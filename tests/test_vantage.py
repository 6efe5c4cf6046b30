"""Outages read across vantage points: confirmed by a quorum, or seen from too few.

Why: "the path from your office is the problem" is the provider's next answer once control
targets rule out the agent's own uplink. The properties below hold for any set of timelines:
nothing is confirmed without a quorum down at the same instant, every vantage's outage is
listed somewhere, the combined timeline charges exactly the confirmed time, and one vantage
reads exactly as the single-agent analysis does.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from reports.analysis.incidents import IncidentPolicy, analyse_target
from reports.analysis.model import Span, State
from reports.analysis.vantage import (
    QUORUM_FIXED,
    QUORUM_MAJORITY,
    VantageTimeline,
    analyse_vantages,
    majority,
)
from tests.support.timelines import make_rounds

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
WINDOW_S = 600
T1 = T0 + timedelta(seconds=WINDOW_S)
STATES = (State.UP, State.UP, State.DOWN, State.DOWN, State.PARTIAL, State.DEGRADED, State.LOCAL, State.NO_DATA)


def _s(sec: float) -> datetime:
    return T0 + timedelta(seconds=sec)


def _tl(name: str, *pieces: tuple[State, float]) -> VantageTimeline:
    spans, at = [], 0.0
    for state, length in pieces:
        spans.append(Span(_s(at), _s(at + length), state))
        at += length
    return VantageTimeline(name, tuple(spans))


@st.composite
def timelines(draw: st.DrawFn) -> list[VantageTimeline]:
    n = draw(st.integers(1, 4))
    out = []
    for k in range(n):
        cuts = sorted(set(draw(st.lists(st.integers(1, WINDOW_S - 1), max_size=12))))
        bounds = [0, *cuts, WINDOW_S]
        pieces = [(draw(st.sampled_from(STATES)), float(b - a)) for a, b in zip(bounds, bounds[1:])]
        out.append(_tl(f"v{k}", *pieces))
    return out


def _state_at(t: VantageTimeline, moment: datetime) -> State:
    return next((s.state for s in t.spans if s.start <= moment < s.end), State.NO_DATA)


def _down_at(tls: list[VantageTimeline], moment: datetime) -> int:
    return sum(1 for t in tls if _state_at(t, moment) is State.DOWN)


def _probe_points() -> list[datetime]:
    """Every vantage's state is constant over each whole second (cuts are whole seconds)."""
    return [_s(i + 0.5) for i in range(WINDOW_S)]


@settings(max_examples=200, deadline=None)
@given(timelines(), st.one_of(st.none(), st.integers(1, 4)))
def test_invariants(tls: list[VantageTimeline], quorum: int | None) -> None:
    fa = analyse_vantages(tls, T0, T1, quorum)
    q = fa.quorum
    assert q == (quorum if quorum is not None else majority(len(fa.with_data)))
    assert fa.quorum_rule == (QUORUM_MAJORITY if quorum is None else QUORUM_FIXED)
    # the combined spans tile the window, merged
    assert fa.spans[0].start == T0 and fa.spans[-1].end == T1
    for s0, s1 in zip(fa.spans, fa.spans[1:]):
        assert s0.end == s1.start and s0.state is not s1.state
    # DOWN exactly where a quorum was down; the SLA is charged exactly the confirmed time
    for m in _probe_points():
        combined = next(s.state for s in fa.spans if s.start <= m < s.end)
        assert (combined is State.DOWN) == (_down_at(tls, m) >= q)
        if combined is State.UP:
            assert any(_state_at(t, m) is State.UP for t in tls)  # never "up" without a vantage saying so
    down_s = sum(s.seconds for s in fa.spans if s.state is State.DOWN)
    assert down_s == pytest.approx(fa.confirmed_s)
    confirmed = fa.confirmed
    for c in confirmed:
        assert c.earliest <= c.start < c.end <= c.latest
        assert len(c.vantages) >= q
        assert c.agreed_s == (c.end - c.start).total_seconds()
    for c0, c1 in zip(confirmed, confirmed[1:]):
        assert c0.end < c1.start  # maximal stretches: never touching
    for u in fa.unconfirmed:
        assert u.agreed_s == 0
        for seen in u.sights:
            assert not any(seen.start < c.end and c.start < seen.end for c in confirmed)
    # every vantage's down stretch is listed in some incident, with its own bounds
    listed = {(s.vantage, s.start, s.end) for i in fa.incidents for s in i.sights}
    for t in tls:
        for s in t.spans:
            if s.state is State.DOWN:
                assert any(v == t.vantage and a <= s.start and s.end <= b for v, a, b in listed)


@settings(max_examples=100, deadline=None)
@given(timelines(), st.integers(1, 3), st.randoms(use_true_random=False))
def test_order_and_quorum(tls: list[VantageTimeline], quorum: int, rnd: object) -> None:
    """The order vantages come in changes nothing; a higher quorum never confirms more."""
    shuffled = list(tls)
    rnd.shuffle(shuffled)  # type: ignore[attr-defined]  # hypothesis' Random
    assert analyse_vantages(tls, T0, T1, quorum) == analyse_vantages(shuffled, T0, T1, quorum)
    assert analyse_vantages(tls, T0, T1, quorum + 1).confirmed_s <= analyse_vantages(tls, T0, T1, quorum).confirmed_s


@settings(max_examples=100, deadline=None)
@given(timelines())
def test_own_network_down_never_confirms_more(tls: list[VantageTimeline]) -> None:
    """A vantage whose own network was down (LOCAL) where it saw DOWN cannot add confirmed time."""
    before = analyse_vantages(tls, T0, T1, 2)
    cut = [VantageTimeline(tls[0].vantage, tuple(Span(s.start, s.end, State.LOCAL if s.state is State.DOWN else s.state)
                                                 for s in tls[0].spans)), *tls[1:]]
    assert analyse_vantages(cut, T0, T1, 2).confirmed_s <= before.confirmed_s


def test_one_vantage_reads_as_the_single_agent_analysis() -> None:
    rounds = make_rounds("vps", T0, 10, "uuuu DDDDDD uuuu __ uu DDD uuuu")
    p1 = T0 + timedelta(seconds=300)
    res = analyse_target(rounds, period_start=T0, period_end=p1, policy=IncidentPolicy(interval_s=10), target="vps")
    fa = analyse_vantages([VantageTimeline("a", res.spans)], T0, p1)
    assert fa.quorum == 1 and fa.spans == res.spans
    outages = [(i.start, i.end) for i in res.incidents if i.kind is State.DOWN]
    assert [(c.start, c.end) for c in fa.confirmed] == outages and not fa.unconfirmed


def test_path_problem_and_target_outage() -> None:
    """The network-namespace scenario in miniature: one vantage's path cut, then the target."""
    u, d = State.UP, State.DOWN
    tls = [
        _tl("a", (u, 100), (d, 50), (u, 150), (d, 60), (u, 240)),  # path cut 100-150; target 300-360
        _tl("b", (u, 305), (d, 50), (u, 245)),
        _tl("c", (u, 298), (d, 64), (u, 238)),
    ]
    fa = analyse_vantages(tls, T0, T1)
    assert fa.quorum == 2 and fa.with_data == ("a", "b", "c")
    (single,) = fa.unconfirmed
    assert single.vantages == ("a",) and (single.start, single.end) == (_s(100), _s(150))
    (conf,) = fa.confirmed
    assert (conf.start, conf.end) == (_s(300), _s(360))  # two or more down: a from 300, c to 362 alone after b
    assert (conf.earliest, conf.latest) == (_s(298), _s(362))
    assert conf.vantages == ("a", "b", "c")
    assert {(s.vantage, s.start, s.end) for s in conf.sights} == {
        ("a", _s(300), _s(360)), ("b", _s(305), _s(355)), ("c", _s(298), _s(362))}
    assert fa.confirmed_s == 60


def test_unknown_is_not_up() -> None:
    """One vantage down while the others have no data: not confirmed, and not up either."""
    tls = [_tl("a", (State.UP, 100), (State.DOWN, 100), (State.UP, 400)),
           _tl("b", (State.UP, 100), (State.NO_DATA, 100), (State.UP, 400)),
           _tl("c", (State.UP, 100), (State.LOCAL, 100), (State.UP, 400))]
    fa = analyse_vantages(tls, T0, T1)
    assert [s.state for s in fa.spans] == [State.UP, State.NO_DATA, State.UP]
    assert fa.confirmed_s == 0 and len(fa.unconfirmed) == 1


def test_bad_arguments() -> None:
    tl = _tl("a", (State.UP, WINDOW_S))
    with pytest.raises(ValueError, match="once"):
        analyse_vantages([tl, tl], T0, T1)
    with pytest.raises(ValueError, match="quorum"):
        analyse_vantages([tl], T0, T1, 0)
    with pytest.raises(ValueError, match="empty"):
        analyse_vantages([tl], T1, T0)
