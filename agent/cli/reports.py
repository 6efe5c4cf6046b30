"""`slaproof report`, `slaproof sla`, `slaproof letter`: parse, call reports/build/bundle.py and reports/build/summary.py, print."""

from __future__ import annotations

import json
import os
import shutil
import sys
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import click

from agent.cli.common import config_option, load_settings, main, open_store
from agent.cli.dates import parse_period
from agent.config import Settings, Target
from agent.core.errors import SlaproofError, UsageError


def _progress(enabled: bool):  # type: ignore[no-untyped-def]
    """A one-line progress display on a terminal; silent otherwise."""
    if not enabled:
        return None

    def show(step: str) -> None:
        click.echo(f"\r\033[K  … {step}", nl=False, err=True)

    return show


@contextmanager
def staged(out: Path) -> Iterator[Path]:
    """Write a bundle into a hidden folder beside ``out`` and move its files in only when all were
    written: a failure (a bad period, a full disk, an interrupt) leaves ``out`` as it was."""
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.partial-", dir=out.parent))
    except OSError as e:
        raise UsageError(f"--out {out}: cannot write there: {e.strerror}") from None
    try:
        try:
            yield tmp
        except OSError as e:
            raise SlaproofError(f"writing the report into {out} failed: {e.strerror or e}; nothing was written") from None
        try:
            out.mkdir(exist_ok=True)
            for item in sorted(tmp.iterdir(), key=lambda p: p.name == "manifest.json"):  # the manifest last
                dest = out / item.name
                if item.is_dir() and dest.is_dir():
                    shutil.rmtree(dest)  # an earlier bundle's folder of the same name (proof/): replaced whole
                os.replace(item, dest)
        except OSError as e:
            raise SlaproofError(f"moving the report into {out} failed: {e.strerror or e}") from None
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


@main.command()
@config_option
@click.option("--from", "start", required=True, help="YYYY-MM-DD (display zone) or ISO 8601 time")
@click.option("--to", "stop", required=True, help="YYYY-MM-DD (inclusive) or ISO 8601 time")
@click.option("--target", "targets", multiple=True, help="only this target (repeatable); default all")
@click.option("--format", "fmt", default="pdf,html,csv,json", show_default=True, help="comma-separated: pdf, html, csv, json")
@click.option("--lang", type=click.Choice(["en", "zh"]), default="en", show_default=True)
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), default=Path("slaproof-report"), show_default=True)
def report(config_path: str | None, start: str, stop: str, targets: tuple[str, ...], fmt: str, lang: str, out: Path) -> None:
    """Write the evidence report of a period into a folder (report.pdf, report.html, measurements.csv, summary.json, manifest.json)."""
    from reports.build.bundle import parse_formats, write_bundle

    settings, _ = load_settings(config_path)
    formats = parse_formats(fmt)
    a, b = parse_period(start, stop, settings.display_tz())
    store = open_store(settings)
    with staged(out) as tmp:
        manifest = write_bundle(settings, store, a, b, list(targets) or None, formats, lang, tmp,
                                progress=_progress(sys.stderr.isatty()))
    if sys.stderr.isatty():
        click.echo("\r\033[K", nl=False, err=True)
    for name, info in manifest["files"].items():
        click.echo(f"{out / name}  sha256 {info['sha256']}")
    click.echo(f"{out / 'manifest.json'}  ({manifest['rows_used']} rows; chain head row {manifest['chain_head']['row_id']})")
    for note in manifest.get("notes", []):
        click.echo(f"note: {note}", err=True)


def _sla_targets(settings: Settings, names: Sequence[str] | None) -> list[Target]:
    from reports.build.summary import select_targets

    chosen = [t for t in select_targets(settings, names) if t.sla]
    if not chosen:
        raise UsageError("no chosen target has an sla section; add e.g. sla = { preset = \"generic-99.9\" } to a [[targets]] "
                         "(slaproof sla --list-presets shows the presets)")
    return chosen


@main.command()
@config_option
@click.option("--month", default=None, help="YYYY-MM, in the SLA's own time zone and period rule")
@click.option("--from", "start", default=None, help="YYYY-MM-DD or ISO 8601 (with --to), instead of --month")
@click.option("--to", "stop", default=None)
@click.option("--target", "targets", multiple=True, help="only this target (repeatable); default all with an sla section")
@click.option("--json", "as_json", is_flag=True, help="print the documented JSON object (docs/report-schema.md)")
@click.option("--lang", type=click.Choice(["en", "zh"]), default="en", show_default=True)
@click.option("--list-presets", is_flag=True, help="list the provider presets and exit")
def sla(config_path: str | None, month: str | None, start: str | None, stop: str | None, targets: tuple[str, ...],
        as_json: bool, lang: str, list_presets: bool) -> None:
    """Check measured service against the advertised SLA, counted by the provider's rules; credit owed and claim deadline."""
    from reports.presets import list_presets as presets
    from reports.presets import load_preset

    if list_presets:
        from reports.render.sla_text import format_preset_list

        click.echo(format_preset_list([load_preset(pid) for pid in presets()], lang), nl=False)
        return
    from reports.build.summary import sla_result

    settings, _ = load_settings(config_path)
    if bool(month) == bool(start or stop) or (start is None) != (stop is None):
        raise UsageError("give either --month YYYY-MM or both --from and --to")
    store = open_store(settings)
    now = datetime.now(UTC)
    out = []
    for t in _sla_targets(settings, list(targets) or None):
        a, b = _sla_period(settings, t, month, start, stop)
        out.append(sla_result(settings, store, t, a, b, now))
    if as_json:
        click.echo(json.dumps([r.to_json() for r in out], ensure_ascii=False, indent=2, default=str))
    else:
        from reports.render.sla_text import format_text

        click.echo("\n\n".join(format_text(r, lang) for r in out))


def _sla_period(settings: Settings, t: Target, month: str | None, start: str | None, stop: str | None) -> tuple[datetime, datetime]:
    if month:
        from agent.cli.dates import parse_month
        from reports.analysis.sla import period_bounds
        from reports.presets import resolve

        parse_month(month, settings.display_tz())  # validates the text with our message
        return period_bounds(resolve(dict(t.sla or {})), month)
    if start is None or stop is None:
        raise UsageError("give either --month YYYY-MM or both --from and --to")
    return parse_period(start, stop, settings.display_tz())


@main.command()
@config_option
@click.option("--month", required=True, help="YYYY-MM")
@click.option("--target", required=True, help="the target the complaint is about")
@click.option("--lang", type=click.Choice(["en", "zh"]), default="en", show_default=True)
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="folder for the letter and its evidence bundle (default slaproof-letter-TARGET-MONTH)")
@click.option("--reply-days", type=int, default=14, show_default=True, help="days the provider is given to reply")
def letter(config_path: str | None, month: str, target: str, lang: str, out: Path | None, reply_days: int) -> None:
    """Draft a factual complaint letter, with the report bundle it cites as attachments."""
    from reports.build.bundle import sha256_file, write_bundle
    from reports.build.summary import today_in
    from reports.render.letter import draft_letter
    from reports.render.model_json import report_from_json

    settings, _ = load_settings(config_path)
    t = _sla_targets(settings, [target])[0]
    a, b = _sla_period(settings, t, month, None, None)
    out = out or Path(f"slaproof-letter-{target}-{month}")
    store = open_store(settings)
    now = datetime.now(UTC)
    with staged(out) as tmp:
        manifest = write_bundle(settings, store, a, b, [target], ["pdf", "html", "csv", "json"], lang, tmp, now=now)
    # The letter states what the report holds: it is drafted from the bundle's own summary.json.
    report = report_from_json(json.loads((out / "summary.json").read_text(encoding="utf-8")))
    attachments = [(name, info["sha256"]) for name, info in manifest["files"].items()]
    attachments.append(("manifest.json", sha256_file(out / "manifest.json")))
    c = settings.agent.customer
    text = draft_letter(report, target,
                        customer={"name": c.name, "account_id": c.account_id, "contract_id": c.contract_id, "email": c.email, "phone": c.phone},
                        service={"provider": t.provider, "name": t.service_name, "service_id": t.service_id, "address": t.address},
                        attachments=attachments, lang=lang, today=today_in(settings.display_tz(), now), reply_days=reply_days)
    path = out / f"letter-{lang}.md"
    path.write_text(text, encoding="utf-8")
    click.echo(f"{path}\n(evidence bundle in {out}; review the letter and fill the [placeholders] before sending)")
