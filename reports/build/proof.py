"""The report's proof section from the store's proof records (agent/proof/statement.py).

The same statement that ``proof/statement.json`` carries in full, folded into a bounded model object:
per authority one line (a month of hourly tokens is 720), every clock gap and step kept (they are
events a reader must see, and rare on a synchronised machine).
"""

from __future__ import annotations

from collections.abc import Sequence

from agent.core.times import from_us
from agent.proof.statement import ProofStatement, StampSpan, build_statement
from agent.store import Store
from reports.render.model_proof import ClockGap, ClockJump, ProofSection, StampCover

US_PER_MS = 1_000


def proof_section(store: Store, agent_uuid: str | None, start_us: int, end_us: int) -> ProofSection | None:
    """The period's proof for the report's agent; None when the report has no agent (no rows of one)."""
    if agent_uuid is None:
        return None
    return section_of(build_statement(store, agent_uuid, start_us, end_us))


def _covers(stamps: Sequence[StampSpan]) -> tuple[StampCover, ...]:
    by_authority: dict[str, list[StampSpan]] = {}
    for s in stamps:
        by_authority.setdefault(s.authority or s.tsa, []).append(s)
    return tuple(StampCover(authority=name, tokens=len(spans), covered_from=from_us(min(s.from_us for s in spans)),
                            covered_to=from_us(max(s.to_us for s in spans)), max_delay_s=max(s.delay_s for s in spans))
                 for name, spans in sorted(by_authority.items()))


def section_of(st: ProofStatement) -> ProofSection:
    c = st.clock
    return ProofSection(
        key_fingerprints=tuple(k.fingerprint for k in st.keys),
        checkpoints=st.checkpoints,
        signed_until=None if st.signed_until_us is None else from_us(st.signed_until_us),
        stamps=_covers(st.stamps),
        stamped_until=None if st.stamped_until_us is None else from_us(st.stamped_until_us),
        clock_recorded_s=c.recorded_s, clock_synced_s=c.synced_s, clock_unknown_s=c.unknown_s,
        clock_max_error_ms=None if c.max_error_synced_us is None else c.max_error_synced_us / US_PER_MS,
        clock_unsynced=tuple(ClockGap(start=from_us(a), end=from_us(b), max_error_ms=None if m is None else m / US_PER_MS)
                             for a, b, m in c.unsynced),
        clock_steps=tuple(ClockJump(at=from_us(t), step_s=step / 1e6) for t, step in c.steps),
    )
