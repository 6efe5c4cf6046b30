"""Text that leaves the agent (a log line, an alert): one line, bounded, secrets masked
(agent/core/secrets.py: by name, by shape, and every registered value)."""

from __future__ import annotations

import re

from agent.core import secrets

_SPACE = re.compile(r"\s+")


def one_line(text: str, limit: int = 300) -> str:
    """Whitespace folded to single spaces (journald: one record per event), cut at ``limit``, secrets masked."""
    flat = _SPACE.sub(" ", mask(text)).strip()
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def mask(text: str) -> str:
    return secrets.mask_text(text)


def register(values: list[str]) -> None:
    """Secret values (alert URL parts, a dashboard token) that no output may show."""
    secrets.add_values(values)
