"""`slaproof run`, `init`, `probe`: the agent and a look at what it measures (`status` is in status_cmds)."""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path
from typing import Any

import click

from agent.cli.common import (
    config_option,
    load_settings,
    log,
    main,
)
from agent.core.errors import StoreError, UsageError


# -- run ------------------------------------------------------------------------
@main.command()
@config_option
@click.option("--duration", type=float, default=None, metavar="SECONDS", help="stop cleanly after this many seconds")
def run(config_path: str | None, duration: float | None) -> None:
    """Run the measurement agent (what the systemd service starts)."""
    from agent.daemon import run_daemon

    settings, path = load_settings(config_path)
    if not settings.targets:
        raise UsageError(f"{path}: no [[targets]]: nothing to measure; see config.example.toml")
    log.info("configuration %s", path)
    d = run_daemon(settings, duration_s=duration)
    figures = f"{d.stats.rounds} rounds, {d.writer.stats.rows_written} rows written"
    if d.clean:
        click.echo(f"stopped cleanly: {figures}", err=True)
        return
    outcome = d.outcome
    reasons = [r for r in (outcome.reason() if outcome else "the writer did not stop",
                           f"{d.stats.cancelled} round(s) cancelled at stop" if d.stats.cancelled else None) if r]
    click.echo(f"stopped, NOT clean: {figures}; " + "; ".join(reasons) + " (the run is recorded unclean)", err=True)
    if outcome is None or not outcome.filed_all:
        sys.exit(StoreError.exit_code)  # rows are not all in the database: a service manager must see a failure


# -- init -----------------------------------------------------------------------
def example_config_text() -> str:
    here = Path(__file__).parent.parent / "data" / "config.example.toml"
    return here.read_text(encoding="utf-8")


@main.command()
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--force", is_flag=True, help="overwrite an existing file")
def init(path: Path, force: bool) -> None:
    """Write a starter configuration (loopback targets; real ones commented out)."""
    if path.exists() and not force:
        raise UsageError(f"{path} exists; pass --force to overwrite it")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(example_config_text(), encoding="utf-8")
    click.echo(f"wrote {path}; edit the [[targets]], then: slaproof run --config {path}")
    from agent.cli.proof_cmds import ensure_key_at_init
    from agent.config import load_config
    from agent.proof.service import key_path

    click.echo(ensure_key_at_init(key_path(load_config(path)[0])))


# -- probe ----------------------------------------------------------------------
def _fmt_ms(v: float | None) -> str:
    return "-" if v is None else (f"{v:.3f}" if v < 10 else f"{v:.1f}")


@main.command()
@config_option
@click.argument("targets", nargs=-1)
@click.option("--json", "as_json", is_flag=True, help="print JSON lines instead of a table")
def probe(config_path: str | None, targets: tuple[str, ...], as_json: bool) -> None:
    """Run one round of checks now and print the results (nothing is stored)."""
    from agent.checks import run_checks

    settings, _ = load_settings(config_path)
    names = list(targets) or [t.name for t in settings.targets]
    unknown = [n for n in names if n not in {t.name for t in settings.targets}]
    if unknown:
        raise UsageError(f"unknown target(s): {', '.join(unknown)}; known: {', '.join(t.name for t in settings.targets)}")

    async def go() -> list[tuple[str, Any]]:
        pinger = None
        if any(c.kind == "icmp" for n in names for c in settings.target(n).checks):
            from probes.icmp import Pinger

            pinger = Pinger()
        try:
            jobs = [(n, c) for n in names for c in settings.target(n).checks]
            res = await asyncio.gather(*(run_checks(settings.target(n), c, pinger=pinger) for n, c in jobs))
            return [(n, r) for (n, _), rs in zip(jobs, res) for r in rs]
        finally:
            if pinger is not None:
                await pinger.close()

    rows = asyncio.run(go())
    if as_json:
        for n, r in rows:
            click.echo(json.dumps({"target": n, "check": r.kind, "ok": r.ok, "rtt_ms": r.rtt_ms, "figures": dict(r.figures),
                                   "error_class": r.error_class, "error": r.error, "ts": r.started_at.isoformat()}, default=str))
    else:
        click.echo(f"{'TARGET':<20} {'CHECK':<10} {'OK':<4} {'RTT ms':>9} {'LOSS %':>7}  DETAIL")
        for n, r in rows:
            loss = r.figures.get("loss_pct")
            detail = r.error or (f"HTTP {r.figures.get('status')}" if r.figures.get("status") else "")
            if r.kind == "bandwidth" and r.figures.get("mbps_mean") is not None:
                detail = (f"{r.figures['mbps_mean']:,.1f} Mbit/s {r.figures.get('direction', '')}, "
                          f"{(r.figures.get('bytes_total') or 0) / 1e6:,.1f} MB moved" + (f"; {detail}" if detail else ""))
            click.echo(f"{n:<20.20} {r.kind:<10} {'yes' if r.ok else 'NO':<4} {_fmt_ms(r.rtt_ms):>9} {'-' if loss is None else f'{loss:.1f}':>7}  {detail}")
    if any(not r.ok for _, r in rows):
        sys.exit(1)
