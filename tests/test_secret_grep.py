"""Secrets never leave the config: a full run (agent, report in every format, export, status,
probe, verify) and every file it leaves, grepped for each secret the config holds."""

from __future__ import annotations

import shutil
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from tests.support.servers import Reply, closed_port, http_server

EXE = [sys.executable, "-m", "agent.cli"]
SECRETS = ("PWhttp1a2b", "TOKq3c4d", "CUSTOMval7g8h", "PWclosed9i0j", "BWtok5e6f", "TOKENuser4k5l")


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*EXE, *args], capture_output=True, text=True, timeout=180)


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("pdftotext") is None, reason="needs poppler-utils (pdftotext) to read the PDF's text")
def test_no_output_of_a_full_run_holds_a_secret(config_file: Any, tmp_path: Path) -> None:
    port = closed_port()
    with http_server() as web:
        # The server even echoes a secret back in its error page: the stored excerpt must not keep it.
        web.default = Reply(status=503, body=b"<h1>denied</h1> token=TOKq3c4d was refused")
        cfg = config_file([{"name": "svc", "address": "127.0.0.1", "interval_s": 1, "checks": [
            {"kind": "http", "url": web.url("/status?token=TOKq3c4d&custom_param=CUSTOMval7g8h&plain=1").replace(
                "http://", "http://svcuser:PWhttp1a2b@")},
            {"kind": "http", "url": f"http://u2:PWclosed9i0j@127.0.0.1:{port}/", "timeout_s": 1.0},
            {"kind": "http", "url": f"http://TOKENuser4k5l@127.0.0.1:{port}/x", "timeout_s": 1.0},
            {"kind": "bandwidth", "url": f"http://127.0.0.1:{port}/download", "token": "BWtok5e6f", "interval_s": 3600},
        ]}], log_level="DEBUG", secret_names=["custom_param"], batch_s=0.2)
        started = datetime.now(UTC)
        outputs: dict[str, str] = {}
        p = run("run", "-c", str(cfg), "--duration", "3.5")
        assert p.returncode == 0, p.stderr
        outputs["run"] = p.stdout + p.stderr
        p = run("probe", "-c", str(cfg), "--json", "svc")
        outputs["probe"] = p.stdout + p.stderr
    frm = (started - timedelta(minutes=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    to = (datetime.now(UTC) + timedelta(minutes=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    rep = tmp_path / "report"
    for name, args in {
        "report": ("report", "-c", str(cfg), "--from", frm, "--to", to, "--out", str(rep)),
        "export-jsonl": ("export", "-c", str(cfg), "--from", frm, "--to", to),
        "export-csv": ("export", "-c", str(cfg), "--from", frm, "--to", to, "--format", "csv"),
        "status": ("status", "-c", str(cfg)),
        "verify": ("verify", "-c", str(cfg)),
    }.items():
        p = run(*args)
        assert p.returncode == 0, (name, p.stderr)
        outputs[name] = p.stdout + p.stderr
    assert "denied" in outputs["export-jsonl"] and "svcuser" not in outputs["export-jsonl"]
    for f in sorted(rep.rglob("*")):
        if f.is_file():
            outputs[f"report/{f.relative_to(rep)}"] = f.read_bytes().decode("utf-8", "replace")
    outputs["report.pdf text"] = subprocess.run(["pdftotext", "-enc", "UTF-8", str(rep / "report.pdf"), "-"],
                                                capture_output=True, text=True, check=True, timeout=60).stdout
    for f in sorted((tmp_path / "state").rglob("*")):
        if f.is_file():
            outputs[f"state/{f.relative_to(tmp_path / 'state')}"] = f.read_bytes().decode("latin-1")
    assert "report.html" in " ".join(outputs) and any(k.startswith("state/slaproof.db") for k in outputs)
    leaks = [(where, s) for where, text in outputs.items() for s in SECRETS if s in text]
    assert not leaks, leaks
