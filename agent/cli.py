"""The `slaproof` command. It parses, calls, and prints; the work lives elsewhere.

Errors from below arrive as SlaproofError subclasses and are printed as one
actionable message with their exit code (2 for bad input), never a traceback.
"""

from __future__ import annotations

import asyncio
import json
import logging
import sys
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import click

from agent.config import Settings, load_config
from agent.errors import SlaproofError, UsageError
from agent.version import VERSION

log = logging.getLogger("slaproof")


class Cli(click.Group):
    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except SlaproofError as e:
            click.echo(f"slaproof: error: {e}", err=True)
            ctx.exit(e.exit_code)


def _setup_logging(level: str) -> None:
    logging.basicConfig(level=getattr(logging, level), format="%(asctime)s %(levelname)s %(name)s: %(message)s",
                        stream=sys.stderr)
    if level != "DEBUG":  # their INFO lines are per-job noise in the journal
        for noisy in ("apscheduler", "alembic", "httpx", "httpcore"):
            logging.getLogger(noisy).setLevel(logging.WARNING)


config_option = click.option("--config", "-c", "config_path", metavar="PATH", envvar="SLAPROOF_CONFIG",
                             help="configuration file (default $SLAPROOF_CONFIG, then /etc/slaproof/config.toml)")


def _load(config_path: str | None) -> tuple[Settings, Path]:
    settings, path = load_config(config_path)
    _setup_logging(settings.agent.log_level)
    return settings, path


def _open_store(settings: Settings):  # type: ignore[no-untyped-def]
    from agent.store import Store

    return Store.open(settings.database_url())


@click.group(cls=Cli, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(VERSION, prog_name="slaproof")
def main() -> None:
    """slaproof: collect evidence of outages, loss, latency and bandwidth, and report it."""


# -- run ------------------------------------------------------------------------
@main.command()
@config_option
@click.option("--duration", type=float, default=None, metavar="SECONDS", help="stop cleanly after this many seconds")
def run(config_path: str | None, duration: float | None) -> None:
    """Run the measurement agent (what the systemd service starts)."""
    from agent.daemon import run_daemon

    settings, path = _load(config_path)
    if not settings.targets:
        raise UsageError(f"{path}: no [[targets]]: nothing to measure; see config.example.toml")
    log.info("configuration %s", path)
    d = run_daemon(settings, duration_s=duration)
    click.echo(f"stopped cleanly: {d.stats.rounds} rounds, {d.writer.stats.rows_written} rows written"
               + (f", {d.writer.stats.spooled} rows spooled" if d.writer.stats.spooled else ""), err=True)


# -- init -----------------------------------------------------------------------
def example_config_text() -> str:
    here = Path(__file__).parent / "data" / "config.example.toml"
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

    settings, _ = _load(config_path)
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


# -- status ---------------------------------------------------------------------
@main.command()
@config_option
def status(config_path: str | None) -> None:
    """Each target's last results, whether it is up, and the agent's runs."""
    from agent.checks import check_settings
    from agent.rounds import AGENT_SIDE
    from agent.rows import from_us
    from agent.store import settings_hash

    settings, _ = _load(config_path)
    store = _open_store(settings)
    tz = settings.display_tz()
    runs = store.all_runs()
    if runs:
        r = runs[-1]
        state = {"clean": "stopped cleanly", "unclean": "stopped UNCLEANLY"}.get(r["stop"] or "", "running (or killed: last heartbeat below)")
        click.echo(f"agent run #{r['id']}: started {from_us(r['started_us']).astimezone(tz):%Y-%m-%d %H:%M:%S %Z}, "
                   f"last seen {from_us(r['last_seen_us'] or r['started_us']).astimezone(tz):%Y-%m-%d %H:%M:%S %Z}, {state}")
    else:
        click.echo("the agent has not run yet")
    latest = store.latest_per_check()
    by_target: dict[str, list[dict[str, Any]]] = {}
    for row in latest:
        by_target.setdefault(row["target"], []).append(row)
    click.echo(f"{'TARGET':<20} {'STATE':<8} {'LAST CHECK (' + tz.key + ')':<26} CHECKS")
    for t in settings.targets:
        rows = by_target.get(t.name, [])
        if not rows:
            click.echo(f"{t.name:<20.20} {'no data':<8}")
            continue
        # The checks the config has now (older settings keep their rows, but not a say in the state).
        current = {settings_hash(check_settings(c)) for c in t.checks}
        rows = [r for r in rows if r["settings_hash"] in current] or rows
        # Up or down as the report counts it: bandwidth tests and the agent's own failures
        # (internal, permission, skipped by the budget) are shown but do not decide it.
        oks = [bool(r["ok"]) for r in rows if r["kind"] != "bandwidth" and r["error_class"] not in AGENT_SIDE]
        state = "-" if not oks else "up" if all(oks) else ("down" if not any(oks) else "partial")
        last = max(r["ts_us"] for r in rows)
        detail = ", ".join(f"{r['kind']} {'ok' if r['ok'] else (r['error_class'] or 'fail')}"
                           + (f" {r['rtt_ns'] / 1e6:.3f} ms" if r["rtt_ns"] is not None else "") for r in rows)
        click.echo(f"{t.name:<20.20} {state:<8} {from_us(last).astimezone(tz):%Y-%m-%d %H:%M:%S %Z}   {detail}")


# -- export / import ----------------------------------------------------------------
@main.command()
@config_option
@click.option("--from", "start", required=True, help="YYYY-MM-DD (display zone) or ISO 8601 time")
@click.option("--to", "stop", required=True, help="YYYY-MM-DD (inclusive) or ISO 8601 time")
@click.option("--target", "targets", multiple=True, help="only this target (repeatable)")
@click.option("--format", "fmt", type=click.Choice(["csv", "jsonl"]), default="jsonl", show_default=True)
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), default=None, help="file (default standard output)")
def export(config_path: str | None, start: str, stop: str, targets: tuple[str, ...], fmt: str, out: Path | None) -> None:
    """Write raw measurement rows of a period (JSON lines re-import with `slaproof import`)."""
    from agent.dates import parse_period
    from agent.rows import row_to_record, to_us

    settings, _ = _load(config_path)
    a, b = parse_period(start, stop, settings.display_tz())
    store = _open_store(settings)
    check_rows = store.check_rows(list(targets) or None)
    if targets:
        missing = set(targets) - {c["target"] for c in check_rows}
        if missing:
            raise UsageError(f"--target {', '.join(sorted(missing))}: no such target in the database")
    ids = [c["id"] for c in check_rows]
    fh = out.open("w", encoding="utf-8", newline="") if out else sys.stdout
    n = 0
    try:
        if fmt == "jsonl":
            for row in store.iter_rows(ids, to_us(a), to_us(b)):
                fh.write(json.dumps(row_to_record(row), ensure_ascii=False) + "\n")
                n += 1
        else:
            from agent.exchange import write_csv_export

            n = write_csv_export(fh, store, ids, to_us(a), to_us(b))
    finally:
        if out:
            fh.close()
    click.echo(f"exported {n} rows", err=True)


@main.command(name="import")
@config_option
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
def import_(config_path: str | None, file: Path) -> None:
    """Add history measured by other tools (JSON lines, docs/import-format.md), marked as imported."""
    from agent import chain, identity
    from agent.exchange import read_records
    from agent.rows import to_us

    settings, _ = _load(config_path)
    names = {t.name for t in settings.targets}
    # Pass 1: check every line before writing anything.
    count = sum(1 for _ in read_records(file, names))
    if count == 0:
        raise UsageError(f"{file}: no records")
    store = _open_store(settings)
    agent_uuid = identity.load_or_create(settings.state_dir())
    now_us = to_us(datetime.now(timezone.utc))
    agent_id = store.ensure_agent(agent_uuid, now_us)
    refs: dict[tuple[str, str], Any] = {}

    def rows() -> Any:
        for rec in read_records(file, names):
            ref = refs[(rec["target"], rec["kind"])]
            yield {**rec, "check_id": ref.id, "settings_hash": ref.settings_hash}

    # Check rows first (their own transactions), then all measurements in one.
    for rec in read_records(file, names):
        key = (rec["target"], rec["kind"])
        if key not in refs:
            refs[key] = store.import_check(agent_id, rec["target"], rec["kind"], settings.target(rec["target"]).address, now_us)
    with store.engine.begin() as conn:
        n = store.append_chained(conn, agent_id, chain.genesis(agent_uuid), rows())
    click.echo(f"imported {n} rows from {file} (marked imported)")


# -- verify ---------------------------------------------------------------------
@main.command()
@config_option
@click.option("--manifest", type=click.Path(exists=True, dir_okay=False, path_type=Path), default=None,
              help="also check a report bundle's manifest.json: file hashes and the chain head it cites")
def verify(config_path: str | None, manifest: Path | None) -> None:
    """Walk the measurement hash chain; name the first row that does not match (exit 1)."""
    from agent.verify import verify_all

    settings, _ = _load(config_path)
    store = _open_store(settings)
    ok, lines = verify_all(store, manifest)
    for line in lines:
        click.echo(line)
    if not ok:
        sys.exit(1)


# -- db -------------------------------------------------------------------------
@main.group()
def db() -> None:
    """Database maintenance."""


@db.command()
@config_option
def upgrade(config_path: str | None) -> None:
    """Apply schema migrations (also done on every start)."""
    settings, _ = _load(config_path)
    store = _open_store(settings)
    click.echo(f"{store.url}: schema at revision {store.schema_revision()}")


# -- serve ----------------------------------------------------------------------
@main.command()
@click.option("--bandwidth", is_flag=True, required=True, help="serve the bandwidth responder")
@click.option("--listen", default="127.0.0.1:8088", show_default=True, help="ADDR:PORT to bind (0.0.0.0:PORT for all)")
@click.option("--token", envvar="SLAPROOF_RESPONDER_TOKEN", default=None, help="require this bearer token")
@click.option("--max-bytes", type=int, default=1 << 30, show_default=True, help="largest download served")
def serve(bandwidth: bool, listen: str, token: str | None, max_bytes: int) -> None:
    """Run the bandwidth responder on the machine you rent (downloads of generated bytes, uploads discarded)."""
    from agent.responder import serve as serve_responder

    _setup_logging("INFO")
    if not token:
        click.echo("warning: no --token: anyone who can reach this port can use your traffic", err=True)
    serve_responder(listen, token=token, max_bytes=max_bytes)


def _register_reporting() -> None:
    try:
        from agent import cli_reports  # noqa: F401  (adds report, sla, letter)
    except ImportError as e:  # pragma: no cover - only while reports are being built
        log.debug("reporting commands unavailable: %s", e)


_register_reporting()

if __name__ == "__main__":  # pragma: no cover
    # Run the imported module's group: `python -m` would otherwise build a second one
    # that the reporting commands never registered on.
    from agent.cli import main as _main

    _main()
