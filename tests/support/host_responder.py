"""`slaproof serve --host` as its own process, optionally inside a control group, on loopback.

Why a process of its own: a cgroup limits processes, and the figures must be
what the real command measures. The responder's log goes to a file (no pipe
to drain or close); its URL is read from the log line it prints on start.
"""

from __future__ import annotations

import os
import re
import shlex
import signal
import subprocess
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from tests.support.wait import wait_until

REPO = Path(__file__).resolve().parents[2]
TOKEN = "host-test-token-0123456789"
_URL = re.compile(r"responder on (http://127\.0\.0\.1:\d+)")


@dataclass
class Responder:
    url: str
    proc: subprocess.Popen[bytes]
    log: Path


@contextmanager
def host_responder(tmp: Path, args: Sequence[str] = (), *, prefix: str = "") -> Iterator[Responder]:
    """Start ``slaproof serve --host`` (with ``prefix`` run by the shell first, e.g. joining a cgroup)."""
    log = tmp / "responder.log"
    cmd = [sys.executable, "-m", "agent.cli", "serve", "--host", "--listen", "127.0.0.1:0", *args]
    line = (prefix + "; " if prefix else "") + "exec " + shlex.join(cmd)
    env = {**os.environ, "SLAPROOF_RESPONDER_TOKEN": TOKEN, "PYTHONPATH": str(REPO)}
    with log.open("wb") as out:
        proc = subprocess.Popen(["sh", "-c", line], stdout=out, stderr=subprocess.STDOUT, cwd=REPO, env=env)
    try:
        found: list[str] = []

        def started() -> bool:
            m = _URL.search(log.read_text(errors="replace"))
            if m:
                found.append(m.group(1))
            if proc.poll() is not None:
                raise AssertionError(f"the responder exited ({proc.returncode}): {log.read_text(errors='replace')}")
            return bool(m)

        wait_until(started, "the responder's start line", timeout_s=30)
        yield Responder(found[0], proc, log)
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGINT)
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
