"""Live view of each target's rounds while the agent runs: when an incident opens.

The report decides incidents afterwards from the stored rows (reports/analysis);
this is the agent's own, simpler view at the moment it happens, so it can act
then: take a traceroute while the path is still broken. Agent-side failures
(internal, permission, skipped) do not count, as in reports.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime

from agent.config import Target
from agent.core import result as R
from agent.core.result import ProbeResult

AGENT_SIDE = frozenset({R.SKIPPED, R.INTERNAL, R.PERMISSION})

OnOpen = Callable[[Target, Sequence[ProbeResult]], None]


def counted(results: Sequence[ProbeResult]) -> list[ProbeResult]:
    """The results that speak about the target (not about the agent)."""
    return [r for r in results if r.error_class not in AGENT_SIDE]


class FailureStreak:
    """Counts consecutive failed rounds per target; calls ``on_open`` when a streak reaches ``open_after``."""

    def __init__(self, open_after: int, on_open: OnOpen) -> None:
        self.open_after = open_after
        self.on_open = on_open
        self._fails: dict[str, int] = {}

    def streak(self, name: str) -> int:
        return self._fails.get(name, 0)

    def observe(self, target: Target, scheduled: datetime, results: Sequence[ProbeResult]) -> None:
        failed = any(not r.ok for r in counted(results))
        n = self._fails.get(target.name, 0) + 1 if failed else 0
        self._fails[target.name] = n
        if failed and n == self.open_after:
            self.on_open(target, results)
