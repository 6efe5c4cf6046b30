"""`slaproof status` tells the truth: running, stopped cleanly, or dead since the last heartbeat."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

from agent.live.status import agent_state
from agent.store.live import RunRow
from tests.support.servers import closed_port, tcp_listener
from tests.support.wait import wait_until

EXE = [sys.executable, "-m", "agent.cli"]
S = 1_000_000


def _status(cfg: Path) -> dict[str, Any]:
    p = subprocess.run([*EXE, "status", "-c", str(cfg), "--json"], capture_output=True, text=True, timeout=60)
    assert p.returncode == 0, p.stderr
    out: dict[str, Any] = json.loads(p.stdout)
    return out


def _run(last_seen_s: float, stop: str | None = None) -> RunRow:
    return RunRow(1, "u", 0, int(last_seen_s * S), None, stop, "elsewhere", 4242, None)


def test_agent_state_rules() -> None:
    now = 1000 * S
    assert agent_state(None, now, 10, 1).state == "never"
    assert agent_state(_run(995), now, 10, 1, lambda r: True).state == "running"
    assert agent_state(_run(995), now, 10, 1, lambda r: None).state == "running"  # another host: the heartbeat decides
    dead = agent_state(_run(995), now, 10, 1, lambda r: False)  # pid gone: dead at once, since the last heartbeat
    assert (dead.state, dead.since_us) == ("dead", 995 * S) and "gone" in dead.reason
    hung = agent_state(_run(978), now, 10, 1, lambda r: True)  # alive but silent for more than two heartbeats
    assert hung.state == "dead" and "hung" in hung.reason
    assert agent_state(_run(980), now, 10, 1, lambda r: None).state == "running"
    assert agent_state(_run(978), now, 10, 1, lambda r: None).state == "dead"
    assert agent_state(_run(500, "clean"), now, 10, 1).state == "stopped"
    assert agent_state(_run(500, "unclean"), now, 10, 1).state == "dead"


def test_status_after_sigkill_says_dead_within_one_heartbeat(config_file: Any) -> None:
    with tcp_listener() as tcp:
        cfg = config_file([{"name": "up-one", "address": "127.0.0.1", "interval_s": 1, "checks": [{"kind": "tcp", "port": tcp.port}]},
                           {"name": "down-one", "address": "127.0.0.1", "interval_s": 1,
                            "checks": [{"kind": "tcp", "port": closed_port(), "timeout_s": 0.5}]}],
                          heartbeat_s=3, batch_s=0.2, checkpoints={"enabled": False})
        agent = subprocess.Popen([*EXE, "run", "-c", str(cfg)], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        try:
            wait_until(lambda: _status(cfg)["targets"][1]["incident"] == "outage", "an open incident on down-one", timeout_s=40)
            st = _status(cfg)
            assert st["agent"]["state"] == "running", st["agent"]
            up, down = st["targets"]
            assert up["state"] == "up" and up["incident"] is None
            assert down["state"] == "down" and down["failing_since_us"] is not None
            agent.send_signal(signal.SIGKILL)
            agent.wait(10)
            st = _status(cfg)
        finally:
            if agent.poll() is None:
                agent.kill()
                agent.wait(10)
            assert agent.stderr is not None
            agent.stderr.close()
    # Dead because the process is gone, not because the heartbeat went stale: so at once, whatever
    # the heartbeat interval; dead since the run's last recorded heartbeat.
    assert st["agent"]["state"] == "dead" and "is gone" in st["agent"]["reason"], st["agent"]
    assert st["agent"]["since_us"] == st["agent"]["run"]["last_seen_us"]
    text = subprocess.run([*EXE, "status", "-c", str(cfg)], capture_output=True, text=True, timeout=60).stdout
    assert text.startswith("agent: DEAD since ") and "target states below are as of their last check" in text
    assert "outage since" in text.splitlines()[3]


def test_status_after_a_clean_stop(config_file: Any) -> None:
    with tcp_listener() as tcp:
        cfg = config_file([{"name": "one", "address": "127.0.0.1", "interval_s": 1, "checks": [{"kind": "tcp", "port": tcp.port}]}],
                          heartbeat_s=2, batch_s=0.2, checkpoints={"enabled": False})
        r = subprocess.run([*EXE, "run", "-c", str(cfg), "--duration", "2.5"], capture_output=True, text=True, timeout=60)
        assert r.returncode == 0, r.stderr
    st = _status(cfg)
    assert st["agent"]["state"] == "stopped" and st["agent"]["reason"] == "stopped cleanly"
    assert st["targets"][0]["state"] == "up"
