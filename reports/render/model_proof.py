"""The report's proof section in the model (reports/render/model.py re-exports it): what a third party
can check without trusting whoever holds the database — signed checkpoints, RFC 3161 tokens, the clock.

Built by reports/build/proof.py from agent/proof/statement.py's ProofStatement (the same facts that
``proof/statement.json`` holds in full); kept apart only for the size of model.py.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True, slots=True, kw_only=True)
class StampCover:
    """One time-stamp authority's tokens over the period: rows measured in [covered_from, covered_to) are
    dated by it; ``max_delay_s`` is the longest wait between the newest row a token covers and the token."""

    authority: str  # the authority's name from its certificate, as given
    tokens: int
    covered_from: datetime
    covered_to: datetime
    max_delay_s: float


@dataclass(frozen=True, slots=True, kw_only=True)
class ClockGap:
    """A span in which the kernel said its clock was not synchronised (its largest error bound, ms)."""

    start: datetime
    end: datetime
    max_error_ms: float | None


@dataclass(frozen=True, slots=True, kw_only=True)
class ClockJump:
    """A step of the wall clock against the monotonic clock (positive: forward), seen at ``at``."""

    at: datetime
    step_s: float


@dataclass(frozen=True, slots=True, kw_only=True)
class ProofSection:
    """The period's proof: key fingerprints in force, checkpoints, tokens, and the clock's recorded state."""

    key_fingerprints: tuple[str, ...]  # SHA-256 of each agent public key in force (two or more: the key changed)
    checkpoints: int  # signed within the period
    signed_until: datetime | None  # the newest checkpoint: every row measured before it is under a signature
    stamps: tuple[StampCover, ...]
    stamped_until: datetime | None  # rows measured before this are dated by a token
    clock_recorded_s: float  # time with a heartbeat's record of the kernel clock state
    clock_synced_s: float
    clock_unknown_s: float  # no record (agent not running, or the state could not be read)
    clock_max_error_ms: float | None  # the kernel's largest error bound while synchronised
    clock_unsynced: tuple[ClockGap, ...]
    clock_steps: tuple[ClockJump, ...]

    @property
    def clock_on_record(self) -> bool:
        """Any record of the clock in the period: time with a record, or single readings (a gap, a step)."""
        return self.clock_recorded_s > 0 or bool(self.clock_unsynced) or bool(self.clock_steps)
