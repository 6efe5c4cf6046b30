"""`slaproof status`: whether the agent runs, told truthfully, and each target's state now.

Running means the run's process is alive (checked when the run was recorded on this host)
and its heartbeat is fresh; a clean stop is recorded by the agent itself; anything else is
dead, since the last heartbeat: a pid that is gone, or a heartbeat older than two
intervals (a hung agent, or one on another host that stopped writing). Per target: the
state of its newest counted rows, the open incident (the failing run of rows at the tail,
an incident once it reaches open_after rounds) and since when.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from agent.checks import check_settings
from agent.config import Settings
from agent.live.tracker import OWN_KINDS
from agent.store import Store, settings_hash
from agent.store.live import AGENT_SIDE, CheckTail, RunRow, check_tails, latest_runs

STALE_HEARTBEATS = 2.0  # a heartbeat older than this many intervals (plus a commit) is not fresh
START_SLACK_S = 10.0  # a process that started this long after its run did is another process (pid reused)


@dataclass(frozen=True, slots=True)
class AgentState:
    state: str  # running | stopped | dead | never
    since_us: int | None  # running: started; stopped: ended; dead: last heartbeat
    run: RunRow | None
    reason: str


@dataclass(frozen=True, slots=True)
class TargetNow:
    name: str
    state: str  # up | down | partial | - (no counted rows) | no data (never measured)
    last_us: int | None
    failing_since_us: int | None
    incident: str | None  # outage | partial, once the failing run reached open_after rounds
    checks: tuple[CheckTail, ...]


@dataclass(frozen=True, slots=True)
class Status:
    agent: AgentState
    targets: tuple[TargetNow, ...]
    forward: str | None = None  # the fleet's forward backlog (a later task fills this in)


PidCheck = Callable[[RunRow], bool | None]


def pid_alive(run: RunRow) -> bool | None:
    """Is the run's process alive? None when the run was recorded on another host (cannot tell)."""
    if run.hostname != socket.gethostname():
        return None
    try:
        os.kill(run.pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass  # it exists, under another user
    started = process_start_us(run.pid)
    return started is None or started <= run.started_us + int(START_SLACK_S * 1e6)


def process_start_us(pid: int) -> int | None:
    """When a process started (µs since the epoch), from /proc; None where /proc cannot tell."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        btime = next(int(ln.split()[1]) for ln in Path("/proc/stat").read_text().splitlines() if ln.startswith("btime "))
        ticks = os.sysconf("SC_CLK_TCK")
    except (OSError, StopIteration, ValueError, IndexError):
        return None
    return int((btime + int(fields[19]) / ticks) * 1_000_000)


def agent_state(run: RunRow | None, now_us: int, heartbeat_s: float, batch_s: float, alive: PidCheck = pid_alive) -> AgentState:
    if run is None:
        return AgentState("never", None, None, "the agent has not run yet")
    last = run.last_seen_us or run.started_us
    if run.stop == "clean":
        return AgentState("stopped", run.ended_us or last, run, "stopped cleanly")
    if run.stop == "unclean":
        return AgentState("dead", run.ended_us or last, run, "did not stop cleanly (recorded at the next start)")
    proc = alive(run)
    stale = now_us - last > int((STALE_HEARTBEATS * heartbeat_s + batch_s) * 1_000_000)
    if proc is False:
        return AgentState("dead", last, run, f"process {run.pid} is gone (killed or crashed; no clean stop)")
    if stale:
        why = (f"process {run.pid} is alive but has written no heartbeat since (hung, or the database is not writable)"
               if proc else "no heartbeat since (stopped without a clean stop, or it cannot write the database)")
        return AgentState("dead", last, run, why)
    return AgentState("running", run.started_us, run, f"pid {run.pid} on {run.hostname}, heartbeat fresh")


def target_states(settings: Settings, tails: list[CheckTail]) -> list[TargetNow]:
    by_target: dict[str, list[CheckTail]] = {}
    for tail in tails:
        by_target.setdefault(tail.target, []).append(tail)
    out = []
    for t in settings.targets:
        rows = by_target.get(t.name, [])
        if not rows:
            out.append(TargetNow(t.name, "no data", None, None, None, ()))
            continue
        # The checks the config has now (older settings keep their rows, but not a say in the state).
        current = {settings_hash(check_settings(c)) for c in t.checks}
        rows = [r for r in rows if r.settings_hash in current] or rows
        # Up or down as the report counts it: bandwidth tests, host readings and the agent's own failures do not decide it.
        counted = [r for r in rows if r.kind not in OWN_KINDS and r.error_class not in AGENT_SIDE]
        failing = [r for r in counted if not r.ok]
        state = "-" if not counted else "up" if not failing else "down" if len(failing) == len(counted) else "partial"
        since = min((r.failing_since_us for r in failing if r.failing_since_us is not None), default=None)
        incident = None
        if failing and max(r.failing_rows for r in failing) >= settings.agent.open_after:
            incident = "outage" if state == "down" else "partial"
        out.append(TargetNow(t.name, state, max(r.ts_us for r in rows), since, incident, tuple(rows)))
    return out


def read_status(settings: Settings, store: Store, now_us: int, alive: PidCheck = pid_alive) -> Status:
    from agent import identity

    uuid = identity.load_or_create(settings.state_dir()) if (settings.state_dir() / identity.FILENAME).exists() else None
    runs = [r for r in latest_runs(store) if uuid is None or r.agent_uuid == uuid]
    run = max(runs, key=lambda r: r.id) if runs else None
    agent = agent_state(run, now_us, settings.agent.heartbeat_s, settings.agent.batch_s, alive)
    return Status(agent, tuple(target_states(settings, check_tails(store))), forward_backlog(settings, store, uuid, now_us))


def forward_backlog(settings: Settings, store: Store, uuid: str | None, now_us: int) -> str | None:
    """Rows waiting to be forwarded to the fleet's central database, the oldest one's age, and the last
    failure (from the forwarder's state file and the local store: no network call). None without a fleet."""
    from agent import forward_state
    from agent.live.loglines import duration_text
    from agent.store import upstream

    if settings.agent.upstream is None:
        return None
    st = forward_state.read(settings.state_dir())
    info = store.agent_info(uuid) if uuid else None
    if info is None:
        return "not started yet (no rows of this agent)"
    acked = st.acked_seq if st else 0
    n, oldest = upstream.pending_count(store, upstream.agent_check_ids(store, int(info["id"])), acked)
    lag = "caught up" if n == 0 else f"{n} rows behind, the oldest from {duration_text(max(0, now_us - (oldest or now_us)) / 1e6)} ago"
    if st is None:
        return f"{lag}; the forwarder has not reported yet"
    if st.refused_seq is not None:
        return f"{lag}; STOPPED: the central database refused row {st.refused_seq}: {st.error}"
    if st.error:
        return f"{lag}; failing since {duration_text(max(0, now_us - (st.error_since_us or now_us)) / 1e6)} ago: {st.error}"
    return lag
