"""The dashboard in a real headless Chromium, after a real netns outage: the overview lists every
target with the right state (names that try to inject script shown as text), the chart renders
without console errors, the report form downloads a zip whose manifest and proof verify."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import urllib.request
import zipfile
from pathlib import Path
from typing import Any

import pytest

from agent.proof.offline import verify_bundle
from tests.support.browser import CHROMEDRIVER, CHROMIUM, chromium
from tests.support.netns import requires_netns, test_host
from tests.support.servers import tcp_listener
from tests.support.wait import wait_until

EXE = [sys.executable, "-m", "agent.cli"]
EVIL = ["<script>alert(1)</script>", "\"'><img src=x onerror=alert(2)>"]
DOCS = Path(__file__).parent.parent / "docs"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _status(cfg: Path) -> dict[str, Any]:
    p = subprocess.run([*EXE, "status", "-c", str(cfg), "--json"], capture_output=True, text=True, timeout=60)
    return json.loads(p.stdout) if p.returncode == 0 else {}


def _down(cfg: Path) -> bool:
    st = _status(cfg)
    return any(t["name"] == "ns-vps" and t["incident"] == "outage" for t in st.get("targets", []))


def _served(port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=2) as r:
            return r.status == 200
    except OSError:
        return False


@pytest.mark.skipif(CHROMIUM is None or CHROMEDRIVER is None, reason="chromium and chromium-driver are not installed (scripts/setup.sh)")
@requires_netns
@pytest.mark.root
def test_dashboard_in_chromium_after_a_netns_outage(config_file: Any, tmp_path: Path) -> None:
    from selenium.common.exceptions import NoAlertPresentException
    from selenium.webdriver.common.by import By

    port = free_port()
    with test_host(42) as host, tcp_listener() as tcp:
        targets = [{"name": "ns-vps", "address": host.peer_ip, "interval_s": 1, "provider": "Example <b>Cloud</b>",
                    "checks": [{"kind": "icmp", "count": 1, "timeout_s": 0.5}]}]
        targets += [{"name": n, "address": "127.0.0.1", "interval_s": 1, "checks": [{"kind": "tcp", "port": tcp.port}]} for n in EVIL]
        cfg = config_file(targets, batch_s=0.2, heartbeat_s=2, evidence_on_incident=True, checkpoints={"every_minutes": 0.05})
        agent = subprocess.Popen([*EXE, "run", "-c", str(cfg)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        dash: subprocess.Popen[bytes] | None = None
        try:
            wait_until(lambda: len(_status(cfg).get("targets", [])) == 3 and all(t["state"] == "up" for t in _status(cfg)["targets"]),
                       "every target up", timeout_s=30)
            with (tmp_path / "dashboard.log").open("wb") as dash_log:
                dash = subprocess.Popen([*EXE, "serve", "--dashboard", "-c", str(cfg), "--dashboard-listen", f"127.0.0.1:{port}"],
                                        stdout=dash_log, stderr=dash_log)
            wait_until(lambda: _served(port), "the dashboard to answer", timeout_s=30)
            host.link_down()
            wait_until(lambda: _down(cfg), "the outage to be an incident", timeout_s=30)
            with chromium(tmp_path / "profile", tmp_path / "downloads") as driver:
                base = f"http://127.0.0.1:{port}/"

                def overview_states() -> dict[str, str]:
                    driver.get(base)
                    rows = driver.find_elements(By.CSS_SELECTOR, "table.targets tbody tr")
                    return {r.find_element(By.CSS_SELECTOR, "td a").text: r.find_element(By.CSS_SELECTOR, ".state").text for r in rows}

                wait_until(lambda: overview_states() == {"ns-vps": "down", EVIL[0]: "up", EVIL[1]: "up"}, "the overview's states",
                           timeout_s=30)
                assert "outage since" in driver.find_element(By.CSS_SELECTOR, "tr.st-down").text
                assert driver.find_elements(By.CSS_SELECTOR, "img") == [] and driver.find_elements(By.CSS_SELECTOR, "main script") == []
                with pytest.raises(NoAlertPresentException):
                    driver.switch_to.alert.text  # noqa: B018  # an injected alert() would be open here
                for width in (390, 1280):
                    driver.set_window_size(width, 900)
                    driver.get(base)
                    driver.save_screenshot(str(tmp_path / f"overview-{width}.png"))
                    if os.environ.get("SLAPROOF_DOCS_SCREENSHOTS"):
                        driver.save_screenshot(str(DOCS / f"dashboard-overview-{width}.png"))
                driver.get(base + "target?name=ns-vps&range=24h")
                svg = driver.find_element(By.CSS_SELECTOR, "figure.chart svg")
                assert svg.size["width"] > 300 and len(driver.find_elements(By.CSS_SELECTOR, "figure.chart svg rect")) > 10
                assert "outage" in driver.find_element(By.CSS_SELECTOR, "article.incident h3").text
                assert "Example <b>Cloud</b>" in driver.find_element(By.CSS_SELECTOR, "p.sub").text  # shown, not parsed
                if os.environ.get("SLAPROOF_DOCS_SCREENSHOTS"):
                    driver.save_screenshot(str(DOCS / "dashboard-target-1280.png"))
                driver.get(base + "target?name=" + urllib.request.quote(EVIL[1], safe="") + "&range=7d")
                assert driver.find_element(By.CSS_SELECTOR, "h1").text == EVIL[1]
                severe = [e for e in driver.get_log("browser") if e["level"] == "SEVERE" and "favicon" not in e["message"]]
                assert severe == []
                host.link_up()
                driver.get(base + "report")
                day = driver.find_element(By.NAME, "to").get_attribute("value")
                driver.get(base + f"report.zip?from={day}&to={day}&lang=en")
                downloads = tmp_path / "downloads"
                wait_until(lambda: list(downloads.glob("*.zip")) and not list(downloads.glob("*.crdownload")),
                           "the zip to download", timeout_s=120)
        finally:
            host.link_up()
            for p in (dash, agent):
                if p is not None:
                    p.terminate()
                    p.wait(60)
    (zpath,) = downloads.glob("*.zip")
    with zipfile.ZipFile(zpath) as z:
        z.extractall(tmp_path / "unzipped")
    (folder,) = (tmp_path / "unzipped").iterdir()
    ok, lines = verify_bundle(folder)
    assert ok, "\n".join(lines)
    assert {"report.pdf", "report.html", "measurements.csv", "summary.json", "manifest.json"} <= {p.name for p in folder.iterdir()}
