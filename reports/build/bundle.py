"""The evidence bundle on disk: summary.json, measurements.csv, report.pdf, report.html and
manifest.json, written with the work spread over processes (CSV writer, renderer) while this
one analyses."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from agent.config import Settings
from agent.core.errors import SlaproofError, UsageError
from agent.core.times import to_us
from agent.proof.bundle import write_proof
from agent.store import Store
from reports.build.rounds import target_checks
from reports.build.summary import Built, ProgressFn, analyse, build_report, select_targets
from reports.render.model import MANIFEST_SCHEMA, Report, TargetSeries
from reports.render.model_json import report_to_json


FORMATS = ("pdf", "html", "csv", "json")


def parse_formats(text: str) -> list[str]:
    fmts = [f.strip().lower() for f in text.split(",") if f.strip()]
    bad = [f for f in fmts if f not in FORMATS]
    if bad or not fmts:
        raise UsageError(f"--format {text!r}: use a comma-separated list of {', '.join(FORMATS)}")
    return fmts


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def write_bundle(settings: Settings, store: Store, start: datetime, end: datetime, names: Sequence[str] | None,
                 formats: Sequence[str], lang: str, out: Path, *, now: datetime | None = None,
                 progress: ProgressFn | None = None) -> dict[str, Any]:
    """Write the report files into ``out``; returns the manifest."""
    now = now or datetime.now(UTC)
    chosen, check_ids = _targets_with_rows(settings, store, start, end, names)
    out.mkdir(parents=True, exist_ok=True)
    # The raw rows are written by a second process while this one analyses and renders.
    csv_job = start_csv(store, check_ids, to_us(start), to_us(end), out / "measurements.csv") if "csv" in formats else None
    visual = [f for f in ("pdf", "html") if f in formats]
    # Charts and documents are drawn by a second process that loads matplotlib and reportlab
    # while this one analyses.
    renderer = Renderer(visual, lang, out, formats) if visual else None
    built = _build(settings, store, start, end, chosen, lang, now, renderer, progress)
    summary = report_to_json(built.report)
    files: list[str] = []
    notes: list[str] = []
    if "json" in formats:
        write_summary(out / "summary.json", summary)
        files.append("summary.json")
    if renderer is not None:
        if progress:
            progress("charts, report.pdf, report.html")
        notes += renderer.render(built.report, built.series)
        files += [f"report.{f}" for f in visual]
    if csv_job is not None:
        if progress:
            progress("measurements.csv")
        finish_csv(csv_job)
        files.insert(1 if "json" in formats else 0, "measurements.csv")
    # The signed checkpoints, timestamps and chain links that let a third party check the rows (agent/proof/bundle.py).
    files += write_proof(settings, store, built.analysis.agent_uuid, check_ids, chosen, to_us(start), to_us(end), out,
                         csv="measurements.csv" if "csv" in formats else None, lang=lang, now_us=to_us(now))
    manifest = _manifest(store, out, files, built, summary, notes, end)
    (out / "manifest.json").write_text(json.dumps(manifest, ensure_ascii=False, indent=2), encoding="utf-8")
    return manifest


def _targets_with_rows(settings: Settings, store: Store, start: datetime, end: datetime,
                       names: Sequence[str] | None) -> tuple[list[str], list[int]]:
    """The chosen targets' names and check ids; a UsageError when none of them has a row in the period."""
    chosen = [t.name for t in select_targets(settings, names)]
    ids = [i for tc in target_checks(store, chosen).values() for i in tc.ids]
    if not store.has_rows(ids, to_us(start), to_us(end)):
        raise UsageError(f"no measurements of {', '.join(chosen)} between {start.isoformat()} and {end.isoformat()}: "
                         "the period is empty (check --from/--to, the time zone, and that the agent was running)")
    return chosen, ids


def _build(settings: Settings, store: Store, start: datetime, end: datetime, names: Sequence[str] | None, lang: str,
           now: datetime, renderer: Renderer | None, progress: ProgressFn | None) -> Built:
    """Analyse and build the report model; a failure stops the renderer process too."""
    try:
        an = analyse(settings, store, start, end, names, progress=progress, charts=renderer is not None)
        return build_report(settings, store, an, lang=lang, now=now, with_series=renderer is not None)
    except BaseException:
        if renderer is not None:
            renderer.cancel()
        raise


def write_summary(path: Path, summary: dict[str, Any]) -> None:
    """summary.json: the report model serialised (reports/render/model_json.report_to_json)."""
    path.write_text(json.dumps(summary, ensure_ascii=False, indent=2), encoding="utf-8")


def _manifest(store: Store, out: Path, files: list[str], built: Built, summary: dict[str, Any], notes: list[str],
              end: datetime) -> dict[str, Any]:
    an = built.analysis
    head_id, head_hash = store.chain_head_before(an.agent_uuid, to_us(end)) if an.agent_uuid else (None, None)
    return {
        "schema": MANIFEST_SCHEMA,
        "files": {f: {"sha256": sha256_file(out / f), "bytes": (out / f).stat().st_size} for f in files},
        "rows_used": an.rows_used,
        "chain_head": {"row_id": head_id, "hash": head_hash, "agent": an.agent_uuid},
        "period": summary["period"],
        "generated_at": summary["generated_at"],
        "notes": sorted(set(notes)),
    }


def bundle_files(formats: Sequence[str]) -> list[str]:
    """The files a bundle of these formats holds, as the report names them (page 1, the evidence checklist)."""
    names = {"pdf": "report.pdf", "html": "report.html", "csv": "measurements.csv", "json": "summary.json"}
    return [names[f] for f in ("pdf", "html", "csv", "json") if f in formats] + ["manifest.json", "proof/"]


def _render(formats: Sequence[str], lang: str, out: Path, report: Report, series: dict[str, TargetSeries],
            all_formats: Sequence[str] | None = None) -> list[str]:
    from reports.render.charts import make_charts
    from reports.render.html import render_html
    from reports.render.pdf import render_pdf

    charts = make_charts(report, series, lang)
    files = bundle_files(all_formats if all_formats is not None else formats)
    notes: list[str] = []
    if "pdf" in formats:
        notes += render_pdf(report, series, out / "report.pdf", lang=lang, charts=charts, files=files)
    if "html" in formats:
        notes += render_html(report, series, out / "report.html", lang=lang, charts=charts, files=files)
    return notes


def _render_child(conn: Any, formats: list[str], lang: str, out: str, all_formats: list[str]) -> None:
    try:
        import reports.render.charts  # noqa: F401 - the point: load these while the parent analyses
        import reports.render.html  # noqa: F401
        from reports.render.fonts import discover_fonts
        from reports.render.pdf import PdfFonts

        PdfFonts(discover_fonts(), False)  # registers the fonts once (reportlab keeps them)
        job = conn.recv()
        if job is None:
            return
        report, series = job
        conn.send(("ok", _render(formats, lang, Path(out), report, series, all_formats)))
    except BaseException as e:  # noqa: BLE001 - reported by the parent
        import traceback

        try:
            conn.send(("error", f"{type(e).__name__}: {e}\n{traceback.format_exc()}"))
        except OSError:
            pass


class Renderer:
    """report.pdf and report.html drawn in a forked process (inline where fork is unavailable)."""

    def __init__(self, formats: Sequence[str], lang: str, out: Path, all_formats: Sequence[str] | None = None) -> None:
        import multiprocessing as mp

        self.formats, self.lang, self.out = list(formats), lang, out
        self.all_formats = list(all_formats if all_formats is not None else formats)
        self.proc: Any = None
        if "fork" in mp.get_all_start_methods():
            self.conn, child = mp.get_context("fork").Pipe()
            self.proc = mp.get_context("fork").Process(target=_render_child,
                                                    args=(child, self.formats, lang, str(out), self.all_formats), daemon=True)
            self.proc.start()
            child.close()

    def render(self, report: Report, series: dict[str, TargetSeries]) -> list[str]:
        if self.proc is None:
            return _render(self.formats, self.lang, self.out, report, series, self.all_formats)
        try:
            self.conn.send((report, series))
            status, value = self.conn.recv()
        except (EOFError, OSError) as e:
            raise SlaproofError(f"the process drawing report.pdf/report.html ended early (exit {self.proc.exitcode}): {e}; "
                                "no manifest was written; the measurements are untouched") from e
        finally:
            self.proc.join(timeout=30)
        if status != "ok":
            import logging

            logging.getLogger(__name__).debug("renderer failure:\n%s", value)
            raise SlaproofError(f"drawing report.pdf/report.html failed: {str(value).splitlines()[0]} "
                                "(SLAPROOF_AGENT__LOG_LEVEL=DEBUG shows where); no manifest was written; the measurements are untouched")
        return list(value)

    def cancel(self) -> None:
        if self.proc is not None and self.proc.is_alive():
            try:
                self.conn.send(None)
            except OSError:
                pass
            self.proc.join(timeout=5)
            if self.proc.is_alive():
                self.proc.kill()


def _csv_child(url: str, check_ids: list[int], a_us: int, b_us: int, path: str) -> None:
    store = Store.open(url, migrate=False)
    try:
        write_measurements_csv(store, check_ids, a_us, b_us, Path(path))
    finally:
        store.close()


def start_csv(store: Store, check_ids: list[int], a_us: int, b_us: int, path: Path) -> Any:
    """Write measurements.csv in a forked process (a second core); inline where fork is unavailable."""
    import multiprocessing as mp

    if "fork" not in mp.get_all_start_methods():
        write_measurements_csv(store, check_ids, a_us, b_us, path)
        return None
    proc = mp.get_context("fork").Process(target=_csv_child, args=(store.raw_url, check_ids, a_us, b_us, str(path)), daemon=True)
    proc.start()
    return proc


def finish_csv(proc: Any) -> None:
    if proc is None:
        return
    proc.join()
    if proc.exitcode != 0:
        raise SlaproofError(f"writing measurements.csv failed (exit {proc.exitcode}); see the messages above; "
                            "no manifest was written; the measurements are untouched")


def write_measurements_csv(store: Store, check_ids: list[int], a_us: int, b_us: int, path: Path) -> int:
    from agent.store.exchange import write_csv_export

    with path.open("w", encoding="utf-8", newline="") as fh:
        return write_csv_export(fh, store, check_ids, a_us, b_us)
