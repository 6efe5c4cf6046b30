"""How bad one round was, under a policy: the one rule every reader of rounds applies.

The incident pass, the control-target windows and the compressed reader
(reports/build/rounds.py) all judge rounds here, so that a round cannot be DOWN to
one of them and UP to another.  Checks with error class "skipped" are ignored; a
round with nothing else is MISSING.  A round is DOWN when every remaining check
failed, PARTIAL when some did, SLOW when all answered but one is past an RTT or
loss threshold that applies to its kind, UP otherwise.

Severities are plain ints, ordered, so that a tracker of level k fails on any
severity >= k (and because the incident pass compares them for every round).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Sequence

from agent.core.result import SKIPPED
from reports.analysis.incident_types import IncidentPolicy
from reports.analysis.model import CheckOutcome

INF = math.inf

MISSING = -1  # nothing measured: the round counts as missing, neither up nor down
UP = 0
SLOW = 1  # answered, but past a threshold: a DEGRADED candidate
PARTIAL = 2
DOWN = 3

# Pseudo error classes recorded for rounds that answered but were too slow/lossy.
RTT_OVER = "rtt_over_threshold"
LOSS_OVER = "loss_over_threshold"
UNCLASSIFIED = "unclassified"  # a failed check that carried no error class

SeverityFn = Callable[[Sequence[CheckOutcome]], int]
ErrorKey = tuple[str, ...]  # a round's error classes, in check order
Evidence = tuple[ErrorKey, int | None, int | None]  # a round's error classes, first and last evidence row id
NO_EVIDENCE: Evidence = ((), None, None)


class RoundClassifier:
    """The severity of a round under one policy's RTT/loss thresholds.

    ``kinds`` limits the thresholds to checks of those kinds (None: every kind).
    Without thresholds no round is SLOW.
    """

    __slots__ = ("kinds", "loss_limit", "rtt_limit", "severity", "thresholds")

    def __init__(
        self,
        rtt_ms_max: float | None = None,
        loss_pct_max: float | None = None,
        kinds: frozenset[str] | None = None,
    ) -> None:
        self.kinds = kinds
        self.thresholds = rtt_ms_max is not None or loss_pct_max is not None
        # No threshold is an infinite one: nothing is past it.
        self.rtt_limit = INF if rtt_ms_max is None else rtt_ms_max
        self.loss_limit = INF if loss_pct_max is None else loss_pct_max
        self.severity = _severity_of_round(self.rtt_limit, self.loss_limit, kinds)
        """MISSING, UP, SLOW, PARTIAL or DOWN for a round's checks."""

    @classmethod
    def of(cls, policy: IncidentPolicy) -> RoundClassifier:
        return cls(policy.rtt_ms_max, policy.loss_pct_max, policy.degraded_kinds)

    def exceeds(self, kind: str, rtt_ms: float | None, loss_pct: float | None) -> str | None:
        """RTT_OVER or LOSS_OVER when a check that answered is past a threshold for its kind, else None."""
        if self.kinds is not None and kind not in self.kinds:
            return None
        if rtt_ms is not None and rtt_ms > self.rtt_limit:
            return RTT_OVER
        if loss_pct is not None and loss_pct > self.loss_limit:
            return LOSS_OVER
        return None

    def evidence(self, checks: Iterable[CheckOutcome], failed: bool) -> Evidence:
        """Error classes and first/last evidence row ids of a round that is not UP.

        ``failed``: the round has a failed check (PARTIAL or DOWN); then only failed
        checks are evidence, otherwise the checks past a threshold are.
        """
        errs = []
        r0 = r1 = None
        for c in checks:
            if c.ok:
                if failed or (c.error_class is not None and c.error_class == SKIPPED):
                    continue
                over = self.exceeds(c.kind, c.rtt_ms, c.loss_pct)
                if over is None:
                    continue
                errs.append(over)
            elif c.error_class == SKIPPED:
                continue
            else:
                errs.append(c.error_class or UNCLASSIFIED)
            row = c.row_id
            if row is not None:
                if r0 is None:
                    r0 = row
                r1 = row
        return tuple(errs), r0, r1


def _severity_of_round(rtt_limit: float, loss_limit: float, kinds: frozenset[str] | None) -> SeverityFn:
    """The classifier's ``severity``, with the policy's limits bound in.

    It runs for every round of every target, so it is a closure (no attribute
    look-ups), it tests answered checks first (most checks answer), and the
    threshold test of ``RoundClassifier.exceeds`` is written out in it: a call
    per check would cost more than the rest of the pass over an up round.
    tests/test_round_severity.py holds the two equal.
    """
    look = rtt_limit < INF or loss_limit < INF

    def severity(checks: Sequence[CheckOutcome]) -> int:
        n = len(checks)
        fails = 0
        slow = not look  # without thresholds there is nothing to look for
        for c in checks:
            if c.ok:
                if c.error_class is not None and c.error_class == SKIPPED:
                    n -= 1
                elif not slow and (kinds is None or c.kind in kinds):
                    v = c.rtt_ms
                    if v is not None and v > rtt_limit:
                        slow = True
                    else:
                        v = c.loss_pct
                        slow = v is not None and v > loss_limit
            elif c.error_class == SKIPPED:
                n -= 1
            else:
                fails += 1
        if fails:
            return DOWN if fails == n else PARTIAL
        if n == 0:
            return MISSING
        return SLOW if slow and look else UP

    return severity
