"""One alert destination: an apprise URL, its masked name, and a send that says why it failed.

apprise does the talking (mail, webhooks, Telegram, DingTalk, WeCom, Slack, ntfy, … one
dependency for ~100 kinds); it answers a send with True/False and logs the reason. The
reason is caught per thread (a delivery runs in a worker thread), masked, and kept for
the alert log.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass

from agent.config import AlertRoute, apprise_secret_parts
from agent.core.errors import ConfigError
from agent.live import text

_local = threading.local()


class _ThreadCapture(logging.Handler):
    """apprise's WARNING/ERROR records, kept for the thread that is sending."""

    def emit(self, record: logging.LogRecord) -> None:
        sink = getattr(_local, "lines", None)
        if sink is not None:
            sink.append(record.getMessage())


_capture = _ThreadCapture(level=logging.WARNING)
_installed = False
_install_lock = threading.Lock()


def _install() -> None:
    global _installed
    with _install_lock:
        if not _installed:
            logging.getLogger("apprise").addHandler(_capture)
            _installed = True


@dataclass(frozen=True, slots=True)
class SendOutcome:
    ok: bool
    error: str | None


class Route:
    """A configured destination, ready to send (built once at start; the URL stays in here)."""

    def __init__(self, index: int, cfg: AlertRoute) -> None:
        import apprise

        url = cfg.resolve_url()
        plugin = apprise.Apprise.instantiate(url, suppress_exceptions=True)
        if plugin is None:
            raise ConfigError(f"agent.alerts[{index}]: apprise cannot use this URL (checked at load; has the file or variable changed?)")
        private = str(plugin.url(privacy=True))  # type: ignore[no-untyped-call]  # apprise's url() has no annotations
        text.register(apprise_secret_parts(url))
        self.index = index
        self.cfg = cfg
        self.events = frozenset(cfg.events)
        self.language = cfg.language
        self.name = cfg.name or text.mask(private.split("?", 1)[0])
        self._apprise = apprise.Apprise()
        self._apprise.add(plugin)
        self._format = apprise.NotifyFormat.TEXT
        _install()

    def send(self, title: str, body: str) -> SendOutcome:
        """One attempt (blocking: call it from a worker thread)."""
        _local.lines = []
        try:
            ok = bool(self._apprise.notify(body=body, title=title, body_format=self._format))
        except Exception as e:  # a plugin bug must be a failed attempt, not a dead sender
            return SendOutcome(False, text.one_line(f"{type(e).__name__}: {e}"))
        finally:
            lines, _local.lines = _local.lines, None
        if ok:
            return SendOutcome(True, None)
        return SendOutcome(False, text.one_line("; ".join(lines[-3:]) or "the receiver refused or could not be reached"))
