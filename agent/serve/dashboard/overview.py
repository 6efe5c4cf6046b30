"""The overview's figures, kept warm so a page with a thousand targets renders in milliseconds.

State now and open incidents come from each check's newest rows (agent/store/live.py),
refreshed every few seconds. Availability and coverage for today, 7 and 30 days come from
the report's own analysis (reports/build/summary.analyse: incidents, no data, local time
as the report counts them): closed days are analysed once and kept; today is analysed
again after each refresh interval, spaced so the analysis takes at most a tenth of a core.
Rows imported later for a closed day show after a restart of the dashboard.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, tzinfo
from datetime import time as clock_time

from agent.config import Settings
from agent.core.times import to_us
from agent.live.status import AgentState, TargetNow, read_status
from agent.store import Store
from reports.analysis.timeline import DayFigures
from reports.build.summary import analyse

log = logging.getLogger(__name__)

DAYS = 30
STATE_EVERY_S = 5.0
BUSY_SHARE = 0.1  # the background analysis may use at most this share of one core


@dataclass(frozen=True, slots=True)
class Window:
    availability_pct: float | None
    coverage_pct: float | None  # None: not computed yet


@dataclass(frozen=True, slots=True)
class Row:
    now: TargetNow
    address: str
    provider: str | None
    control: bool
    today: Window
    week: Window
    month: Window


@dataclass(frozen=True, slots=True)
class Overview:
    agent: AgentState
    rows: tuple[Row, ...]
    state_as_of: datetime | None
    figures_as_of: datetime | None
    computing: str | None  # what the background thread is doing, when figures are not ready


def midnight(day: date, tz: tzinfo) -> datetime:
    """The start of a display-zone day, in UTC (as the report's daily figures cut days)."""
    return datetime.combine(day, clock_time(0), tzinfo=tz).astimezone(UTC)


def combine(days: Sequence[DayFigures]) -> Window:
    length = sum(d.length_s for d in days)
    observed = sum(d.observed_s for d in days)
    down = sum(d.downtime_s for d in days)
    if length <= 0:
        return Window(None, None)
    covered = length - sum(d.no_data_s for d in days)
    return Window(100.0 * (observed - down) / observed if observed > 0 else None, 100.0 * covered / length)


class OverviewCache:
    """Background thread; :meth:`overview` only reads what it computed."""

    def __init__(self, settings: Settings, store: Store, *, clock: Callable[[], datetime], refresh_s: float = 60.0) -> None:
        self.settings = settings
        self.store = store
        self.clock = clock
        self.refresh_s = refresh_s
        self.tz = settings.display_tz()
        self._lock = threading.Lock()
        self._closed: dict[str, dict[date, DayFigures]] = {}
        self._today: dict[str, list[DayFigures]] = {}
        self._windows: dict[str, tuple[Window, Window, Window]] = {}
        self._status = read_status(settings, store, to_us(clock()))
        self._state_at: datetime | None = clock()
        self._figures_at: datetime | None = None
        self._doing: str | None = "computing availability of the last 30 days"
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    # -- reading (request path) ------------------------------------------------------
    def overview(self) -> Overview:
        with self._lock:
            status, windows = self._status, self._windows
            state_at, fig_at, doing = self._state_at, self._figures_at, self._doing
        blank = (Window(None, None),) * 3
        rows = tuple(Row(now, t.address, t.provider, t.control, *windows.get(t.name, blank))
                     for t, now in zip(self.settings.targets, status.targets))
        return Overview(status.agent, rows, state_at, fig_at, doing)

    def _combine_windows(self, day0: date) -> dict[str, tuple[Window, Window, Window]]:
        """Today, 7 days and 30 days of each target, from the daily figures (once per refresh, not per request)."""
        week = [day0 - timedelta(days=i) for i in range(1, 7)]
        month = [day0 - timedelta(days=i) for i in range(1, DAYS)]
        out = {}
        for name, td in self._today.items():
            mine = self._closed.get(name, {})
            out[name] = (combine(td), combine(td + [mine[d] for d in week if d in mine]),
                         combine(td + [mine[d] for d in month if d in mine]))
        return out

    # -- the thread ------------------------------------------------------------------
    def start(self) -> None:
        self._thread = threading.Thread(target=self._loop, name="slaproof-overview", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(30)

    def _loop(self) -> None:
        next_figures, earliest, failing = 0.0, 0.0, self._failing()
        while not self._stop.is_set():
            try:
                self.refresh_state()
                now = time.monotonic()
                changed = self._failing() != failing
                # Due, or a target began or stopped failing (within the analysis' share of a core).
                if now >= next_figures or (changed and now >= earliest):
                    failing = self._failing()
                    took = self.refresh_figures()
                    next_figures = time.monotonic() + max(self.refresh_s, took / BUSY_SHARE)
                    earliest = time.monotonic() + took / BUSY_SHARE
            except Exception:  # keep serving what we have; say why in the log
                log.exception("overview refresh failed")
            self._stop.wait(STATE_EVERY_S)

    def _failing(self) -> frozenset[str]:
        with self._lock:
            return frozenset(t.name for t in self._status.targets if t.state in ("down", "partial"))

    def refresh_state(self) -> None:
        status = read_status(self.settings, self.store, to_us(self.clock()))
        with self._lock:
            self._status, self._state_at = status, self.clock()

    def refresh_figures(self) -> float:
        """Analyse the closed days not yet known (all of them at first, one after midnight) and today."""
        started = time.monotonic()
        now = self.clock()
        day0 = now.astimezone(self.tz).date()
        today_start = midnight(day0, self.tz)
        wanted = [day0 - timedelta(days=i) for i in range(DAYS - 1, 0, -1)]
        known = self._closed.get(self.settings.targets[0].name, {}) if self.settings.targets else {}
        missing = [d for d in wanted if d not in known]
        names = [t.name for t in self.settings.targets]
        if missing and names:
            first = midnight(missing[0], self.tz)
            self._set_doing(f"computing availability from {missing[0]} to {missing[-1]}")
            an = analyse(self.settings, self.store, first, today_start, names, workers=1)
            closed = {n: dict(self._closed.get(n, {})) for n in names}
            for n, res in an.results.items():
                for d in res.daily:
                    closed[n][d.day] = d
                for old in [d for d in closed[n] if d not in wanted]:
                    del closed[n][old]
            with self._lock:
                self._closed = closed
        if names and now > today_start:
            an = analyse(self.settings, self.store, today_start, now, names, workers=1)
            today = {n: list(res.daily) for n, res in an.results.items()}
            with self._lock:
                self._today = today
            windows = self._combine_windows(day0)
            with self._lock:
                self._windows = windows
                self._figures_at = now
        self._set_doing(None)
        return time.monotonic() - started

    def _set_doing(self, what: str | None) -> None:
        with self._lock:
            self._doing = what
