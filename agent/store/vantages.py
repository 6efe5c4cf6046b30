"""Which agents measured which target: the checks of each vantage point, for a fleet report.

A database that holds several agents' rows (the central PostgreSQL of a fleet, or any database
rows were gathered into) has one ``targets`` row per agent and target name; a fleet report reads
each agent's checks of a target apart, as one vantage point's view.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import select

from agent.store.database import Store
from agent.store.schema import agents, checks, targets


@dataclass(frozen=True, slots=True)
class AgentCheck:
    """One check row with the agent that owns it."""

    id: int
    kind: str
    settings: str  # JSON, as stored
    target: str
    control: bool
    agent_uuid: str
    hostname: str


def agent_checks(store: Store, target_names: Sequence[str]) -> list[AgentCheck]:
    """Every check of the named targets, of every agent, in check id order."""
    if not target_names:
        return []
    q = (select(checks.c.id, checks.c.kind, checks.c.settings, targets.c.name, targets.c.control, agents.c.uuid,
                agents.c.hostname)
         .join(targets, targets.c.id == checks.c.target_id).join(agents, agents.c.id == targets.c.agent_id)
         .where(targets.c.name.in_(list(target_names))).order_by(checks.c.id))
    with store.engine.connect() as conn:
        return [AgentCheck(int(r.id), r.kind, r.settings, r.name, bool(r.control), r.uuid, r.hostname)
                for r in conn.execute(q)]
