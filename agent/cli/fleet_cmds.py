"""`slaproof forward` (ship this agent's rows to the fleet's central database) and the fleet list
behind `slaproof status --fleet` (docs/fleet.md)."""

from __future__ import annotations

import signal
from datetime import tzinfo
from types import FrameType

import click

from agent.cli.common import config_option, load_settings, main, open_store
from agent.cli.data_cmds import db
from agent.config import Settings
from agent.core.errors import UsageError
from agent.core.times import from_us, to_us, utcnow


def _upstream(settings: Settings, path: object) -> str:
    if settings.agent.upstream is None:
        raise UsageError(f"{path}: no [agent.upstream] database_url: add the central database's URL to forward (docs/fleet.md)")
    return settings.agent.upstream.database_url


@main.command()
@config_option
@click.option("--once", is_flag=True, help="send everything not yet forwarded, then exit (otherwise keep forwarding until stopped)")
def forward(config_path: str | None, once: bool) -> None:
    """Forward this agent's rows to the central database named in [agent.upstream] (the daemon does it too)."""
    from agent import identity
    from agent.forwarder import Forwarder, agent_name

    settings, path = load_settings(config_path)
    _upstream(settings, path)
    assert settings.agent.upstream is not None
    store = open_store(settings)
    uuid = identity.load_or_create(settings.state_dir())
    fwd = Forwarder(settings.agent.upstream, store, uuid, store.ensure_agent(uuid, to_us(utcnow())),
                    agent_name(settings.agent.vantage), settings.state_dir())
    try:
        if once:
            n = fwd.drain()
            st = fwd.central
            click.echo(f"forwarded {n} rows to {st.url if st else 'the central database'}")
            return

        def _stop(_sig: int, _frame: FrameType | None) -> None:
            fwd.request_stop()

        signal.signal(signal.SIGTERM, _stop)
        signal.signal(signal.SIGINT, _stop)
        fwd.run()
    finally:
        fwd.close()
        store.close()


def print_fleet(settings: Settings, path: object, database: str | None, tz: tzinfo) -> None:
    """Each agent forwarding into the central database: last contact, backlog, clock; recent refusals."""
    from agent.core import secrets
    from agent.live.loglines import duration_text
    from agent.store import Store
    from agent.store import upstream as up

    if database:
        secrets.add_values(secrets.secrets_in_url(database))
    central = Store.open(database or _upstream(settings, path), migrate=False)
    try:
        agents, refused = up.fleet_agents(central), up.refusals(central, 10)
    finally:
        central.close()
    now_us = to_us(utcnow())
    click.echo(f"{'AGENT':<24} {'ID':<36} {'LAST CONTACT (' + str(tz) + ')':<34} {'ROWS':>10} {'BACKLOG':>8}  CLOCK")
    for a in agents:
        ago = duration_text(max(0, now_us - a.last_contact_us) / 1e6)
        clock = {True: "synced", False: "NOT synced", None: "unknown"}[a.clock_synced]
        if a.clock_offset_us is not None:
            clock += f", {a.clock_offset_us / 1e6:+.1f} s vs central"
        flag = f"  {a.refusals} refused" if a.refusals else ""
        contact = f"{from_us(a.last_contact_us).astimezone(tz):%Y-%m-%d %H:%M:%S} ({ago} ago)"
        click.echo(f"{a.name:<24.24} {a.uuid:<36} {contact:<34} {a.rows_received:>10} {a.backlog:>8}  {clock}{flag}")
    if not agents:
        click.echo("no agent has forwarded rows to this database yet")
    for r in refused:
        click.echo(f"refused: {r['name']} ({r['agent_uuid']}) row {r['seq'] if r['seq'] is not None else '-'} at "
                   f"{from_us(r['received_us']).astimezone(tz):%Y-%m-%d %H:%M:%S}: {r['reason']}")


@db.command("detach-month")
@config_option
@click.argument("month", metavar="YYYY-MM")
def detach_month(config_path: str | None, month: str) -> None:
    """PostgreSQL: take one month's rows out of measurements into a table of their own, to archive (docs/fleet.md)."""
    from agent.store.partitions import detach_month as detach

    settings, _ = load_settings(config_path)
    store = open_store(settings, create_folder=False)
    try:
        name = detach(store, month)
    finally:
        store.close()
    click.echo(f"{month}: detached into table {name}; reports no longer read it. Archive it with "
               f"pg_dump -t {name}, then DROP TABLE {name} when the archive is safe.")
