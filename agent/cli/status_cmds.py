"""`slaproof status`: is the agent running (truthfully), and each target's state and open incident."""

from __future__ import annotations

import json
from dataclasses import asdict
from datetime import tzinfo

import click

from agent.cli.common import config_option, load_settings, main, open_store
from agent.core.times import from_us, to_us, utcnow


def _t(us: int, tz: tzinfo) -> str:
    return f"{from_us(us).astimezone(tz):%Y-%m-%d %H:%M:%S %Z}"


def _ago(us: int, now_us: int) -> str:
    from agent.live.loglines import duration_text

    return duration_text(max(0, now_us - us) / 1e6)


@main.command()
@config_option
@click.option("--json", "as_json", is_flag=True, help="print one JSON object instead of text")
@click.option("--fleet", is_flag=True, help="list the agents forwarding into the central database instead (docs/fleet.md)")
@click.option("--database", metavar="URL", help="with --fleet: the central database (default: [agent.upstream] database_url)")
def status(config_path: str | None, as_json: bool, fleet: bool, database: str | None) -> None:
    """Whether the agent is running (pid alive and heartbeat fresh), stopped cleanly or dead since when;
    each target's state now, its open incident and for how long; how far forwarding is behind."""
    from agent.live.status import read_status

    settings, path = load_settings(config_path)
    if fleet:
        from agent.cli.fleet_cmds import print_fleet

        print_fleet(settings, path, database, settings.display_tz())
        return
    store = open_store(settings)
    now = utcnow()
    now_us = to_us(now)
    st = read_status(settings, store, now_us)
    store.close()
    if as_json:
        click.echo(json.dumps({"now_us": now_us, **asdict(st)}, ensure_ascii=False, default=str))
        return
    tz = settings.display_tz()
    click.echo(_agent_line(st.agent.state, st.agent.since_us, st.agent.reason, st.agent.run.id if st.agent.run else None, now_us, tz))
    click.echo(f"{'TARGET':<20} {'STATE':<8} {'LAST CHECK (' + str(tz) + ')':<26} {'INCIDENT':<36} CHECKS")
    for t in st.targets:
        if t.last_us is None:
            click.echo(f"{t.name:<20.20} {t.state:<8}")
            continue
        incident = "-"
        if t.failing_since_us is not None:
            what = t.incident or "failing (not yet an incident)"
            # Not running: what is known ends at the last check, not now.
            upto = (f"{_ago(t.failing_since_us, now_us)}" if st.agent.state == "running"
                    else f"{_ago(t.failing_since_us, t.last_us)} to the last check")
            incident = f"{what} since {from_us(t.failing_since_us).astimezone(tz):%m-%d %H:%M:%S} ({upto})"
        detail = ", ".join(f"{r.kind} {'ok' if r.ok else (r.error_class or 'fail')}"
                           + (f" {r.rtt_ns / 1e6:.3f} ms" if r.rtt_ns is not None else "") for r in t.checks)
        click.echo(f"{t.name:<20.20} {t.state:<8} {_t(t.last_us, tz):<26} {incident:<36} {detail}")
    if st.forward is not None:
        click.echo(f"forwarding: {st.forward}")


def _agent_line(state: str, since_us: int | None, reason: str, run_id: int | None, now_us: int, tz: tzinfo) -> str:
    if state == "never" or since_us is None:
        return f"agent: NOT RUN YET ({reason})"
    run = f"run #{run_id}, " if run_id is not None else ""
    head = {"running": "RUNNING since", "stopped": "STOPPED cleanly at", "dead": "DEAD since"}[state]
    why = "" if state == "stopped" else reason
    line = f"agent: {head} {_t(since_us, tz)} ({_ago(since_us, now_us)} ago; {run}{why})".replace("; )", ")").replace(", )", ")")
    if state != "running":
        line += "; target states below are as of their last check"
    return line


