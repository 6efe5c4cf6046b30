"""The report form's zip: reports/build/bundle.write_bundle run in a fresh process (spawned,
not forked from the server's threads), on the database opened read-only, with checkpoint
signing off (the dashboard writes nothing; the agent's own checkpoints cover the rows).
"""

from __future__ import annotations

import shutil
import tempfile
import zipfile
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from multiprocessing import get_context
from pathlib import Path

from agent.config import Settings
from agent.core.errors import UsageError

MAX_DAYS = 400  # the longest period a report covers (as `slaproof report`)
FORMATS = ("pdf", "html", "csv", "json")


@dataclass(frozen=True, slots=True)
class Request:
    start: datetime
    end: datetime
    targets: tuple[str, ...]
    lang: str
    label: str  # for the file name: 2026-11-01_2026-11-28


def parse_request(settings: Settings, start: str, end: str, targets: list[str], lang: str, now: datetime) -> Request:
    """The form's fields, checked: dates YYYY-MM-DD in the display zone (both inclusive), known targets."""
    tz = settings.display_tz()
    try:
        d0, d1 = date.fromisoformat(start), date.fromisoformat(end)
    except ValueError:
        raise UsageError("from and to must be dates: YYYY-MM-DD") from None
    if d1 < d0:
        raise UsageError(f"to ({d1}) is before from ({d0})")
    if (d1 - d0).days + 1 > MAX_DAYS:
        raise UsageError(f"the period is {(d1 - d0).days + 1} days; a report covers at most {MAX_DAYS}")
    if d0 > now.astimezone(tz).date():
        raise UsageError(f"from ({d0}) is in the future")
    if lang not in ("en", "zh"):
        raise UsageError("lang must be en or zh")
    known = {t.name for t in settings.targets}
    unknown = [n for n in targets if n not in known]
    if unknown:
        raise UsageError(f"unknown target(s): {', '.join(unknown)}")
    a = datetime.combine(d0, time(0), tzinfo=tz).astimezone(UTC)
    b = min(datetime.combine(d1 + timedelta(days=1), time(0), tzinfo=tz).astimezone(UTC), now)
    return Request(a, b, tuple(targets), lang, f"{d0}_{d1}")


def _build(settings: Settings, url: str, req: Request, folder: str) -> str:
    """In the child process: write the bundle, zip it; returns the zip's path."""
    from agent.store.live import open_read_only
    from reports.build.bundle import write_bundle

    agent = settings.agent.model_copy(update={"checkpoints": settings.agent.checkpoints.model_copy(update={"enabled": False})})
    quiet = settings.model_copy(update={"agent": agent})
    store = open_read_only(url)
    out = Path(folder) / f"slaproof-report-{req.label}"
    try:
        write_bundle(quiet, store, req.start, req.end, list(req.targets) or None, list(FORMATS), req.lang, out)
    finally:
        store.close()
    zpath = Path(folder) / f"{out.name}.zip"
    with zipfile.ZipFile(zpath, "w", compression=zipfile.ZIP_DEFLATED) as z:
        for f in sorted(out.rglob("*")):
            if f.is_file():
                z.write(f, f"{out.name}/{f.relative_to(out)}")
    shutil.rmtree(out)
    return str(zpath)


class BundleMaker:
    """One report at a time, in a spawned worker process."""

    def __init__(self, settings: Settings, url: str) -> None:
        self.settings = settings
        self.url = url
        self._pool = ProcessPoolExecutor(max_workers=1, mp_context=get_context("spawn"))

    def build(self, req: Request) -> tuple[Path, Path]:
        """(zip path, its temporary folder: remove it after sending). Blocking: call from a thread."""
        folder = Path(tempfile.mkdtemp(prefix="slaproof-dashboard-"))
        try:
            return Path(self._pool.submit(_build, self.settings, self.url, req, str(folder)).result()), folder
        except BaseException:
            shutil.rmtree(folder, ignore_errors=True)
            raise

    def close(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)


