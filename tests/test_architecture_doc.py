"""docs/architecture.md stays true: every dotted name and every folder it cites exists.

The page walks one measurement through the code naming each function; a rename that forgets the
page would leave a newcomer reading about code that is gone."""
from __future__ import annotations

import importlib
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PAGE = ROOT / "docs" / "architecture.md"
DOTTED = re.compile(r"`((?:agent|probes|reports)(?:\.[A-Za-z_][A-Za-z0-9_]*)+)")
FOLDER = re.compile(r"`((?:agent|probes|reports)(?:/[a-z_]+)*/)`")


def _resolve(dotted: str) -> object:
    parts = dotted.split(".")
    for cut in range(len(parts), 0, -1):
        try:
            obj: object = importlib.import_module(".".join(parts[:cut]))
        except ModuleNotFoundError:
            continue
        for attr in parts[cut:]:
            obj = getattr(obj, attr)
        return obj
    raise ModuleNotFoundError(dotted)


def test_every_dotted_name_on_the_page_exists() -> None:
    names = sorted(set(DOTTED.findall(PAGE.read_text(encoding="utf-8"))))
    assert len(names) >= 20, names  # the function-by-function walk names at least this many
    missing = []
    for name in names:
        try:
            _resolve(name)
        except (ModuleNotFoundError, AttributeError):
            missing.append(name)
    assert missing == []


def test_every_folder_on_the_page_exists() -> None:
    folders = sorted(set(FOLDER.findall(PAGE.read_text(encoding="utf-8"))))
    assert "agent/store/" in folders and "reports/analysis/" in folders
    assert [f for f in folders if not (ROOT / f).is_dir()] == []
