"""What a report states about its own trustworthiness, as one typed value.

For a period: which key epochs signed the checkpoints (and whether the key
changed), up to when the rows are covered by a signed checkpoint, which spans
are covered by an RFC 3161 token and how late it came, and the clock's state
(synchronised or not, its largest error bound, and every step). The report's
renderer turns this into sentences; ``proof/statement.json`` in a bundle holds it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from agent.core.times import iso
from agent.store import Store
from agent.store.proof import CheckpointRow, ClockSpan, ClockStep, KeyEpoch, ProofRecords, TokenRow

SCHEMA = "slaproof.proof-statement/1"


@dataclass(frozen=True, slots=True)
class KeyEpochInfo:
    epoch: int
    fingerprint: str
    started_us: int
    reason: str


@dataclass(frozen=True, slots=True)
class StampSpan:
    """Rows measured in [from_us, to_us) provably existed at ``stamped_us`` (the authority's time)."""

    from_us: int
    to_us: int
    stamped_us: int
    tsa: str
    authority: str

    @property
    def delay_s(self) -> float:
        return (self.stamped_us - self.to_us) / 1e6


@dataclass(frozen=True, slots=True)
class ClockSummary:
    recorded_s: float  # time with heartbeat samples of the kernel clock state
    synced_s: float
    unknown_s: float  # no record (agent not running), or the state could not be read
    max_error_synced_us: int | None  # the kernel's largest maxerror while synchronised
    unsynced: tuple[tuple[int, int, int | None], ...]  # (from µs, to µs, largest maxerror µs)
    steps: tuple[tuple[int, int], ...]  # (wall time after the step µs, step µs; positive: forward)


@dataclass(frozen=True, slots=True)
class ProofStatement:
    agent: str
    from_us: int
    to_us: int
    checkpoints: int  # signed in the period
    signed_until_us: int | None  # the newest checkpoint's time: rows before it are covered by a signature
    keys: tuple[KeyEpochInfo, ...]  # epochs in force during the period (a second one: the key changed)
    stamps: tuple[StampSpan, ...]
    stamped_until_us: int | None  # rows measured before this are covered by a token
    clock: ClockSummary
    notes: tuple[str, ...] = field(default=())

    @property
    def key_changed(self) -> bool:
        return len(self.keys) > 1

    def to_json(self) -> dict[str, Any]:
        d = asdict(self)
        d["schema"] = SCHEMA
        d["key_changed"] = self.key_changed
        d["from"], d["to"] = iso(self.from_us), iso(self.to_us)
        return d


def _clip(a: int, b: int, lo: int, hi: int) -> int:
    return max(0, min(b, hi) - max(a, lo))


def clock_summary(spans: Sequence[ClockSpan], steps: Sequence[ClockStep], a: int, b: int) -> ClockSummary:
    recorded = synced = 0
    max_synced: int | None = None
    unsynced: list[tuple[int, int, int | None]] = []
    for s in spans:
        d = _clip(s.start_us, s.end_us, a, b)
        if s.synced is None or (d == 0 and not (a <= s.start_us < b)):
            continue
        recorded += d
        if s.synced:
            synced += d
            if s.maxerror_us is not None:
                max_synced = s.maxerror_us if max_synced is None else max(max_synced, s.maxerror_us)
        elif unsynced and unsynced[-1][1] >= s.start_us:
            f, _, m = unsynced[-1]
            unsynced[-1] = (f, min(s.end_us, b), max(m or 0, s.maxerror_us or 0))
        else:
            unsynced.append((max(s.start_us, a), min(s.end_us, b), s.maxerror_us))
    total = b - a
    return ClockSummary(recorded / 1e6, synced / 1e6, (total - recorded) / 1e6, max_synced, tuple(unsynced),
                        tuple((s.ts_us, s.step_us) for s in steps))


def stamp_spans(cps: Sequence[CheckpointRow], tokens: Sequence[TokenRow], a: int, b: int) -> list[StampSpan]:
    """Per authority: the rows up to each stamped checkpoint, from the previous stamped one, clipped to [a, b)."""
    by_cp = {c.id: c for c in cps}
    out: list[StampSpan] = []
    for tsa in sorted({t.tsa_url for t in tokens}):
        prev = a
        for t in sorted((t for t in tokens if t.tsa_url == tsa), key=lambda t: (by_cp[t.checkpoint_id].size, t.id)):
            cp_time = by_cp[t.checkpoint_id].ts_us
            if cp_time <= prev:
                continue
            if cp_time > a:
                out.append(StampSpan(prev, min(cp_time, b), t.gen_time_us, tsa, t.authority))
            prev = cp_time
            if prev >= b:
                break
    return out


def _epochs_in_force(epochs: Sequence[KeyEpoch], a: int, b: int) -> tuple[KeyEpochInfo, ...]:
    out = []
    for i, e in enumerate(epochs):
        until = epochs[i + 1].created_us if i + 1 < len(epochs) else None
        if e.created_us < b and (until is None or until > a):
            out.append(KeyEpochInfo(e.epoch, e.fingerprint, e.created_us, e.reason))
    return tuple(out)


def build_statement(store: Store, agent_uuid: str, a: int, b: int) -> ProofStatement:
    records = ProofRecords(store)
    agent_id = records.agent_id(agent_uuid)
    empty_clock = ClockSummary(0.0, 0.0, (b - a) / 1e6, None, (), ())
    if agent_id is None:
        return ProofStatement(agent_uuid, a, b, 0, None, (), (), None, empty_clock, ("no record of this agent",))
    cps = records.checkpoints(agent_id)
    tokens = records.timestamps(agent_id)
    spans, steps = records.clock_between(agent_id, a, b)
    in_period = [c for c in cps if a <= c.ts_us < b]
    after = [c.ts_us for c in cps if c.ts_us >= a]
    stamps = stamp_spans(cps, tokens, a, b)
    notes: list[str] = []
    if not cps:
        notes.append("no signed checkpoints")
    if not tokens:
        notes.append("no RFC 3161 timestamps")
    return ProofStatement(agent_uuid, a, b, len(in_period), max(after) if after else None,
                          _epochs_in_force(records.key_epochs(agent_id), a, b), tuple(stamps),
                          max((s.to_us for s in stamps), default=None), clock_summary(spans, steps, a, b), tuple(notes))
