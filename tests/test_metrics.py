"""/metrics scraped by a real Prometheus (Debian's `prometheus`, started here on loopback)."""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
import sys
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from tests.support.servers import closed_port, tcp_listener
from tests.support.wait import wait_until

EXE = [sys.executable, "-m", "agent.cli"]
PROMETHEUS = shutil.which("prometheus")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _get(url: str) -> str:
    with urllib.request.urlopen(url, timeout=5) as r:
        return r.read().decode()


def _query(port: int, q: str) -> list[dict[str, Any]]:
    try:
        body = json.loads(_get(f"http://127.0.0.1:{port}/api/v1/query?" + urllib.parse.urlencode({"query": q})))
    except OSError:
        return []
    result: list[dict[str, Any]] = body["data"]["result"]
    return result


@pytest.mark.skipif(PROMETHEUS is None, reason="Debian's prometheus is not installed (scripts/setup.sh installs it for tests)")
def test_prometheus_scrapes_up_of_each_target(config_file: Any, tmp_path: Path) -> None:
    mport, pport = free_port(), free_port()
    with tcp_listener() as tcp:
        cfg = config_file([{"name": "up-one", "address": "127.0.0.1", "interval_s": 1, "checks": [{"kind": "tcp", "port": tcp.port}]},
                           {"name": "down-one", "address": "127.0.0.1", "interval_s": 1,
                            "checks": [{"kind": "tcp", "port": closed_port(), "timeout_s": 0.5}]}],
                          checkpoints={"enabled": False}, metrics={"enabled": True, "listen": f"127.0.0.1:{mport}"})
        (tmp_path / "prometheus.yml").write_text(
            "global: {scrape_interval: 1s, evaluation_interval: 1s}\n"
            f"scrape_configs:\n  - job_name: slaproof\n    static_configs: [{{targets: ['127.0.0.1:{mport}']}}]\n")
        agent = subprocess.Popen([*EXE, "run", "-c", str(cfg)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        prom = subprocess.Popen([str(PROMETHEUS), f"--config.file={tmp_path / 'prometheus.yml'}",
                                 f"--storage.tsdb.path={tmp_path / 'tsdb'}", f"--web.listen-address=127.0.0.1:{pport}"],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            wait_until(lambda: _query(pport, 'slaproof_up{target="down-one"}'), "Prometheus to have scraped the agent", timeout_s=60)
            wait_until(lambda: _query(pport, 'slaproof_incident_open{target="down-one"} == 1'), "the incident in Prometheus", timeout_s=30)
            up = _query(pport, 'slaproof_up{target="up-one"}')
            down = _query(pport, 'slaproof_up{target="down-one"}')
            rtt = _query(pport, 'slaproof_rtt_seconds_count{target="up-one"}')
            health = _query(pport, "slaproof_rows_written")
            text = _get(f"http://127.0.0.1:{mport}/metrics")
        finally:
            for p in (prom, agent):
                p.terminate()
                p.wait(30)
    assert [(r["metric"]["check"], r["value"][1]) for r in up] == [("tcp", "1")]
    assert [(r["metric"]["check"], r["value"][1]) for r in down] == [("tcp", "0")]
    assert float(rtt[0]["value"][1]) >= 1 and float(health[0]["value"][1]) >= 1
    assert "slaproof_writer_queue_rows" in text and "slaproof_schedule_lag_seconds_bucket" in text and "_created" not in text
