"""`slaproof serve --dashboard`: parse, check, start uvicorn (the work lives in agent/serve/dashboard)."""

from __future__ import annotations

import ipaddress
import logging
from collections.abc import Callable
from typing import Any

import click

from agent.cli.common import load_settings
from agent.core.errors import UsageError

DEFAULT_LISTEN = "127.0.0.1:8090"

dashboard_options = [
    click.option("--dashboard", is_flag=True, help="serve the read-only web dashboard (docs/dashboard.md)"),
    click.option("--config", "-c", "config_path", metavar="PATH", envvar="SLAPROOF_CONFIG",
                 help="the agent's configuration (--dashboard; default $SLAPROOF_CONFIG, then /etc/slaproof/config.toml)"),
    click.option("--dashboard-listen", default=DEFAULT_LISTEN, show_default=True, help="ADDR:PORT of the dashboard"),
    click.option("--dashboard-token", envvar="SLAPROOF_DASHBOARD_TOKEN", default=None,
                 help="password of the dashboard (HTTP Basic, any user; or Bearer); needed beyond loopback "
                      "(or $SLAPROOF_DASHBOARD_TOKEN)"),
]


def with_dashboard_options(f: Callable[..., Any]) -> Callable[..., Any]:
    for opt in reversed(dashboard_options):
        f = opt(f)
    return f


def split_listen(listen: str) -> tuple[str, int]:
    host, sep, port = listen.rpartition(":")
    if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise UsageError(f"--dashboard-listen {listen!r}: give ADDR:PORT, e.g. {DEFAULT_LISTEN}")
    return host.strip("[]"), int(port)


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def serve_dashboard(config_path: str | None, listen: str, token: str | None) -> None:
    """Check everything, then run uvicorn until interrupted."""
    import uvicorn

    from agent.serve.dashboard.app import Dashboard, make_app
    from agent.store.live import open_read_only

    settings, _ = load_settings(config_path)
    host, port = split_listen(listen)
    if token is not None and not token.strip():
        raise UsageError("the dashboard token is empty: set SLAPROOF_DASHBOARD_TOKEN (or --dashboard-token) to a long random string")
    if not is_loopback(host) and not token:
        raise UsageError(f"--dashboard-listen {listen} is reachable beyond this machine: set SLAPROOF_DASHBOARD_TOKEN "
                         "(or --dashboard-token) to a long random string, or listen on 127.0.0.1")
    from agent.live import text

    if token:
        text.register([token])
    url = settings.database_url()
    store = open_read_only(url)
    d = Dashboard(settings, store, url)
    click.echo(f"dashboard on http://{listen}/ (read-only{', token required' if token else ''}); Ctrl-C stops it", err=True)
    try:
        uvicorn.run(make_app(d, token), host=host, port=port, log_level=logging.getLevelName(logging.WARNING).lower(),
                    access_log=False, server_header=False, date_header=True)
    finally:
        store.close()
