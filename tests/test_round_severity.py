"""The one round classifier agrees with the three copies it replaced, on random rounds.

Before reports/analysis/severity.py, a round's severity was written out three times: in the
incident pass (analyse_target), in control_down_intervals, and (on stored rows) in the compressed
reader of reports/build/rounds.py.  Those copies are kept below, verbatim in substance, as the
reference the classifier is held to.
"""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from agent.core.result import HTTP_STATUS, INTERNAL, SKIPPED, TIMEOUT
from reports.analysis.incidents import LOSS_OVER, RTT_OVER, UNCLASSIFIED, IncidentPolicy
from reports.analysis.model import CheckOutcome
from reports.analysis.severity import DOWN, MISSING, PARTIAL, SLOW, UP, RoundClassifier
from reports.build.rounds import _outcome, _plain_test

# --- the replaced copies -------------------------------------------------------------------------


def legacy_severity(checks: tuple[CheckOutcome, ...], policy: IncidentPolicy) -> int:
    """The classification loop of the old analyse_target (-1: nothing measured)."""
    rtt_max, loss_max, kinds = policy.rtt_ms_max, policy.loss_pct_max, policy.degraded_kinds
    thresholds = rtt_max is not None or loss_max is not None
    n = fails = 0
    slow = False
    for c in checks:
        if c.error_class == SKIPPED:
            continue
        n += 1
        if not c.ok:
            fails += 1
        elif thresholds and not slow and (kinds is None or c.kind in kinds):
            v = c.rtt_ms
            if rtt_max is not None and v is not None and v > rtt_max:
                slow = True
            else:
                v = c.loss_pct
                if loss_max is not None and v is not None and v > loss_max:
                    slow = True
    if n == 0:
        return -1
    if fails == 0:
        return 1 if slow else 0
    return 3 if fails == n else 2


def legacy_control(checks: tuple[CheckOutcome, ...]) -> str:
    """The old control_down_intervals: 'none' (nothing measured), 'down' or 'up'."""
    n = fails = 0
    for c in checks:
        if c.error_class == SKIPPED:
            continue
        n += 1
        if not c.ok:
            fails += 1
    if n == 0:
        return "none"
    return "down" if n == fails else "up"


def legacy_detail(checks: tuple[CheckOutcome, ...], any_failed: bool, policy: IncidentPolicy) -> tuple[Any, ...]:
    """The old _detail: error classes and first/last row ids of a non-UP round."""
    rtt_max, loss_max, kinds = policy.rtt_ms_max, policy.loss_pct_max, policy.degraded_kinds
    errs = []
    r0 = r1 = None
    for c in checks:
        if c.error_class == SKIPPED:
            continue
        if not c.ok:
            errs.append(c.error_class or UNCLASSIFIED)
        elif not any_failed and (kinds is None or c.kind in kinds):
            if rtt_max is not None and c.rtt_ms is not None and c.rtt_ms > rtt_max:
                errs.append(RTT_OVER)
            elif loss_max is not None and c.loss_pct is not None and c.loss_pct > loss_max:
                errs.append(LOSS_OVER)
            else:
                continue
        else:
            continue
        if c.row_id is not None:
            if r0 is None:
                r0 = c.row_id
            r1 = c.row_id
    return tuple(errs), r0, r1


def legacy_row_plain(r: tuple[Any, ...], policy: IncidentPolicy) -> bool:
    """The old reader's test of one stored row (thresholds in stored units, every kind)."""
    rtt_max_ns = None if policy.rtt_ms_max is None else policy.rtt_ms_max * 1e6
    loss_max = policy.loss_pct_max
    if not r[4] or r[9] is not None:
        return False
    if rtt_max_ns is not None and r[5] is not None and r[5] > rtt_max_ns:
        return False
    return not (loss_max is not None and r[6] and 100.0 * (r[6] - (r[7] or 0)) / r[6] > loss_max)


# --- random rounds ----------------------------------------------------------------------------------

KINDS = ("icmp", "tcp", "http")
check = st.builds(
    CheckOutcome,
    kind=st.sampled_from(KINDS),
    ok=st.booleans(),
    rtt_ms=st.none() | st.floats(0, 1000, allow_nan=False),
    loss_pct=st.none() | st.sampled_from([0.0, 10.0, 20.0, 33.3, 50.0, 100.0]),
    status=st.none(),
    error_class=st.sampled_from([None, None, SKIPPED, TIMEOUT, HTTP_STATUS]),
    row_id=st.none() | st.integers(1, 10**6),
)
checks = st.lists(check, max_size=4).map(tuple)
policy = st.builds(
    IncidentPolicy,
    interval_s=st.just(10.0),
    rtt_ms_max=st.none() | st.sampled_from([0.5, 100.0, 150.0, 500.0]),
    loss_pct_max=st.none() | st.sampled_from([0.0, 20.0, 50.0]),
    degraded_kinds=st.none() | st.sampled_from([frozenset({"icmp"}), frozenset({"http", "tcp"}), frozenset()]),
)


@settings(max_examples=400, deadline=None)
@given(cs=checks, p=policy)
def test_severity_is_what_the_incident_pass_computed(cs: tuple[CheckOutcome, ...], p: IncidentPolicy) -> None:
    assert RoundClassifier.of(p).severity(cs) == legacy_severity(cs, p)


@settings(max_examples=300, deadline=None)
@given(cs=checks, p=policy)
def test_control_targets_see_the_same_down_rounds(cs: tuple[CheckOutcome, ...], p: IncidentPolicy) -> None:
    sev = RoundClassifier().severity(cs)  # what control_down_intervals asks
    assert {MISSING: "none", DOWN: "down"}.get(sev, "up") == legacy_control(cs)
    # ... and thresholds would not change its answer
    judged = RoundClassifier.of(p).severity(cs)
    assert (judged == DOWN, judged == MISSING) == (sev == DOWN, sev == MISSING)


@settings(max_examples=300, deadline=None)
@given(cs=checks, p=policy)
def test_evidence_is_what_the_incident_pass_recorded(cs: tuple[CheckOutcome, ...], p: IncidentPolicy) -> None:
    c = RoundClassifier.of(p)
    sev = c.severity(cs)
    if sev > UP:
        assert c.evidence(cs, sev >= PARTIAL) == legacy_detail(cs, sev >= PARTIAL, p)


@settings(max_examples=300, deadline=None)
@given(cs=checks, p=policy)
def test_written_out_threshold_test_is_exceeds(cs: tuple[CheckOutcome, ...], p: IncidentPolicy) -> None:
    """``severity`` writes the threshold test out for speed; it must be ``exceeds``."""
    c = RoundClassifier.of(p)
    measured = [x for x in cs if x.error_class != SKIPPED]
    if not measured or not all(x.ok for x in measured):
        return
    over = any(c.exceeds(x.kind, x.rtt_ms, x.loss_pct) is not None for x in measured)
    assert c.severity(cs) == (SLOW if over else UP)


# --- the compressed reader's rows --------------------------------------------------------------------

# (id, ts_us, lag_us, check_id, ok, rtt_ns, sent, received, status, error_class), as Store.iter_round_rows
row = st.tuples(
    st.integers(1, 10**6),
    st.just(0),
    st.none(),
    st.sampled_from([1, 2, 3]),
    st.sampled_from([0, 1, 1]),
    st.none() | st.integers(0, 10**9),
    st.sampled_from([None, 0, 1, 3, 10]),
    st.sampled_from([None, 0, 1, 3, 10]),
    st.none(),
    st.sampled_from([None, None, TIMEOUT, INTERNAL, SKIPPED]),
)
KIND_OF = {1: "icmp", 2: "tcp", 3: "http"}


@settings(max_examples=400, deadline=None)
@given(rows=st.lists(row, min_size=1, max_size=3), p=policy)
def test_plain_rows_are_up_rounds(rows: list[tuple[Any, ...]], p: IncidentPolicy) -> None:
    """A round the reader may compress is UP to the classifier, on the figures the analysis sees;
    and the reader compresses what it did before (every kind was held to the thresholds then)."""
    plain = _plain_test(p, KIND_OF)(rows)
    outcomes = tuple(_outcome(KIND_OF[r[3]], r) for r in rows)
    if plain:
        assert RoundClassifier.of(p).severity(outcomes) == UP
    if p.degraded_kinds is None:
        assert plain == all(legacy_row_plain(r, p) for r in rows)
    else:
        assert plain >= all(legacy_row_plain(r, p) for r in rows)
