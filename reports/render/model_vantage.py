"""The report model's vantage section: one target seen from several agents (a fleet).

Present only when the database holds more than one agent's rows for the target (summary.json
key ``vantages`` of a target, absent otherwise: a single agent's report is unchanged). Built from
reports.analysis.vantage.FleetAnalysis by reports/build/vantages.py.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Final, Literal

QuorumRule = Literal["majority", "fixed"]
SlaCounts = Literal["confirmed"]
QUORUM_RULES: Final[tuple[QuorumRule, ...]] = ("majority", "fixed")
QUORUM_ROW: Final = "quorum"  # the combined reading's row in TargetSeries.vantage_spans (the strip chart)


@dataclass(frozen=True, slots=True, kw_only=True)
class VantageEntry:
    """One agent that measured the target, and its share of the period."""

    name: str  # how the report names the vantage (the agent's host name, made unique)
    agent_id: str  # the agent's persistent UUID
    host: str
    observed_s: float  # measuring with its own network up
    down_s: float  # what it saw as outage (confirmed or not)
    local_s: float  # its own network down (its control targets failed)
    no_data_s: float


@dataclass(frozen=True, slots=True, kw_only=True)
class VantageSightEntry:
    """One vantage's own bounds of an incident: when it saw the target down."""

    vantage: str
    start: datetime
    end: datetime


@dataclass(frozen=True, slots=True, kw_only=True)
class FleetIncidentEntry:
    """An outage read across vantages.

    Confirmed: ``start``/``end`` bound the time a quorum of vantages saw it down together (what the
    SLA counts, ``agreed_s``); ``earliest``/``latest`` the first and last sign from any of them.
    Not confirmed: seen from fewer vantages than the quorum (a path or regional problem); the
    bounds are those of the sights and nothing is counted against the provider.
    """

    id: str  # "T1-V2": target 1, second incident across vantages
    confirmed: bool
    start: datetime
    end: datetime
    earliest: datetime
    latest: datetime
    agreed_s: float
    vantages: tuple[str, ...]
    sights: tuple[VantageSightEntry, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class VantageSection:
    """Every vantage's view of one target and each outage's confirmation."""

    quorum: int  # vantages that must see an outage at the same time to confirm it
    quorum_rule: QuorumRule  # "majority": of the vantages with data in the period; "fixed": set
    vantages: tuple[VantageEntry, ...]
    with_data: tuple[str, ...]  # the vantages that measured anything in the period
    confirmed_s: float  # time a quorum saw the target down, in the period
    sla_counts: SlaCounts  # which outages the SLA verdict counts
    incidents: tuple[FleetIncidentEntry, ...]
