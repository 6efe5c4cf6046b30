"""`slaproof report`, `sla`, `letter` end to end on a synthetic history with a known ground truth."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from agent.store import Store
from tests.support.history import write_history
from tests.support.report_fixture import same_json, validate_summary

EXE = [sys.executable, "-m", "agent.cli"]
START = datetime(2026, 11, 2, 16, 0, tzinfo=UTC)  # 2026-11-03 00:00 Asia/Shanghai


def sp(*args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*EXE, *args], capture_output=True, text=True, timeout=timeout)


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """Two days at 60 s: a 47-min outage, a 30-min partial, a local outage (control down too), a 200-min agent gap."""
    from tests.conftest import make_config

    d = tmp_path_factory.mktemp("report")
    cfg = make_config(d / "c.toml", [
        {"name": "vps", "address": "127.0.0.1", "provider": "ExampleCloud <b>bold</b>", "interval_s": 60,
         "sla": {"preset": "gce-single-instance"}, "monthly_fee": 20.0, "currency": "USD", "service_id": "i-0abc",
         "checks": [{"kind": "icmp"}, {"kind": "http", "url": "http://127.0.0.1/"}]},
        {"name": "ctl", "address": "127.0.0.2", "control": True, "interval_s": 60,
         "checks": [{"kind": "icmp"}, {"kind": "http", "url": "http://127.0.0.1/"}]},
    ], timezone="Asia/Shanghai", vantage="test bench", network="loopback")
    store = Store.open(f"sqlite:///{d / 'state' / 'slaproof.db'}")
    n = 2880
    p, c = ["u"] * n, ["u"] * n
    p[100:147] = ["D"] * 47
    p[600:630] = ["P"] * 30
    p[900:910] = ["D"] * 10
    c[900:910] = ["D"] * 10
    p[2000:2200] = ["."] * 200
    c[2000:2200] = ["."] * 200
    write_history(store, d / "state", {"vps": ("".join(p), 60), "ctl": ("".join(c), 60)}, START,
                  runs=[(0, 2000 * 60), (2200 * 60, n * 60)])
    store.close()
    out = d / "out"
    r = sp("report", "-c", str(cfg), "--from", "2026-11-03", "--to", "2026-11-04", "--out", str(out))
    assert r.returncode == 0, r.stderr
    return {"cfg": cfg, "out": out, "dir": d, "summary": json.loads((out / "summary.json").read_text())}


def test_summary_holds_the_ground_truth(world: dict[str, Any]) -> None:
    s = world["summary"]
    assert s["period"] == {"from": "2026-11-02T16:00:00.000000Z", "to": "2026-11-04T16:00:00.000000Z", "timezone": "Asia/Shanghai",
                           "interim": False}
    vps = next(t for t in s["targets"] if t["name"] == "vps")
    assert vps["downtime_s"] == 47 * 60
    assert vps["partial_s"] == 30 * 60
    assert vps["local_s"] == 10 * 60
    assert vps["no_data_s"] == 200 * 60
    observed = (2880 - 200 - 10) * 60  # neither no data nor local
    assert vps["coverage_pct"] == pytest.approx(100 * observed / (2880 * 60), abs=1e-6)
    assert vps["sla"]["coverage_pct"] == vps["coverage_pct"]  # one coverage
    assert vps["availability_pct"] == pytest.approx(100 * (observed - 47 * 60) / observed)
    kinds = [(i["kind"], i["start"], i["duration_s"], i["duration_min_s"], i["duration_max_s"]) for i in vps["incidents"]]
    assert ("outage", "2026-11-02T17:40:00.000000Z", 2820.0, 2760.0, 2880.0) in kinds
    assert any(k[0] == "partial" and k[2] == 1800.0 for k in kinds)
    assert any(k[0] == "local" for k in kinds)
    assert vps["latency_ms"]["p50"] == 20.0 and vps["latency_ms"]["count"] == 2880 - 200 - 47 - 10
    assert vps["loss_pct"] == pytest.approx(100 * 57 / 2680)
    assert vps["sla"]["verdict"] == "breached" and vps["sla"]["credit_amount"] == "2.00"
    assert s["agent"]["vantage"] == "test bench"
    # The failing HTTP response inside each provider incident is quoted from its row.
    partial = next(i for i in vps["incidents"] if i["kind"] == "partial")
    (resp,) = [e for e in partial["evidence"] if e["type"] == "http_response"]
    assert resp["summary"].startswith("HTTP 503 at 2026-11-03T02:00:00.000000Z (HTTP 503, expected 200-399)") and "server: <b>nginx</b>" in resp["summary"]
    assert "body: <h1>503 Service Unavailable</h1>" in resp["summary"]
    local = next(i for i in vps["incidents"] if i["kind"] == "local")
    assert not any(e["type"] == "http_response" for e in local["evidence"])


def test_summary_of_a_real_report_fits_the_schema_and_the_model(world: dict[str, Any]) -> None:
    """summary.json as `slaproof report` wrote it: valid against docs/summary.schema.json, and it reads
    into the report model and writes back unchanged."""
    from reports.render.model_json import report_from_json, report_to_json

    summary = world["summary"]
    validate_summary(summary)
    assert same_json(report_to_json(report_from_json(summary)), summary)
    assert summary["targets"][0]["sla"]["verdict"] == "breached"


def test_quoted_response_is_escaped_in_html(world: dict[str, Any]) -> None:
    html = (world["out"] / "report.html").read_text()
    assert "&lt;h1&gt;503 Service Unavailable" in html and "<h1>503" not in html and "<b>nginx" not in html


def test_chinese_report_says_the_sla_reasoning_in_chinese(world: dict[str, Any]) -> None:
    out = world["dir"] / "zh"
    r = sp("report", "-c", str(world["cfg"]), "--from", "2026-11-03", "--to", "2026-11-04", "--lang", "zh",
           "--format", "html", "--out", str(out))
    assert r.returncode == 0, r.stderr
    html = (out / "report.html").read_text()
    assert "无数据的时间从周期中排除" in html and "监测端自身网络中断的时间不计入" in html
    assert "no-data rule" not in html and "excluded" not in html


def test_a_failing_renderer_is_an_error_and_no_manifest(world: dict[str, Any], tmp_path: Path,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    """The renderer is a forked process: its failure reaches the command as a plain error."""
    import reports.render.charts
    from agent.config import load_config
    from agent.core.errors import SlaproofError
    from reports.build.bundle import write_bundle

    def boom(*_a: Any, **_k: Any) -> Any:
        raise ValueError("no room to draw")

    monkeypatch.setattr(reports.render.charts, "make_charts", boom)
    settings, _ = load_config(world["cfg"])
    store = Store.open(settings.database_url(), migrate=False)
    with pytest.raises(SlaproofError, match=r"drawing report\.pdf/report\.html failed: ValueError: no room to draw"):
        write_bundle(settings, store, START, START + timedelta(days=1), None, ["json", "html"], "en", tmp_path / "out")
    assert not (tmp_path / "out" / "manifest.json").exists()


def test_manifest_verifies_and_detects_a_changed_file(world: dict[str, Any], tmp_path: Path) -> None:
    out: Path = world["out"]
    m = json.loads((out / "manifest.json").read_text())
    assert {f for f in m["files"] if not f.startswith("proof/")} == {"summary.json", "measurements.csv", "report.pdf", "report.html"}
    # History written without an agent key: the bundle says so, and cannot be verified on its own.
    assert {"proof/proof.json", "proof/statement.json"} <= set(m["files"])
    r = sp("verify", "--bundle", str(out))
    assert r.returncode == 1 and "covered by no signature" in r.stdout
    assert m["rows_used"] == 2 * 2 * 2680
    r = sp("verify", "-c", str(world["cfg"]), "--manifest", str(out / "manifest.json"))
    assert r.returncode == 0, r.stdout
    assert "report.pdf: ok" in r.stdout and "matches the database" in r.stdout
    copy = tmp_path / "b"
    shutil.copytree(out, copy)
    (copy / "measurements.csv").write_text((copy / "measurements.csv").read_text().replace("timeout", "ok", 1))
    r = sp("verify", "-c", str(world["cfg"]), "--manifest", str(copy / "manifest.json"))
    assert r.returncode == 1 and "measurements.csv: CHANGED" in r.stdout


def test_csv_has_every_row(world: dict[str, Any]) -> None:
    lines = (world["out"] / "measurements.csv").read_text().splitlines()
    assert len(lines) == 1 + 2 * 2 * 2680
    assert lines[0].startswith("ts,target,check,ok,rtt_ms")


@pytest.mark.skipif(shutil.which("pdftotext") is None, reason="pdftotext not installed (apt install poppler-utils)")
def test_pdf_holds_the_figures(world: dict[str, Any]) -> None:
    text = subprocess.run(["pdftotext", "-layout", str(world["out"] / "report.pdf"), "-"], capture_output=True, text=True, timeout=60).stdout
    assert "01:40:00 CST" in text and "17:40:00 UTC" in text  # outage start, display zone with UTC beside
    assert "47 min" in text
    assert "ExampleCloud <b>bold</b>" in text
    html = (world["out"] / "report.html").read_text()
    assert "<b>bold</b>" not in html and "&lt;b&gt;bold&lt;/b&gt;" in html


def test_bad_input_exits_2(world: dict[str, Any]) -> None:
    cfg = str(world["cfg"])
    r = sp("report", "-c", cfg, "--from", "yesterday", "--to", "2026-11-04")
    assert r.returncode == 2 and "--from 'yesterday': not a date" in r.stderr
    r = sp("report", "-c", cfg, "--from", "2025-01-01", "--to", "2025-01-02", "--out", str(world["dir"] / "empty"))
    assert r.returncode == 2 and "the period is empty" in r.stderr
    r = sp("report", "-c", cfg, "--from", "2026-11-03", "--to", "2026-11-04", "--target", "nope")
    assert r.returncode == 2 and "--target nope: not in the config" in r.stderr
    r = sp("report", "-c", cfg, "--from", "2026-11-03", "--to", "2026-11-04", "--format", "docx")
    assert r.returncode == 2 and "--format 'docx'" in r.stderr


def test_sla_json_and_text(world: dict[str, Any]) -> None:
    r = sp("sla", "-c", str(world["cfg"]), "--from", "2026-11-03", "--to", "2026-11-04", "--json")
    assert r.returncode == 0, r.stderr
    (res,) = json.loads(r.stdout)
    for key in ("target", "preset", "uptime_target_pct", "uptime_measured_pct", "counted_downtime_s", "excluded_downtime_s",
                "verdict", "credit_pct", "credit_amount", "claim_deadline", "terms"):
        assert key in res, key
    assert res["target"] == "vps" and res["preset"] == "gce-single-instance" and res["verdict"] == "breached"
    assert res["counted_downtime_s"] == 2820
    r = sp("sla", "-c", str(world["cfg"]), "--month", "2026-11")
    assert r.returncode == 0, r.stderr
    assert "vps" in r.stdout
    r = sp("sla", "-c", str(world["cfg"]), "--month", "2026-13")
    assert r.returncode == 2 and "--month '2026-13'" in r.stderr


def test_letter_cites_the_bundle(world: dict[str, Any]) -> None:
    out = world["dir"] / "letter"
    r = sp("letter", "-c", str(world["cfg"]), "--month", "2026-11", "--target", "vps", "--out", str(out))
    assert r.returncode == 0, r.stderr
    text = (out / "letter-en.md").read_text()
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["files"]["report.pdf"]["sha256"] in text
    assert "i-0abc" in text and "2026-11-02" in text
    # Drafted from the bundle's own summary: its figures and its interim flag.
    summary = json.loads((out / "summary.json").read_text())
    subject = text.splitlines()[0]
    assert ("interim" in subject) == summary["period"]["interim"]
    assert "- partial outage: from" in text  # every provider incident, not only outages
    assert "The web service (HTTP) on its own failed for 1 h 17 min (4620 s) in total" in text  # 47 + 30 min
