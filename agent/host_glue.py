"""Host checks in the agent: config → probe settings, and where each target's readings left off.

The responder numbers its readings (``instance:seq``); the agent asks for the
ones after the last it stored. That cursor lives here, one per target, seeded
at start from the newest stored host row, so a restart neither stores a
reading twice nor misses the ones taken while the agent was down (as long as
the responder still keeps them: two days by default).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterable
from datetime import datetime, timedelta
from typing import Any

from agent.config import HostCheck, Target
from agent.core.result import ProbeResult, utcnow
from agent.core.times import to_us
from probes.host import KIND, HostProbeSettings, poll_host

log = logging.getLogger(__name__)

SEED_LOOKBACK = timedelta(days=3)  # longer than the responder keeps readings


def settings_of(check: HostCheck) -> HostProbeSettings:
    return HostProbeSettings(url=check.url, token=check.token, timeout_s=check.timeout_s, verify_tls=check.verify_tls)


def cursor_of(detail: str | None) -> str | None:
    """``instance:seq`` of a stored host row's detail, or None when it holds no reading."""
    if not detail:
        return None
    try:
        d = json.loads(detail)
        inst, seq = d["instance"], d["reading"]["seq"]
    except (ValueError, KeyError, TypeError):
        return None
    return f"{inst}:{seq}" if isinstance(inst, str) and isinstance(seq, int) else None


class HostCursors:
    """The last reading stored per target (thread-unsafe: the daemon's loop alone uses it)."""

    def __init__(self) -> None:
        self.since: dict[str, str] = {}

    def seed(self, target: str, rows: Iterable[tuple[Any, ...]]) -> None:
        """From stored (ts_us, ok, error_class, detail) rows in time order: the newest reading's cursor."""
        for _ts, ok, _ec, detail in rows:
            cur = cursor_of(detail) if ok else None
            if cur is not None:
                self.since[target] = cur


def seed_cursors(cursors: HostCursors, store: Any, targets: Iterable[Target], now: datetime) -> None:
    """Each host-checked target's cursor from its newest stored reading (any settings version)."""
    names = [t.name for t in targets if any(isinstance(c, HostCheck) for c in t.checks)]
    if not names:
        return
    ids: dict[str, list[int]] = {}
    for c in store.check_rows(names):
        if c["kind"] == KIND:
            ids.setdefault(c["target"], []).append(c["id"])
    for name, check_ids in ids.items():
        cursors.seed(name, store.iter_detail_rows(check_ids, to_us(now - SEED_LOOKBACK), to_us(now + timedelta(days=1))))


async def run_host(target: Target, check: HostCheck, *, cursors: HostCursors | None,
                   clock: Callable[[], datetime] = utcnow, client: Any = None) -> list[ProbeResult]:
    """One poll: a result per new reading, or one failed result; the cursor moves only past stored readings."""
    since = cursors.since.get(target.name) if cursors is not None else None
    poll = await poll_host(settings_of(check), since, wall=clock, client=client)
    if cursors is not None and poll.since is not None:
        cursors.since[target.name] = poll.since
    return poll.results


__all__ = ["HostCursors", "run_host", "seed_cursors", "settings_of"]
