"""The daemon forwards as it measures: `slaproof run` with [agent.upstream] fills the central
database, `slaproof status` shows how far behind it is, `status --fleet` lists the agent, and the
central URL's password shows nowhere."""

from __future__ import annotations

import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, text
from sqlalchemy.pool import NullPool

from tests.support.servers import tcp_listener
from tests.support.wait import wait_until

EXE = [sys.executable, "-m", "agent.cli"]
PASSWORD = "s3cret-fleet-pw"


def _central_rows(url: str) -> int:
    eng = create_engine(url, poolclass=NullPool)
    try:
        with eng.connect() as c:
            if not c.execute(text("SELECT to_regclass('measurements') IS NOT NULL")).scalar_one():
                return 0
            return int(c.execute(text("SELECT count(*) FROM measurements")).scalar_one())
    finally:
        eng.dispose()


def test_the_daemon_forwards_and_status_says_so(config_file: Any, pg_url: str, tmp_path: Path) -> None:
    url = pg_url.replace("postgres@", f"postgres:{PASSWORD}@")  # the test server trusts: the password only has to stay hidden
    with tcp_listener() as tcp:
        cfg = config_file([{"name": "vps", "address": "127.0.0.1", "interval_s": 1, "checks": [{"kind": "tcp", "port": tcp.port}]}],
                          heartbeat_s=2, batch_s=0.2, vantage="office", checkpoints={"enabled": False},
                          upstream={"database_url": url, "interval_s": 0.2})
        agent = subprocess.Popen([*EXE, "run", "-c", str(cfg)], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        try:
            wait_until(lambda: _central_rows(pg_url) >= 3, "rows in the central database", timeout_s=60, poll_s=0.1)
            st = subprocess.run([*EXE, "status", "-c", str(cfg)], capture_output=True, text=True, timeout=60)
            fleet = subprocess.run([*EXE, "status", "-c", str(cfg), "--fleet"], capture_output=True, text=True, timeout=60)
        finally:
            agent.send_signal(signal.SIGTERM)
            _, err = agent.communicate(timeout=60)
    assert agent.returncode == 0, err
    assert st.returncode == 0 and "forwarding: " in st.stdout, st.stderr
    assert fleet.returncode == 0, fleet.stderr
    assert fleet.stdout.splitlines()[1].startswith("office ") and "synced" in fleet.stdout.splitlines()[1].lower()
    for out in (st.stdout, st.stderr, fleet.stdout, fleet.stderr, err):
        assert PASSWORD not in out
