"""Shared fixtures: temporary configs, SQLite and PostgreSQL stores."""

from __future__ import annotations

import fcntl
import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.pool import NullPool

from tests.support.pg import postgres_server, why_no_postgres

os.environ.setdefault("MPLBACKEND", "Agg")


def toml_value(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (int, float)):
        return repr(v)
    if isinstance(v, str):
        return '"' + v.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(v, list):
        return "[" + ", ".join(toml_value(x) for x in v) + "]"
    if isinstance(v, dict):
        return "{" + ", ".join(f"{k} = {toml_value(x)}" for k, x in v.items()) + "}"
    raise TypeError(v)


def make_config(path: Path, targets: list[dict[str, Any]], **agent: Any) -> Path:
    """Write a config file: agent keys as given, state_dir beside the file by default."""
    agent.setdefault("state_dir", str(path.parent / "state"))
    agent.setdefault("timezone", "UTC")
    lines = ["[agent]"] + [f"{k} = {toml_value(v)}" for k, v in agent.items() if not isinstance(v, dict)]
    for k, v in agent.items():
        if isinstance(v, dict):
            lines.append(f"[agent.{k}]")
            lines += [f"{kk} = {toml_value(vv)}" for kk, vv in v.items()]
    for t in targets:
        lines.append("[[targets]]")
        for k, v in t.items():
            if k != "checks":
                lines.append(f"{k} = {toml_value(v)}")
        for c in t.get("checks", []):
            lines.append("[[targets.checks]]")
            lines += [f"{k} = {toml_value(v)}" for k, v in c.items()]
    path.write_text("\n".join(lines) + "\n")
    return path


@pytest.fixture
def config_file(tmp_path: Path):  # type: ignore[no-untyped-def]
    def write(targets: list[dict[str, Any]], **agent: Any) -> Path:
        return make_config(tmp_path / "config.toml", targets, **agent)

    return write


@pytest.fixture(autouse=True)
def _close_stores(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Every Store a test opens is closed when it ends, before its database is dropped.

    Why: a PostgreSQL test database is dropped WITH (FORCE) at teardown, which kills
    pooled connections a test left open; their objects would then warn (ResourceWarning,
    an error here) in whichever test runs next, far from the cause.
    """
    from agent.store import Store

    opened: list[Store] = []
    real_init = Store.__init__

    def init(self: Store, *args: Any, **kwargs: Any) -> None:
        real_init(self, *args, **kwargs)
        opened.append(self)

    monkeypatch.setattr(Store, "__init__", init)
    yield
    for store in opened:
        store.close()


@pytest.fixture(autouse=True)
def _one_root_test_at_a_time(request: pytest.FixtureRequest) -> Iterator[None]:
    """Tests marked ``root`` take a machine-wide lock while they run.

    Why: they use fixed test subnets, namespace names and raw sockets; two test
    processes on one machine (two checkouts tested at once) would otherwise take
    each other's /30 or see each other's ICMP. In a single run it costs nothing.
    """
    if request.node.get_closest_marker("root") is None:
        yield
        return
    if os.geteuid() != 0:
        pytest.skip("needs root (network namespaces, raw sockets, tc, cgroups or systemd)")
    with open("/tmp/slaproof-root-tests.lock", "a+") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


@pytest.fixture(scope="session")
def pg_server() -> Iterator[str]:
    reason = why_no_postgres()
    if reason:
        pytest.skip(reason)
    with postgres_server() as url:
        yield url


@pytest.fixture
def pg_url(pg_server: str) -> Iterator[str]:
    """A fresh, empty database on the session's server."""
    name = "t_" + uuid.uuid4().hex[:12]
    admin = create_engine(pg_server, isolation_level="AUTOCOMMIT", poolclass=NullPool)  # no pooled connection outlives the test
    with admin.connect() as c:
        c.execute(text(f"CREATE DATABASE {name}"))
    yield pg_server.rsplit("/", 1)[0] + "/" + name
    with admin.connect() as c:
        c.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
    admin.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'store.db'}"
    return str(request.getfixturevalue("pg_url"))
