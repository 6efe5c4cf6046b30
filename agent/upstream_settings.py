"""``[agent.upstream]``: where a fleet's agent forwards its rows (docs/fleet.md).

Kept apart from agent/config.py (which holds it as ``AgentSettings.upstream``) so that file stays
one screenful per section. The URL usually holds a password: it is registered as a secret with the
rest of the configuration and never printed.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, field_validator

CENTRAL_DRIVERS = ("postgresql", "sqlite")  # sqlite: a central file for a trial on one machine


class UpstreamSettings(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    database_url: str = Field(description="SQLAlchemy URL of the central database, e.g. postgresql+psycopg://slaproof:…@central/slaproof")
    batch_rows: int = Field(5000, ge=100, le=100_000, description="rows sent in one transaction")
    interval_s: float = Field(2.0, gt=0, le=300, description="how often the forwarder looks for new rows when it has caught up")
    retry_max_s: float = Field(30.0, ge=1, le=3600, description="the longest wait between attempts while the central database is unreachable")

    @field_validator("database_url")
    @classmethod
    def _driver(cls, v: str) -> str:
        driver = v.split(":", 1)[0].split("+", 1)[0]
        if driver not in CENTRAL_DRIVERS:
            raise ValueError("the central database must be PostgreSQL (postgresql+psycopg://user:password@host/dbname)")
        return v
