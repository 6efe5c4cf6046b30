"""`slaproof export`, `import`, `verify`, `db`: rows in and out, and the chain."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click
from sqlalchemy.exc import SQLAlchemyError

from agent.cli.common import (
    config_option,
    load_settings,
    main,
    open_store,
)
from agent.core.errors import StoreError, UsageError
from agent.store.database import db_reason


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
    from agent.cli.dates import parse_period
    from agent.core.times import to_us
    from agent.store.rows import row_to_record

    settings, _ = load_settings(config_path)
    a, b = parse_period(start, stop, settings.display_tz())
    store = open_store(settings)
    check_rows = store.check_rows(list(targets) or None)
    if targets:
        missing = set(targets) - {c["target"] for c in check_rows}
        if missing:
            raise UsageError(f"--target {', '.join(sorted(missing))}: no such target in the database")
    ids = [c["id"] for c in check_rows]
    try:
        fh = out.open("w", encoding="utf-8", newline="") if out else sys.stdout
    except OSError as e:
        raise UsageError(f"--out {out}: cannot write: {e.strerror}") from None
    n = 0
    try:
        if fmt == "jsonl":
            for row in store.iter_rows(ids, to_us(a), to_us(b)):
                fh.write(json.dumps(row_to_record(row), ensure_ascii=False) + "\n")
                n += 1
        else:
            from agent.store.exchange import write_csv_export

            n = write_csv_export(fh, store, ids, to_us(a), to_us(b))
    finally:
        if out:
            fh.close()
    click.echo(f"exported {n} rows", err=True)


@main.command(name="import")
@config_option
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--tool", default=None, metavar="TEXT",
              help='what measured these rows, e.g. "smokeping 2.8.2" (kept with them; default "unknown")')
def import_(config_path: str | None, file: Path, tool: str | None) -> None:
    """Add history measured by other tools (JSON lines, docs/import-format.md), marked as imported
    and filed with the file's name, its SHA-256 and the tool, so a report can name where it came from."""
    from agent import identity
    from agent.store.exchange import source_of
    from agent.store.importing import check_file, import_file

    settings, _ = load_settings(config_path)
    addresses = {t.name: t.address for t in settings.targets}
    checked = check_file(file, addresses)  # every line checked before anything is opened or written
    source = source_of(file, tool)
    store = open_store(settings)
    agent_uuid = identity.load_or_create(settings.state_dir())
    try:
        got = import_file(store, checked, agent_uuid=agent_uuid, addresses=addresses, source=source)
    except SQLAlchemyError as e:
        raise StoreError(f"{file}: the database refused the import ({db_reason(e)}); nothing of it was stored") from None
    click.echo(f"imported {got.new} rows from {file} (marked imported)")
    if got.present:
        click.echo(f"{got.present} {'row' if got.present == 1 else 'rows'} already present "
                   f"{'was' if got.present == 1 else 'were'} skipped (same target, check, time and tool)")


# -- verify ---------------------------------------------------------------------
@main.command()
@config_option
@click.option("--manifest", type=click.Path(exists=True, dir_okay=False, path_type=Path), default=None,
              help="also check a report bundle's manifest.json: file hashes and the chain head it cites")
@click.option("--bundle", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="check a report bundle on its own, with no database and no config (docs/verify.md)")
@click.option("--key", "pins", multiple=True, metavar="FINGERPRINT", help="with --bundle: an agent key fingerprint you trust (repeatable)")
@click.option("--tsa-ca", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="with --bundle: the Time-Stamp Authority root certificate(s) you trust (PEM)")
def verify(config_path: str | None, manifest: Path | None, bundle: Path | None, pins: tuple[str, ...], tsa_ca: Path | None) -> None:
    """Walk the hash chain and check the signed checkpoints and timestamps; name what does not match (exit 1)."""
    from agent.cli.proof_cmds import verify_bundle_cmd, verify_db_proofs
    from agent.store.verify import verify_all

    if bundle is not None:
        verify_bundle_cmd(bundle, pins, tsa_ca)
        return
    settings, _ = load_settings(config_path)
    store = open_store(settings)
    ok, lines = verify_all(store, manifest)
    proofs_ok, more = verify_db_proofs(settings, store)
    ok &= proofs_ok
    lines += more
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
    settings, _ = load_settings(config_path)
    store = open_store(settings, create_folder=False)  # a typo'd path must not make a new, empty database
    click.echo(f"{store.url}: schema at revision {store.schema_revision()}")
