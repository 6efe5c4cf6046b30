"""The unit file passes systemd's own checks and keeps the hardening the docs promise."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

UNIT = Path(__file__).resolve().parents[1] / "systemd" / "slaproof.service"


def test_unit_has_required_settings() -> None:
    text = UNIT.read_text()
    for line in ("Type=notify", "StateDirectory=slaproof", "AmbientCapabilities=CAP_NET_RAW", "NoNewPrivileges=yes",
                 "ProtectSystem=strict", "ProtectHome=yes", "PrivateTmp=yes", "Restart=on-failure", "WatchdogSec="):
        assert line in text, line


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="systemd-analyze not installed (apt install systemd)")
def test_systemd_analyze_verify(tmp_path: Path) -> None:
    exe = Path(sys.executable).with_name("slaproof")
    unit = tmp_path / "slaproof.service"
    unit.write_text(UNIT.read_text().replace("/opt/slaproof/.venv/bin/slaproof", str(exe)))
    p = subprocess.run(["systemd-analyze", "verify", str(unit)], capture_output=True, text=True, timeout=60)
    assert p.returncode == 0, p.stderr
    assert "slaproof.service" not in p.stderr, p.stderr


RESPONDER = UNIT.with_name("slaproof-responder.service")


def test_responder_unit_requires_a_token_file_and_drops_privileges() -> None:
    text = RESPONDER.read_text()
    for line in ("EnvironmentFile=/etc/slaproof/responder.env", "serve --bandwidth --listen", "DynamicUser=yes",
                 "CapabilityBoundingSet=\n", "NoNewPrivileges=yes", "ProtectSystem=strict"):
        assert line in text, line


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="systemd-analyze not installed (apt install systemd)")
def test_systemd_analyze_verify_responder(tmp_path: Path) -> None:
    exe = Path(sys.executable).with_name("slaproof")
    env = tmp_path / "responder.env"
    env.write_text("SLAPROOF_RESPONDER_TOKEN=test\n")
    unit = tmp_path / "slaproof-responder.service"
    unit.write_text(RESPONDER.read_text().replace("/opt/slaproof/.venv/bin/slaproof", str(exe))
                    .replace("/etc/slaproof/responder.env", str(env)))
    p = subprocess.run(["systemd-analyze", "verify", str(unit)], capture_output=True, text=True, timeout=60)
    assert p.returncode == 0, p.stderr
    assert "slaproof-responder.service" not in p.stderr, p.stderr
