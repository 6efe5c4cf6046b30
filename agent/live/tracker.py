"""Rounds → incident events, while it happens.

The report decides incidents afterwards from the stored rows (reports/analysis); this is
the agent's own, simpler view at the moment it happens, with the same rules where they
matter for speaking up: agent-side failures (internal, permission, skipped) do not count;
a round is an outage when every counted check failed, partial when some did; an incident
is confirmed after ``open_after`` consecutive failed rounds and dated from the first; a
failure while every control target is down is the agent's own network (a local outage),
never the provider's. Its ``on_confirm`` hook is where the daemon takes evidence
(traceroutes) while the path is still broken.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from agent.config import OWN_SCHEDULE, Target
from agent.core import result as R
from agent.core.result import ProbeResult
from agent.core.times import to_us
from agent.live.events import Bus, Event, Evidence, Kind
from agent.live.text import one_line

AGENT_SIDE = frozenset({R.SKIPPED, R.INTERNAL, R.PERMISSION})
# Checks on an interval of their own (bandwidth tests, host readings) never decide an outage.
OWN_KINDS = frozenset(c.model_fields["kind"].default for c in OWN_SCHEDULE)
ERROR_CHARS = 200

OnConfirm = Callable[[Target, Sequence[ProbeResult]], None]


def counted(results: Sequence[ProbeResult]) -> list[ProbeResult]:
    """The results that speak about the target's reachability (not about the agent, not a bandwidth test or a host reading)."""
    return [r for r in results if r.error_class not in AGENT_SIDE and r.kind not in OWN_KINDS]


def error_lines(results: Sequence[ProbeResult]) -> tuple[str, ...]:
    return tuple(one_line(f"{r.kind} {r.error_class or 'failed'}" + (f": {r.error}" if r.error else ""), ERROR_CHARS)
                 for r in results if not r.ok)


@dataclass
class TargetState:
    """One target's live incident state (what `status` and /metrics show too)."""

    streak: int = 0
    since: datetime | None = None
    kind: str | None = None  # outage | partial (the worst seen)
    errors: tuple[str, ...] = ()
    confirmed: bool = False
    local: bool = False  # failing while the agent's own network was down
    reminders: int = 0
    evidence: list[Evidence] = field(default_factory=list)
    last_round: datetime | None = None
    last_ok: bool | None = None

    @property
    def key(self) -> str:
        return f"{to_us(self.since)}" if self.since else ""


class IncidentTracker:
    """A :class:`agent.services.RoundObserver`: emits OPENED, CONFIRMED, STILL_DOWN, RECOVERED, BLIP,
    LOCAL_OUTAGE/RECOVERED, CERT_EXPIRY and BUDGET_REACHED events on ``bus``."""

    def __init__(self, bus: Bus, *, open_after: int, still_down_every_min: float = 30.0, cert_days: int = 14,
                 on_confirm: OnConfirm | None = None) -> None:
        self.bus = bus
        self.open_after = open_after
        self.still_down_every = timedelta(minutes=still_down_every_min)
        self.cert_days = cert_days
        self.on_confirm = on_confirm
        self.states: dict[str, TargetState] = {}
        self.controls_down: set[str] = set()
        self.controls: set[str] = set()
        self._said: set[str] = set()  # once-only keys (certificate per day, budget per day)

    # -- what others read ------------------------------------------------------
    def state(self, name: str) -> TargetState:
        return self.states.setdefault(name, TargetState())

    def streak(self, name: str) -> int:
        return self.state(name).streak

    @property
    def local_outage(self) -> bool:
        return bool(self.controls) and self.controls_down == self.controls

    def resume(self, name: str, since: datetime, now: datetime) -> None:
        """An incident confirmed (and alerted) before a restart and never told as recovered: carry it on, so the
        next good round says RECOVERED under the same key and a failing one does not confirm it again."""
        st = self.state(name)
        st.streak, st.since, st.kind, st.confirmed = self.open_after, since, "outage", True
        st.reminders = max(0, int((now - since) / self.still_down_every))  # reminders due before the restart are past

    def add_evidence(self, name: str, item: Evidence) -> None:
        """Evidence taken for the target's open incident (traceroutes arrive after the confirmation)."""
        st = self.state(name)
        if st.streak:
            st.evidence.append(item)

    # -- the observer ------------------------------------------------------------
    def observe(self, target: Target, scheduled: datetime, results: Sequence[ProbeResult]) -> None:
        if target.control:
            self.controls.add(target.name)
        self._side_events(target, results)
        mine = counted(results)
        if not mine:
            return  # nothing about the target in this round: no information either way
        at = min(r.started_at for r in mine)
        st = self.state(target.name)
        st.last_round = at
        failed = [r for r in mine if not r.ok]
        st.last_ok = not failed
        if failed:
            self._failed(target, st, at, mine, failed, results)
        else:
            self._good(target, st, at)

    def _failed(self, target: Target, st: TargetState, at: datetime, mine: list[ProbeResult], failed: list[ProbeResult],
                results: Sequence[ProbeResult]) -> None:
        kind = "outage" if len(failed) == len(mine) else "partial"
        if st.local and not target.control and not self._network_doubtful():
            # The agent's network is back and the target still fails: from here it is the provider's.
            self._reset(st)
        st.streak += 1
        st.errors = error_lines(failed)
        st.kind = "outage" if "outage" in (st.kind, kind) else kind
        if st.streak == 1:
            st.since = at
            st.evidence = [Evidence("response", r.started_at, target.name, e)
                           for r, e in zip(failed, st.errors) if r.kind == "http"]
            self._emit(Kind.OPENED, target, st, at)
        if st.streak == self.open_after:
            self._reach(target, st, at, results)
        elif st.confirmed and at - (st.since or at) >= self.still_down_every * (st.reminders + 1):
            st.reminders += 1
            self._emit(Kind.STILL_DOWN, target, st, at)

    def _reach(self, target: Target, st: TargetState, at: datetime, results: Sequence[ProbeResult]) -> None:
        if target.control:
            self.controls_down.add(target.name)
            st.confirmed = True
            if self.local_outage:
                self._emit(Kind.LOCAL_OUTAGE, None, st, at, key=f"local:{st.key}")
            return
        if self._network_doubtful():
            st.local = True
            return
        st.confirmed = True
        self._emit(Kind.CONFIRMED, target, st, at)
        if self.on_confirm is not None:
            self.on_confirm(target, results)

    def _good(self, target: Target, st: TargetState, at: datetime) -> None:
        if st.streak:
            if target.control and st.confirmed:
                was_local = self.local_outage
                self.controls_down.discard(target.name)
                if was_local:
                    self._emit(Kind.LOCAL_RECOVERED, None, st, at, until=at, key=f"local:{st.key}")
            elif st.confirmed:
                self._emit(Kind.RECOVERED, target, st, at, until=at)
            elif not st.local:
                self._emit(Kind.BLIP, target, st, at, until=at)
        self._reset(st)

    def _network_doubtful(self) -> bool:
        """A control target failing now (even before its own confirmation): the agent's network is in doubt."""
        return any(self.state(c).streak > 0 for c in self.controls)

    @staticmethod
    def _reset(st: TargetState) -> None:
        st.streak, st.since, st.kind, st.errors, st.confirmed, st.local, st.reminders = 0, None, None, (), False, False, 0
        st.evidence = []

    def _emit(self, kind: Kind, target: Target | None, st: TargetState, at: datetime, *, until: datetime | None = None,
              key: str | None = None) -> None:
        name = target.name if target is not None else None
        self.bus.emit(Event(kind, at, name, st.kind, st.since, until, st.streak, st.errors, tuple(st.evidence),
                            key or f"{name}:{st.key}"))

    # -- certificate and budget ------------------------------------------------------
    def _side_events(self, target: Target, results: Sequence[ProbeResult]) -> None:
        for r in results:
            days = r.figures.get("cert_days") if r.kind == "http" else None
            if isinstance(days, (int, float)) and days <= self.cert_days:
                self._once(Event(Kind.CERT_EXPIRY, r.started_at, target.name, key=f"cert:{target.name}:{r.started_at.date()}",
                                 figures={"days": f"{days:.1f}", "url": str(r.figures.get("url") or "")}))
            if r.kind == "bandwidth" and r.error_class == R.SKIPPED and "budget" in (r.error or ""):
                self._once(Event(Kind.BUDGET_REACHED, r.started_at, target.name, key=f"budget:{target.name}:{r.started_at.date()}",
                                 figures={"reason": one_line(r.error or "", ERROR_CHARS)}))

    def _once(self, event: Event) -> None:
        if event.key not in self._said:
            self._said.add(event.key)
            self.bus.emit(event)
