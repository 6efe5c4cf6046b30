"""Draw the pictures of a report that README.md shows (docs/img/): the generated month of the tests
(tests/support/month.py) rendered as the CLI renders it, its PDF's first pages (pdftoppm) and its HTML
in headless Chromium at a phone's width (390 px) and a desktop's (1280 px).

Usage: .venv/bin/python scripts/report_images.py [OUT_DIR]   (default docs/img; needs poppler-utils,
chromium and chromium-driver: SLAPROOF_WITH_TESTS=1 bash scripts/setup.sh installs them)
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from agent.config import load_config  # noqa: E402
from agent.store import Store  # noqa: E402
from reports.build.bundle import write_bundle  # noqa: E402
from tests.support.browser import chromium  # noqa: E402
from tests.support.month import END, NOW, START, build_month  # noqa: E402

SHOTS = ((390, 2600, "report-html-390.png"), (1280, 1700, "report-html-1280.png"))
PAGES = (1, 3, 5)  # the claim; a target's figures and SmokePing chart; the first incident card


def bundle(work: Path, lang: str) -> Path:
    settings, _ = load_config(build_month(work) if not (work / "config.toml").exists() else work / "config.toml")
    store = Store.open(settings.database_url())
    try:
        write_bundle(settings, store, START, END, None, ["pdf", "html", "json"], lang, work / lang, now=NOW)
    finally:
        store.close()
    return work / lang


def html_shots(html: Path, out: Path, suffix: str = "") -> list[Path]:
    made = []
    with tempfile.TemporaryDirectory() as tmp, chromium(Path(tmp) / "profile", Path(tmp) / "downloads") as driver:
        for width, height, name in SHOTS:
            driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride",
                                   {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": width < 600})
            driver.get(html.resolve().as_uri())
            path = out / name.replace(".png", f"{suffix}.png")
            driver.save_screenshot(str(path))
            made.append(path)
    return made


def pdf_pages(pdf: Path, out: Path, suffix: str, pages: tuple[int, ...]) -> list[Path]:
    """report-pdf[-zh]-page<N>.png for each page N."""
    made = []
    for n in pages:
        path = out / f"report-pdf{suffix}-page{n}"
        subprocess.run(["pdftoppm", "-r", "72", "-png", "-singlefile", "-f", str(n), "-l", str(n), str(pdf), str(path)],
                       check=True, timeout=300)
        made.append(path.with_suffix(".png"))
    return made


def main() -> int:
    out = Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "docs" / "img"
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        made = []
        for lang, suffix in (("en", ""), ("zh", "-zh")):
            folder = bundle(work, lang)
            made += pdf_pages(folder / "report.pdf", out, suffix, PAGES if lang == "en" else (1,))
            if lang == "en":
                made += html_shots(folder / "report.html", out)
    for path in made:
        print(path.relative_to(ROOT) if path.is_relative_to(ROOT) else path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
