"""A bad config is refused before anything starts, naming the file, the key and the fix."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from agent.config import load_config, parse_config
from agent.core.errors import ConfigError

ROOT = Path(__file__).resolve().parents[1]
GOOD = '[[targets]]\nname = "a"\naddress = "127.0.0.1"\nchecks = [{kind = "icmp"}]\n'


def refuse(text: str) -> str:
    with pytest.raises(ConfigError) as e:
        parse_config(text, Path("/etc/slaproof/x.toml"))
    return str(e.value)


def test_example_config_loads_and_targets_are_loopback() -> None:
    s, _ = load_config(ROOT / "config.example.toml")
    assert [t.name for t in s.targets] == ["loopback", "loopback-control"]
    assert all(t.address.startswith("127.") for t in s.targets)
    assert s.targets[1].control


def test_unknown_key_named_with_file_and_path() -> None:
    msg = refuse('[agent]\nlog_levl = "DEBUG"\n' + GOOD)
    assert "/etc/slaproof/x.toml" in msg and "agent.log_levl: unknown key" in msg


def test_bad_type_names_target_and_value() -> None:
    msg = refuse('[[targets]]\nname = "web"\naddress = "127.0.0.1"\nchecks = [{kind = "tcp", port = "ssh"}]\n')
    assert "targets[0] (name 'web').checks[0].port" in msg and "'ssh'" in msg


def test_duplicate_target_name() -> None:
    assert "duplicate target name 'a'" in refuse(GOOD + GOOD)


def test_bad_url_and_unknown_kind() -> None:
    msg = refuse('[[targets]]\nname = "w"\naddress = "h"\nchecks = [{kind = "http", url = "ftp://x"}, {kind = "smtp"}]\n')
    assert "checks[0].url" in msg and "not an http:// or https:// URL" in msg
    assert "checks[1]: unknown check kind 'smtp'" in msg


def test_bad_toml_and_missing_file(tmp_path: Path) -> None:
    assert "not valid TOML" in refuse("[[targets]\n")
    with pytest.raises(ConfigError, match="no such file; write one with 'slaproof init"):
        load_config(tmp_path / "nope.toml")


def test_bad_timezone() -> None:
    assert "unknown time zone 'Mars/Olympus'" in refuse('[agent]\ntimezone = "Mars/Olympus"\n' + GOOD)


def test_environment_overrides_file(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SLAPROOF_AGENT__LOG_LEVEL", "DEBUG")
    s = parse_config('[agent]\nlog_level = "INFO"\n' + GOOD, Path("x"))
    assert s.agent.log_level == "DEBUG"


def test_cli_exits_2_with_message(tmp_path: Path) -> None:
    cfg = tmp_path / "c.toml"
    cfg.write_text('[agent]\ninterval_s = "soon"\n' + GOOD)
    p = subprocess.run([sys.executable, "-m", "agent.cli", "probe", "--config", str(cfg)], capture_output=True, text=True, timeout=60)
    assert p.returncode == 2
    assert f"{cfg}: invalid configuration" in p.stderr and "agent.interval_s" in p.stderr
    assert "Traceback" not in p.stderr
