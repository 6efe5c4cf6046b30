"""The dashboard's ASGI application (Starlette; served by uvicorn): GET pages rendered on the
server from Jinja2 templates with autoescaping (every name, URL and response text escaped),
no script, a strict Content-Security-Policy, nothing that writes (GET and HEAD only; the
database is opened read-only), a token (HTTP Basic password or Bearer) when bound beyond
loopback.
"""

from __future__ import annotations

import asyncio
import base64
import hmac
import logging
import shutil
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader
from starlette.applications import Starlette
from starlette.background import BackgroundTask
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import FileResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.templating import Jinja2Templates
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from agent.config import Settings
from agent.core.errors import UsageError
from agent.core.times import from_us, to_us, utcnow
from agent.live.loglines import duration_text
from agent.serve.dashboard.bundle import MAX_DAYS, BundleMaker, parse_request
from agent.serve.dashboard.overview import OverviewCache
from agent.serve.dashboard.target import RANGES, TargetPage, target_page
from agent.store import Store

log = logging.getLogger(__name__)

HERE = Path(__file__).parent
PAGE_CACHE_S = 30.0
HEADERS = [
    (b"content-security-policy", b"default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; "
                                 b"frame-ancestors 'none'; base-uri 'none'"),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
    (b"x-frame-options", b"DENY"),
]
AGENT_WORDS = {"running": "running", "stopped": "stopped cleanly", "dead": "DEAD", "never": "not run yet"}


class Guard:
    """ASGI middleware: security headers on every answer; a token when one is set; GET and HEAD only."""

    def __init__(self, app: ASGIApp, token: str | None) -> None:
        self.app = app
        self.token = token

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if scope["method"] not in ("GET", "HEAD"):
            await Response("read-only: GET and HEAD only\n", 405, headers={"Allow": "GET, HEAD"})(scope, receive, self._headers(send))
            return
        if self.token is not None and not self._allowed(scope):
            await Response("a token is needed (the password of HTTP Basic, any user; or Authorization: Bearer)\n", 401,
                           headers={"WWW-Authenticate": 'Basic realm="slaproof", charset="UTF-8"'})(scope, receive, self._headers(send))
            return
        await self.app(scope, receive, self._headers(send))

    def _allowed(self, scope: Scope) -> bool:
        auth = dict(scope["headers"]).get(b"authorization", b"").decode("latin-1")
        scheme, _, value = auth.partition(" ")
        given = ""
        if scheme.lower() == "bearer":
            given = value.strip()
        elif scheme.lower() == "basic":
            try:
                given = base64.b64decode(value.strip()).decode("utf-8").partition(":")[2]
            except (ValueError, UnicodeDecodeError):
                return False
        assert self.token is not None
        return bool(given) and hmac.compare_digest(given.encode(), self.token.encode())

    @staticmethod
    def _headers(send: Send) -> Callable[[Message], Awaitable[None]]:
        async def wrapped(message: Message) -> None:
            if message["type"] == "http.response.start":
                message.setdefault("headers", [])
                message["headers"] = list(message["headers"]) + HEADERS
            await send(message)

        return wrapped


class Dashboard:
    """State shared by the handlers: settings, the read-only store, the overview cache, page caches."""

    def __init__(self, settings: Settings, store: Store, url: str, *, clock: Callable[[], datetime] = utcnow,
                 refresh_s: float = 60.0) -> None:
        self.settings = settings
        self.store = store
        self.clock = clock
        self.tz = settings.display_tz()
        self.overview = OverviewCache(settings, store, clock=clock, refresh_s=refresh_s)
        self.bundles = BundleMaker(settings, url)
        self.building = asyncio.Lock()
        self._pages: dict[tuple[str, str], tuple[float, TargetPage]] = {}
        env = Environment(loader=FileSystemLoader(str(HERE / "templates")), autoescape=True)
        self.templates = Jinja2Templates(env=env)
        env.globals.update(t=self._t, dt=self._dt, ago=self._ago, pct=_pct, ms=_ms, dur=duration_text, zone=str(self.tz),
                           static_url="static/dashboard.css", ranges=list(RANGES))

    # -- formatting helpers for the templates --------------------------------------------
    def _t(self, us: int) -> str:
        return self._dt(from_us(us))

    def _dt(self, moment: datetime | None) -> str:
        return "—" if moment is None else f"{moment.astimezone(self.tz):%Y-%m-%d %H:%M:%S}"

    def _ago(self, us: int) -> str:
        return duration_text(max(0, to_us(self.clock()) - us) / 1e6)

    # -- handlers ----------------------------------------------------------------------
    async def home(self, request: Request) -> Response:
        ov = self.overview.overview()
        states = [r.now.state for r in ov.rows]
        return self._page(request, "overview.html", {
            "ov": ov, "agent_word": AGENT_WORDS[ov.agent.state], "down": states.count("down"), "partial": states.count("partial"),
            "open": sum(1 for r in ov.rows if r.now.incident)}, headers={"Cache-Control": "no-store"})

    async def target(self, request: Request) -> Response:
        name = request.query_params.get("name", "")
        rng = request.query_params.get("range", "24h")
        if rng not in RANGES:
            return self._error(request, 400, f"range must be one of {', '.join(RANGES)}")
        try:
            t = self.settings.target(name)
        except KeyError:
            return self._error(request, 404, f"no target named {name!r} in the configuration")
        key = (name, rng)
        hit = self._pages.get(key)
        if hit is None or time.monotonic() - hit[0] > PAGE_CACHE_S:
            page = await run_in_threadpool(target_page, self.settings, self.store, t, rng, self.clock())
            self._pages[key] = hit = (time.monotonic(), page)
        return self._page(request, "target.html", {"p": hit[1]}, headers={"Cache-Control": "no-store"})

    async def report_form(self, request: Request, error: str | None = None, status: int = 200) -> Response:
        today = self.clock().astimezone(self.tz).date()
        return self._page(request, "report.html", {
            "targets": self.settings.targets, "start": today.replace(day=1).isoformat(), "end": today.isoformat(),
            "max_days": MAX_DAYS, "error": error}, status_code=status)

    async def report_zip(self, request: Request) -> Response:
        q = request.query_params
        try:
            req = parse_request(self.settings, q.get("from", ""), q.get("to", ""), q.getlist("target"), q.get("lang", "en"), self.clock())
        except UsageError as e:
            return await self.report_form(request, str(e), 400)
        if self.building.locked():
            return await self.report_form(request, "a report is being built; try again when it is done", 429)
        async with self.building:
            try:
                zpath, folder = await run_in_threadpool(self.bundles.build, req)
            except UsageError as e:
                return await self.report_form(request, str(e), 400)
        return FileResponse(zpath, media_type="application/zip", filename=zpath.name,
                            background=BackgroundTask(shutil.rmtree, folder, True))

    def _page(self, request: Request, name: str, context: dict[str, Any], status_code: int = 200,
              headers: dict[str, str] | None = None) -> Response:
        resp: Response = self.templates.TemplateResponse(request, name, context, status_code=status_code, headers=headers)
        return resp

    def _error(self, request: Request, code: int, message: str) -> Response:
        return self._page(request, "error.html", {"code": code, "message": message}, status_code=code)

    # -- lifecycle ---------------------------------------------------------------------
    def start(self) -> None:
        self.overview.start()

    def stop(self) -> None:
        self.overview.stop()
        self.bundles.close()


def make_app(d: Dashboard, token: str | None) -> Any:
    routes = [
        Route("/", d.home, methods=["GET", "HEAD"]),
        Route("/target", d.target, methods=["GET", "HEAD"]),
        Route("/report", d.report_form, methods=["GET", "HEAD"]),
        Route("/report.zip", d.report_zip, methods=["GET", "HEAD"]),
        Mount("/static", app=StaticFiles(directory=str(HERE / "static")), name="static"),
    ]
    @asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[None]:
        d.start()
        try:
            yield
        finally:
            d.stop()

    return Guard(Starlette(routes=routes, lifespan=lifespan), token)


def _ms(v: float | None) -> str:
    return "—" if v is None else f"{v:.3f} ms" if v < 10 else f"{v:.1f} ms"


def _pct(v: float | None, places: int = 3) -> str:
    """Truncated, never rounded up (99.9996 % must not read 100 %)."""
    if v is None:
        return "—"
    f = 10**places
    return f"{int(v * f) / f:.{places}f} %"


