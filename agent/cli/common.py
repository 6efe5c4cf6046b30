"""What every command shares: the group, the --config option, loading settings and the store.

Errors from below arrive as SlaproofError subclasses and are printed as one
actionable message with their exit code (2 for bad input), never a traceback.
"""

from __future__ import annotations

import logging
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from agent.config import Settings, load_config
from agent.core.errors import SlaproofError
from agent.core.secrets import mask_text
from agent.version import VERSION

if TYPE_CHECKING:
    from agent.store import Store

log = logging.getLogger("slaproof")


class Cli(click.Group):
    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except SlaproofError as e:
            click.echo(f"slaproof: error: {mask_text(str(e))}", err=True)
            ctx.exit(e.exit_code)


class MaskingFormatter(logging.Formatter):
    """Every log line, traceback included, passes through the secret masks (agent/core/secrets.py)."""

    def format(self, record: logging.LogRecord) -> str:
        return mask_text(super().format(record))


LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


def setup_logging(level: str) -> None:
    logging.basicConfig(level=getattr(logging, level), format=LOG_FORMAT, stream=sys.stderr)
    for handler in logging.getLogger().handlers:
        handler.setFormatter(MaskingFormatter(LOG_FORMAT))
    if level != "DEBUG":  # their INFO lines are per-job noise in the journal
        for noisy in ("apscheduler", "alembic", "httpx", "httpcore"):
            logging.getLogger(noisy).setLevel(logging.WARNING)


config_option = click.option("--config", "-c", "config_path", metavar="PATH", envvar="SLAPROOF_CONFIG",
                             help="configuration file (default $SLAPROOF_CONFIG, then /etc/slaproof/config.toml)")


def load_settings(config_path: str | None) -> tuple[Settings, Path]:
    settings, path = load_config(config_path)
    setup_logging(settings.agent.log_level)
    return settings, path


def open_store(settings: Settings, *, create_folder: bool = True) -> Store:
    from agent.store import Store

    return Store.open(settings.database_url(), create_folder=create_folder)


@click.group(cls=Cli, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(VERSION, prog_name="slaproof")
def main() -> None:
    """slaproof: collect evidence of outages, loss, latency and bandwidth, and report it."""
